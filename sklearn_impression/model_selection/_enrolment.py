"""Enrolment of new receivers: cutting their first seconds, and the protocol.

``"receivers+enrol"`` is leave-receivers-out where the first ``enrol_seconds`` of
each test receiver's data (in recording order) are given to the fitted model for
enrolment and never scored. Torch-free.
"""

from __future__ import annotations

import inspect
import numbers

import numpy as np
from sklearn.pipeline import Pipeline

from ..recordings._flat import check_targets
from ..recordings._frames import DyadicFrames
from ..recordings._ids import group_ids
from ..recordings._recording import Stream
from ._protocols import RecordingGroupKFold

__all__ = ["EnrolmentSplit", "adapt_pipeline", "enrolment_masks", "head_seconds"]


def _frame_rate(X, i):
    if isinstance(X, DyadicFrames):  # label_rate: set by ModalityConcatenator
        if X.label_rate is None:
            raise ValueError(
                "enrolment seconds need the labels' rate, but these DyadicFrames "
                "have label_rate=None (recordings with different frame rates, or "
                "built by hand): pass label_rate to DyadicFrames")
        return float(X.label_rate)
    return float(getattr(X[i], "frame_rate", 25.0))


def _check_seconds(seconds):
    if (isinstance(seconds, bool) or not isinstance(seconds, numbers.Real)
            or not np.isfinite(seconds) or seconds <= 0):
        raise ValueError(f"enrol_seconds must be a positive number, got {seconds!r}")
    return float(seconds)


def enrolment_masks(X, seconds):
    """Which frames of every recording fall in its receiver's first ``seconds``.

    Recordings are walked in the order given; each receiver's first
    ``round(seconds * frame_rate)`` frames are marked, spanning recordings when
    the first is shorter.

    Parameters
    ----------
    X : sequence of Recording or DyadicFrames
        DyadicFrames count 25 frames per second.
    seconds : float

    Returns
    -------
    list of ndarray of bool
        One mask per recording, ``True`` on enrolment frames.

    Examples
    --------
    >>> from types import SimpleNamespace as R
    >>> X = [R(receiver="a", n_frames=30, frame_rate=25.0),
    ...      R(receiver="a", n_frames=30, frame_rate=25.0),
    ...      R(receiver="b", n_frames=30, frame_rate=25.0)]
    >>> [int(m.sum()) for m in enrolment_masks(X, 2)]
    [30, 20, 30]
    """
    seconds = _check_seconds(seconds)
    receivers = group_ids(X, "receiver")
    counts = (X.frame_counts if isinstance(X, DyadicFrames)
              else [int(r.n_frames) for r in X])
    left, masks = {}, []
    for i, (r, n) in enumerate(zip(receivers, counts, strict=True)):
        budget = left.setdefault(r, int(round(seconds * _frame_rate(X, i))))
        mask = np.zeros(int(n), dtype=bool)
        mask[:min(budget, int(n))] = True
        left[r] = budget - int(mask.sum())
        masks.append(mask)
    return masks


def _cut_recording(rec, n_frames, cache):
    streams = {}
    for name, stream in rec.streams.items():
        n = max(1, int(round(n_frames / rec.frame_rate * stream.rate)))
        key = (id(stream), n)
        if key not in cache:  # shared emitter streams stay shared
            cache[key] = (stream, Stream(np.asarray(stream.values)[:n], stream.rate,
                                         stream.channels))
        streams[name] = cache[key][1]
    return rec.replace(streams=streams, n_frames=int(n_frames))


def head_seconds(X, y, seconds):
    """The first ``seconds`` of every receiver's data, with their targets.

    Recordings are cut with :meth:`Recording.replace` (each stream keeps
    ``round(frames / frame_rate * rate)`` samples; emitter streams shared by
    several recordings stay shared) or, for DyadicFrames, with
    :meth:`DyadicFrames.select_frames`. Recordings with no frame in the head are
    left out. This is the enrolment part of the ``"receivers+enrol"`` protocol.

    Parameters
    ----------
    X : sequence of Recording or DyadicFrames
    y : sequence of ndarray of shape (n_frames_i, n_outputs)
    seconds : float

    Returns
    -------
    X_head : list of Recording or DyadicFrames
    y_head : list of ndarray

    Examples
    --------
    >>> from sklearn_impression.datasets import make_impression
    >>> data = make_impression(n_receivers=2, n_stimuli=2, stimulus_duration=4,
    ...                        random_state=0)
    >>> X_head, y_head = head_seconds(data.recordings, data.targets, 6)
    >>> [(r.receiver, r.n_frames) for r in X_head]
    [(0, 100), (0, 50), (1, 100), (1, 50)]
    >>> X_head[1].streams["receiver.physio"].n_samples
    512
    """
    y = check_targets(X, y)
    masks = enrolment_masks(X, seconds)
    keep = [i for i, m in enumerate(masks) if m.any()]
    y_head = [y[i][masks[i]] for i in keep]
    if isinstance(X, DyadicFrames):
        return X.select_frames(masks)[np.asarray(keep, dtype=np.intp)], y_head
    cache = {}
    X_head = [X[i] if masks[i].all() else
              _cut_recording(X[i], int(masks[i].sum()), cache) for i in keep]
    return X_head, y_head


