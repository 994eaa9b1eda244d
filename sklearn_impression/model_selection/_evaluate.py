"""Run an estimator under a named protocol and collect CCC per dimension."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from sklearn.pipeline import Pipeline

from ..recordings._flat import check_targets
from ..recordings._ids import recording_ids
from ..utils._results import ResultMixin
from ._crossed import CrossedEnrolmentSplit, CrossedGroupKFold
from ._describe import describe_data
from ._enrolment import EnrolmentSplit
from ._folds import (
    FoldScores,
    _target_part,
    run_crossed_enrol,
    run_grouped,
    run_paper,
    run_receivers_enrol,
)
from ._protocols import PaperFrameSplit, RecordingGroupKFold
from ._registry import get_protocol
from ._scores import _target_names, ccc_by_dimension, ccc_by_receiver

__all__ = ["ProtocolResult", "evaluate_protocol"]

#: The fold loop of each protocol family; the first class that matches wins.
_RUNNERS = (
    (PaperFrameSplit, run_paper),
    (EnrolmentSplit, run_receivers_enrol),
    (CrossedEnrolmentSplit, run_crossed_enrol),
    (RecordingGroupKFold, run_grouped),
    (CrossedGroupKFold, run_grouped),
)


def _estimator_name(estimator):
    if isinstance(estimator, Pipeline):
        return type(estimator.steps[-1][1]).__name__
    return type(estimator).__name__


@dataclass(repr=False)
class ProtocolResult(ResultMixin):
    """Scores of one estimator under one protocol.

    Produced by :func:`evaluate_protocol`. Every number comes with the protocol, the
    data description and the seed that produced it.

    Attributes
    ----------
    protocol : str
        One of :data:`PROTOCOLS`: ``"paper"``, ``"receivers"``, ``"stimuli"``,
        ``"receivers+enrol"``, ``"receivers+stimuli"`` or
        ``"receivers+stimuli+enrol"``.
    protocol_description : str
    estimator : str
        Class name of the (final) estimator.
    data : dict
        See :func:`describe_data`.
    random_state : int or None
    target_names : tuple of str
    ccc : dict
        CCC per dimension over all pooled test frames (every test frame of every
        fold; for the paper protocol the test part).
    ccc_fold_mean : dict
        CCC per dimension averaged over the folds.
    fold_ccc : list of dict
        CCC per dimension of each fold's test frames.
    valid_ccc : dict or None
        Paper protocol only: CCC on the valid part.
    receiver_ccc : dict
        Receiver id to ``{dimension: CCC, "n_frames": int}`` over that receiver's
        test frames.
    folds : list of dict
        Per fold: recordings and frames in train and test, fit and predict seconds;
        for ``"receivers+enrol"`` also ``n_enrol_frames`` and ``enrol_time``
        (``n_test_frames`` then counts the scored frames only), for
        ``"receivers+stimuli+enrol"`` too (the enrolment frames are then cut
        from the calibration recordings, which are never scored).
    wall_time : float
        Seconds for the whole evaluation.
    predictions : list of ndarray or None
        Per recording of the input, its test-frame predictions (``None`` if it was
        never tested).
    frame_indices : list of ndarray or None
        Per recording, which frames ``predictions`` covers (``None`` = all of them,
        the grouped protocols; the test frames for the paper protocol; the frames
        after the enrolment seconds for ``"receivers+enrol"``).
    estimators : list or None
        The fitted estimators, one per fold, when ``return_estimators=True``.
    """

    protocol: str
    protocol_description: str
    estimator: str
    data: dict
    random_state: object
    target_names: tuple
    ccc: dict
    ccc_fold_mean: dict
    fold_ccc: list
    valid_ccc: dict | None
    receiver_ccc: dict
    folds: list
    wall_time: float
    predictions: list | None = None
    frame_indices: list | None = None
    estimators: list | None = None

    def to_dict(self):
        """JSON-ready dictionary of everything but predictions and estimators."""
        return {
            "protocol": self.protocol,
            "protocol_description": self.protocol_description,
            "estimator": self.estimator,
            "data": dict(self.data),
            "random_state": self.random_state,
            "target_names": list(self.target_names),
            "ccc": dict(self.ccc),
            "ccc_fold_mean": dict(self.ccc_fold_mean),
            "valid_ccc": None if self.valid_ccc is None else dict(self.valid_ccc),
            "fold_ccc": [dict(f) for f in self.fold_ccc],
            "receiver_ccc": {str(k): dict(v) for k, v in self.receiver_ccc.items()},
            "folds": [dict(f) for f in self.folds],
            "wall_time": self.wall_time,
        }

    def to_markdown(self):
        """Markdown summary: protocol, data, seed, pooled and per-fold CCC."""
        names = self.target_names
        d = self.data
        lines = [
            f"**{self.estimator}**, protocol `{self.protocol}`: "
            f"{self.protocol_description}.",
            "",
            f"Data: {d['name']}, {d['n_recordings']} recordings, {d['n_frames']} "
            f"frames ({d['hours']} h), {d['n_receivers']} receivers, "
            f"{d['n_stimuli']} stimuli. Seed: {self.random_state}. "
            f"Wall time: {self.wall_time:.1f} s.",
            "",
            "| part | " + " | ".join(names) + " |",
            "| --- |" + " --- |" * len(names),
        ]
        for i, fold in enumerate(self.fold_ccc):
            lines.append(f"| fold {i + 1} | "
                         + " | ".join(f"{fold[n]:.3f}" for n in names) + " |")
        if self.valid_ccc is not None:
            lines.append("| valid | " + " | ".join(
                f"{self.valid_ccc[n]:.3f}" for n in names) + " |")
        lines.append("| pooled test | " + " | ".join(
            f"{self.ccc[n]:.3f}" for n in names) + " |")
        return "\n".join(lines) + "\n"

    def __repr__(self):
        scores = ", ".join(f"{k}={v:.3f}" for k, v in self.ccc.items())
        return (f"ProtocolResult(estimator={self.estimator!r}, "
                f"protocol={self.protocol!r}, {scores})")


def evaluate_protocol(estimator, X, y, protocol="receivers", *, n_splits=5,
                      random_state=0, test_size=0.1, valid_size=0.1,
                      enrol_seconds=60.0, data_name=None, target_names=None,
                      return_estimators=False, verbose=0):
    """Fit and score an estimator under a named protocol.

    Parameters
    ----------
    estimator : estimator
        Fitted per fold on a clone. For the grouped protocols any estimator whose
        ``predict`` returns one ``(n_frames_i, n_outputs)`` array per recording of
        ``X`` (a whole pipeline from recordings, or a regressor on DyadicFrames).
        For ``"paper"``, either an estimator on
        :class:`~sklearn_impression.DyadicFrames` with ``X`` a DyadicFrames, or a
        :class:`~sklearn.pipeline.Pipeline` whose last step takes DyadicFrames: its
        earlier steps (resampling, concatenation: per-recording transforms that
        learn nothing across recordings) are fitted and applied to all recordings
        once, then the frames are split.
    X : sequence of Recording or DyadicFrames
    y : sequence of ndarray of shape (n_frames_i, n_outputs)
    protocol : {"paper", "receivers", "stimuli", "receivers+enrol", \
"receivers+stimuli", "receivers+stimuli+enrol"} or protocol object, \
default="receivers"
        With ``"receivers+enrol"`` the first ``enrol_seconds`` of each test
        receiver's recordings are cut (:func:`head_seconds`) and passed to the
        fitted model's ``adapt`` (through the Pipeline's earlier steps for a
        Pipeline), with the test recordings as ``context``; a model without
        ``adapt`` gets the mean error over those seconds added to its
        predictions per receiver (offset calibration). Those frames are then
        left out of every score (``frame_indices`` says which frames were
        scored). ``"receivers+stimuli"`` holds out receivers and stimuli at once
        (:class:`CrossedGroupKFold`). With ``"receivers+stimuli+enrol"`` the
        enrolment seconds are cut the same way from each test receiver's
        recordings of *training* stimuli (the calibration recordings, also the
        ``context``), and the test recordings (unseen stimuli) are scored in
        full.
    n_splits : int, default=5
        Folds of the grouped protocols.
    random_state : int or None, default=0
        Seed of the paper protocol's shuffle; also recorded in the result. The
        estimator's own seed is its ``random_state`` parameter.
    test_size, valid_size : float, default=0.1
        Paper protocol fractions.
    enrol_seconds : float, default=60
        Enrolment seconds per test receiver of the ``+enrol`` protocols.
    data_name : str, default=None
        Name stated in the result.
    target_names : sequence of str, default=None
        Names of the outputs; ``("competence", "warmth")`` for two outputs.
    return_estimators : bool, default=False
        Keep the fitted estimator of each fold in ``result.estimators``.
    verbose : int, default=0
        Print one progress line per fold to stderr.

    Returns
    -------
    ProtocolResult

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_impression import DyadicFrames
    >>> from sklearn_impression.experiments import ConstantPredictor
    >>> rng = np.random.default_rng(0)
    >>> X = DyadicFrames([rng.normal(size=(40, 2))], [rng.normal(size=(40, 1))] * 4,
    ...                  [0] * 4, ["e0", "e1"], ["r0"], receivers=list("abcd"),
    ...                  stimuli=[0] * 4)
    >>> y = [rng.normal(size=(40, 2)) for _ in range(4)]
    >>> result = evaluate_protocol(ConstantPredictor(), X, y, "receivers", n_splits=2)
    >>> result.protocol, result.fold_ccc[0]
    ('receivers', {'competence': 0.0, 'warmth': 0.0})
    >>> sorted(result.receiver_ccc)
    ['a', 'b', 'c', 'd']
    """
    start = time.perf_counter()
    proto = get_protocol(protocol, n_splits, test_size=test_size,
                         valid_size=valid_size, random_state=random_state,
                         enrol_seconds=enrol_seconds)
    y = check_targets(X, y)
    n_outputs = y[0].shape[1] if y else 0
    target_names = _target_names(target_names, n_outputs)
    data = describe_data(X, y, data_name)
    receivers = recording_ids(X, "receiver")

    out = FoldScores(len(X), n_outputs, target_names,
                     keep_estimators=return_estimators, verbose=verbose)
    run = next((run for kind, run in _RUNNERS if isinstance(proto, kind)), None)
    if run is None:  # pragma: no cover - get_protocol returns only these kinds
        raise TypeError(f"unsupported protocol {proto!r}")
    run(proto, estimator, X, y, out)
    predictions, frame_indices = out.predictions, out.frame_indices
    fold_ccc = out.fold_ccc

    tested = [i for i, p in enumerate(predictions) if p is not None]
    y_test = [_target_part(y[i], frame_indices[i]) for i in tested]
    y_pred = [predictions[i] for i in tested]
    pooled = ccc_by_dimension(y_test, y_pred, target_names)
    receiver_ccc = ccc_by_receiver(y_test, y_pred, [receivers[i] for i in tested],
                                   target_names)
    return ProtocolResult(
        protocol=proto.name,
        protocol_description=proto.description,
        estimator=_estimator_name(estimator),
        data=data,
        random_state=random_state,
        target_names=target_names,
        ccc=pooled,
        ccc_fold_mean={n: float(np.mean([f[n] for f in fold_ccc]))
                       for n in target_names},
        fold_ccc=fold_ccc,
        valid_ccc=out.valid_ccc,
        receiver_ccc=receiver_ccc,
        folds=out.folds,
        wall_time=round(time.perf_counter() - start, 3),
        predictions=predictions,
        frame_indices=frame_indices,
        estimators=out.estimators if return_estimators else None,
    )
