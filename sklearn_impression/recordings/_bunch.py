"""The Bunch that every generator and loader of recordings returns."""

import numpy as np
from sklearn.utils import Bunch

from ._constants import TARGET_NAMES

__all__ = ["recordings_bunch"]


def recordings_bunch(recordings, targets, receivers, stimuli, *, frame_rate, descr,
                     return_X_y=False, **fields):
    """``(recordings, targets)``, or the Bunch of a set of recordings.

    Parameters
    ----------
    recordings : list of Recording
    targets : list of ndarray of shape (n_frames_i, 2)
    receivers, stimuli : sequence
        One id per recording.
    frame_rate : float
        The label rate in Hz.
    descr : str
        The Bunch's ``DESCR``.
    return_X_y : bool, default=False
        Return ``(recordings, targets)`` instead of the Bunch.
    **fields
        The generator's or loader's own fields, placed after ``stimuli``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``recordings``, ``targets``, ``receivers`` and ``stimuli`` (arrays),
        ``**fields``, ``target_names``, ``frame_rate`` (float), ``DESCR``.
    (recordings, targets) : tuple if ``return_X_y`` is True.

    Examples
    --------
    >>> from sklearn_impression.recordings._bunch import recordings_bunch
    >>> data = recordings_bunch([], [], [], [], frame_rate=25, descr="none",
    ...                         spans=[])
    >>> list(data)  # doctest: +NORMALIZE_WHITESPACE
    ['recordings', 'targets', 'receivers', 'stimuli', 'spans', 'target_names',
     'frame_rate', 'DESCR']
    """
    if return_X_y:
        return recordings, targets
    return Bunch(
        recordings=recordings,
        targets=targets,
        receivers=np.asarray(receivers),
        stimuli=np.asarray(stimuli),
        **fields,
        target_names=TARGET_NAMES,
        frame_rate=float(frame_rate),
        DESCR=descr,
    )