def adapt_pipeline(pipeline, X, y, *, context=None, **adapt_params):
    """Enrol receivers in a fitted Pipeline whose last step has ``adapt``.

    The one-liner ``pipeline[-1].adapt(pipeline[:-1].transform(X), y)``: the
    earlier steps transform the enrolment recordings (and ``context``) as they
    do at predict time.

    Parameters
    ----------
    pipeline : Pipeline
        Fitted, ending in a :class:`~sklearn_impression.CrossDomainRegressor`.
    X : sequence of Recording
        The new receivers' labelled recordings (for example from
        :func:`head_seconds`).
    y : sequence of ndarray
    context : sequence of Recording, default=None
        Unlabelled recordings of the same receivers, typically those you will
        pass to ``predict`` (see ``CrossDomainRegressor.adapt``).
    **adapt_params
        Passed to ``adapt`` (``calibration``, ``steps``, ...).

    Returns
    -------
    pipeline
    """
    if not isinstance(pipeline, Pipeline):
        raise TypeError(f"adapt_pipeline needs a Pipeline, got "
                        f"{type(pipeline).__name__}")
    final = pipeline.steps[-1][1]
    if not hasattr(final, "adapt"):
        raise TypeError(f"the last step, {type(final).__name__}, has no adapt method")
    if context is not None:
        adapt_params["context"] = pipeline[:-1].transform(context)
    final.adapt(pipeline[:-1].transform(X), y, **adapt_params)
    return pipeline


def _takes_context(final):
    try:
        return "context" in inspect.signature(final.adapt).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        return False


def enrol(model, X, y, seconds, masks):
    """Enrol the receivers of ``X`` on their first ``seconds`` (the frames of
    ``masks``, :func:`enrolment_masks`) in a fitted model.

    A model (or Pipeline) whose final step has ``adapt`` enrols itself on those
    seconds (:func:`head_seconds`), with ``X`` as ``context`` when its ``adapt``
    takes one, and ``None`` is returned. Any other model gets an output offset
    per receiver: the mean error over the enrolment frames of its predictions of
    the whole recordings (the predictions that are scored, whatever a
    transductive step makes of the recordings passed together), returned as
    ``{receiver: offset}`` for :func:`apply_offsets`.
    """
    final = model.steps[-1][1] if isinstance(model, Pipeline) else model
    if not hasattr(final, "adapt"):
        return mean_residuals(group_ids(X, "receiver"), y, model.predict(X), masks)
    X_head, y_head = head_seconds(X, y, seconds)
    extra = {"context": X} if _takes_context(final) else {}
    if isinstance(model, Pipeline):
        adapt_pipeline(model, X_head, y_head, **extra)
    else:
        model.adapt(X_head, y_head, **extra)
    return None


def mean_residuals(receivers, targets, predictions, masks=None):
    """``{receiver: mean of target - prediction}`` over their (masked) frames."""
    residuals = {}
    for i, (r, t, p) in enumerate(zip(receivers, targets, predictions, strict=True)):
        t = np.asarray(t, dtype=np.float64)
        t = t.reshape(len(t), -1)
        p = np.asarray(p, dtype=np.float64).reshape(t.shape)
        if masks is not None:
            t, p = t[masks[i]], p[masks[i]]
        residuals.setdefault(r, []).append(t - p)
    return {r: np.concatenate(v).mean(axis=0) for r, v in residuals.items()}


def apply_offsets(offsets, receivers, predictions):
    """Add ``offsets[receiver]`` to each recording's predictions."""
    if offsets is None:
        return predictions
    return [np.asarray(p, dtype=np.float64).reshape(len(p), -1) + offsets[r]
            for r, p in zip(receivers, predictions, strict=True)]


class EnrolmentSplit(RecordingGroupKFold):
    """Leave-receivers-out with the first seconds of each test receiver enrolled.

    The folds are those of ``RecordingGroupKFold("receiver", n_splits)``. In
    :func:`~sklearn_impression.model_selection.evaluate_protocol` the first
    ``enrol_seconds`` of each test receiver's recordings (in the order given,
    see :func:`head_seconds`) go to the fitted model's ``adapt`` (or, for a model
    without one, such as ridge regression, fit an output offset per receiver:
    the mean error over those seconds) and are excluded from scoring. Predictions
    of the scored frames come from the whole recordings, so they may use the
    enrolment frames' features, never their labels.

    Parameters
    ----------
    n_splits : int, default=5
    enrol_seconds : float, default=60

    See Also
    --------
    CrossedEnrolmentSplit : Enrolment on seen stimuli, scored on unseen ones.

    Examples
    --------
    >>> from types import SimpleNamespace as R
    >>> X = [R(receiver=r, stimulus=s) for r in "abcd" for s in (1, 2)]
    >>> cv = EnrolmentSplit(n_splits=2, enrol_seconds=30)
    >>> [sorted({X[i].receiver for i in test}) for _, test in cv.split(X)]
    [['b', 'd'], ['a', 'c']]
    >>> cv.description.split(":")[0]
    'leave-receivers-out with enrolment'
    """

    name = "receivers+enrol"

    def __init__(self, n_splits=5, enrol_seconds=60.0):
        super().__init__("receiver", n_splits)
        self.enrol_seconds = enrol_seconds

    @property
    def description(self):
        """One line saying what the protocol does."""
        return (f"leave-receivers-out with enrolment: GroupKFold({self.n_splits}) by "
                f"receiver id; the first {self.enrol_seconds:g} s of each test "
                "receiver's data are given for enrolment (adapt, or an output "
                "offset) and not scored")

    def _check(self):
        super()._check()
        _check_seconds(self.enrol_seconds)

    def __repr__(self):
        return (f"EnrolmentSplit(n_splits={self.n_splits}, "
                f"enrol_seconds={self.enrol_seconds})")
