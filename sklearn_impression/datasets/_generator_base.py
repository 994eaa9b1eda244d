"""What both synthetic generators share: their common parameters, stimulus
lengths in label frames, sample times and seeding.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

#: ``validate_params`` constraints of the parameters both generators take.
_GENERATOR_CONSTRAINTS = {
    "n_receivers": [Interval(Integral, 1, None, closed="left")],
    "n_stimuli": [Interval(Integral, 1, None, closed="left")],
    "stimulus_duration": [Interval(Real, 0, None, closed="neither"), "array-like",
                          None],
    "frame_rate": [Interval(Real, 0, None, closed="neither")],
    "noise": [Interval(Real, 0, None, closed="left")],
    "return_X_y": ["boolean"],
    "random_state": ["random_state"],
}


def _resolve_frames(stimulus_duration, stimulus_frames, n_stimuli, frame_rate):
    """Label frames per stimulus, from frame counts or durations (24 s if neither)."""
    if stimulus_frames is not None:
        if stimulus_duration is not None:
            raise ValueError("give stimulus_duration or stimulus_frames, not both")
        frames = np.broadcast_to(np.asarray(stimulus_frames), (n_stimuli,))
        if frames.dtype.kind not in "iu" or frames.min() < 1:
            raise ValueError(
                "stimulus_frames must hold integers >= 1 (label frames per stimulus)"
            )
        return frames.astype(np.intp)
    seconds = 24.0 if stimulus_duration is None else stimulus_duration
    seconds = np.asarray(seconds, dtype=float)
    if seconds.ndim > 1 or (seconds.ndim == 1 and seconds.shape[0] != n_stimuli):
        raise ValueError(
            f"stimulus_duration must be a number or a sequence of {n_stimuli} "
            f"durations in seconds, got shape {seconds.shape}"
        )
    seconds = np.broadcast_to(seconds, (n_stimuli,))
    frames = np.rint(seconds * frame_rate)
    if not np.all(np.isfinite(frames)) or frames.min() < 1:
        raise ValueError(
            "stimulus_duration must give >= 1 label frame per stimulus, got "
            f"{seconds.tolist()} s at {frame_rate} Hz"
        )
    return frames.astype(np.intp)


def _sample_times(n_frames, frame_rate, rate, min_samples):
    """Times in seconds of the samples at ``rate`` of a stimulus of ``n_frames``
    label frames (at least ``min_samples`` of them)."""
    return np.arange(max(int(round(n_frames / frame_rate * rate)), min_samples)) / rate


def _seeded_rng(random_state):
    """A :class:`numpy.random.Generator` seeded from ``random_state``."""
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    return np.random.default_rng(seed)
