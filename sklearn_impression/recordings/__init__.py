"""The data contract: :class:`Stream`, :class:`Recording`, :class:`DyadicFrames`.

A :class:`Recording` holds one receiver's session with one stimulus as named
streams at their own rates; :class:`DyadicFrames` holds recordings at the label
rate, split into the emitter's and the receiver's blocks. The private modules
hold the flat frames every estimator trains on, the CSV helpers of the released
layout and the names shared across the package. Torch-free.
"""

from ._frames import DyadicFrames
from ._recording import Recording, Stream

__all__ = ["DyadicFrames", "Recording", "Stream"]
