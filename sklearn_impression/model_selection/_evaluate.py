"""Run an estimator under a named protocol and collect CCC per dimension."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from .._flat import check_targets
from .._frames import DyadicFrames
from .._results import ResultMixin
from ._describe import _ids, describe_data
from ._enrolment import (
    EnrolmentSplit,
    apply_offsets,
    enrol,
    enrolment_masks,
)
from ._protocols import (
    PaperFrameSplit,
    RecordingGroupKFold,
    _select,
    get_protocol,
)
from ._scores import _target_names, ccc_by_dimension, ccc_by_receiver

__all__ = ["ProtocolResult", "evaluate_protocol"]


def _take(X, indices):
    if isinstance(X, DyadicFrames):
        return X.subset(indices)
    return [X[i] for i in indices]


def _estimator_name(estimator):
    if isinstance(estimator, Pipeline):
        return type(estimator.steps[-1][1]).__name__
    return type(estimator).__name__


def _as_2d_list(predictions, counts, n_outputs):
    if len(predictions) != len(counts):
        raise ValueError(f"the estimator predicted {len(predictions)} recordings, "
                         f"expected {len(counts)}")
    out = []
    for i, (p, n) in enumerate(zip(predictions, counts, strict=True)):
        p = np.asarray(p, dtype=np.float64)
        if p.ndim == 1:
            p = p[:, np.newaxis]
        if p.shape != (n, n_outputs):
            raise ValueError(
                f"recording {i}: the estimator predicted shape {p.shape}, expected "
                f"{(n, n_outputs)}"
            )
        out.append(p)
    return out


@dataclass(repr=False)
class ProtocolResult(ResultMixin):
    """Scores of one estimator under one protocol.

    Produced by :func:`evaluate_protocol`. Every number comes with the protocol, the
    data description and the seed that produced it.

    Attributes
    ----------
    protocol : str
        ``"paper"``, ``"receivers"``, ``"stimuli"`` or ``"receivers+enrol"``.
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
        (``n_test_frames`` then counts the scored frames only).
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


def _log(verbose, message):
    if verbose:
        print(message, file=sys.stderr, flush=True)


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
    protocol : {"paper", "receivers", "stimuli", "receivers+enrol"} or protocol \
object, default="receivers"
        With ``"receivers+enrol"`` the first ``enrol_seconds`` of each test
        receiver's recordings are cut (:func:`head_seconds`) and passed to the
        fitted model's ``adapt`` (through the Pipeline's earlier steps for a
        Pipeline); a model without ``adapt`` gets the mean error over those
        seconds added to its predictions per receiver (offset calibration).
        Those frames are then left out of every score (``frame_indices`` says
        which frames were scored).
    n_splits : int, default=5
        Folds of the grouped protocols.
    random_state : int or None, default=0
        Seed of the paper protocol's shuffle; also recorded in the result. The
        estimator's own seed is its ``random_state`` parameter.
    test_size, valid_size : float, default=0.1
        Paper protocol fractions.
    enrol_seconds : float, default=60
        Enrolment seconds per test receiver of ``"receivers+enrol"``.
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
    receivers = _ids(X, "receiver")
    predictions = [None] * len(X)
    frame_indices = [None] * len(X)
    folds, fold_ccc, estimators = [], [], []
    valid_ccc = None

    if isinstance(proto, PaperFrameSplit):
        frames, final = _paper_inputs(estimator, X, y)
        masks = proto.frame_masks(frames.frame_counts)
        (Xtr, ytr), (Xva, yva), (Xte, yte) = (_select(frames, y, m) for m in masks)
        t0 = time.perf_counter()
        model = clone(final).fit(Xtr, ytr)
        fit_time = time.perf_counter() - t0
        t0 = time.perf_counter()
        pred = _as_2d_list(model.predict(Xte), Xte.frame_counts, n_outputs)
        predict_time = time.perf_counter() - t0
        if len(Xva):
            pva = _as_2d_list(model.predict(Xva), Xva.frame_counts, n_outputs)
            valid_ccc = ccc_by_dimension(yva, pva, target_names)
        tested = [i for i, m in enumerate(masks[2]) if m.any()]
        for i, p in zip(tested, pred, strict=True):
            predictions[i] = p
            frame_indices[i] = np.flatnonzero(masks[2][i])
        fold_ccc.append(ccc_by_dimension(yte, pred, target_names))
        folds.append({
            "n_train_recordings": len(Xtr), "n_train_frames": Xtr.n_frames,
            "n_valid_frames": Xva.n_frames if len(Xva) else 0,
            "n_test_recordings": len(Xte), "n_test_frames": Xte.n_frames,
            "fit_time": round(fit_time, 3), "predict_time": round(predict_time, 3),
        })
        if return_estimators:
            estimators.append(model)
        _log(verbose, f"[paper] fit {fit_time:.1f} s, test CCC "
             + ", ".join(f"{k} {v:.3f}" for k, v in fold_ccc[-1].items()))
    elif isinstance(proto, RecordingGroupKFold):
        splits = list(proto.split(X))
        enrolling = isinstance(proto, EnrolmentSplit)
        if enrolling:  # checked before any training, not after a fold's fit
            enrol_masks = enrolment_masks(X, proto.enrol_seconds)
            for k, (_, test) in enumerate(splits):
                if not any((~enrol_masks[i]).any() for i in test):
                    raise ValueError(
                        f"enrol_seconds={proto.enrol_seconds:g} leaves no frame to "
                        f"score in fold {k + 1}: its test receivers have no more "
                        "data than that")
        for k, (train, test) in enumerate(splits):
            t0 = time.perf_counter()
            model = clone(estimator).fit(_take(X, train), [y[i] for i in train])
            fit_time = time.perf_counter() - t0
            Xte = _take(X, test)
            counts = [y[i].shape[0] for i in test]
            scored = [None] * len(test)
            enrol_info = {}
            if enrolling:  # timed on its own (enrol_time), not as prediction
                scored, enrol_info = _enrol_fold(model, Xte, [y[i] for i in test],
                                                 proto.enrol_seconds)
                offsets = enrol_info.pop("offsets")
            t0 = time.perf_counter()
            pred = _as_2d_list(model.predict(Xte), counts, n_outputs)
            if enrolling:
                pred = apply_offsets(offsets, _ids(Xte, "receiver"), pred)
            predict_time = time.perf_counter() - t0
            kept = [j for j, idx in enumerate(scored) if idx is None or idx.size]
            for j in kept:
                i = test[j]
                predictions[i] = _target_part(pred[j], scored[j])
                frame_indices[i] = scored[j]
            fold_ccc.append(ccc_by_dimension(
                [_target_part(y[test[j]], scored[j]) for j in kept],
                [predictions[test[j]] for j in kept], target_names))
            folds.append({**enrol_info,
                "n_train_recordings": len(train),
                "n_train_frames": int(sum(y[i].shape[0] for i in train)),
                "n_test_recordings": len(test),
                "n_test_frames": int(sum(
                    counts[j] if scored[j] is None else scored[j].size
                    for j in range(len(test)))),
                "fit_time": round(fit_time, 3),
                "predict_time": round(predict_time, 3),
            })
            if return_estimators:
                estimators.append(model)
            _log(verbose, f"[{proto.name}] fold {k + 1}/{len(splits)}: fit "
                 f"{fit_time:.1f} s, CCC " + ", ".join(
                     f"{n} {v:.3f}" for n, v in fold_ccc[-1].items()))
    else:  # pragma: no cover - get_protocol only returns the two kinds
        raise TypeError(f"unsupported protocol {proto!r}")

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
        valid_ccc=valid_ccc,
        receiver_ccc=receiver_ccc,
        folds=folds,
        wall_time=round(time.perf_counter() - start, 3),
        predictions=predictions,
        frame_indices=frame_indices,
        estimators=estimators if return_estimators else None,
    )


def _enrol_fold(model, X_test, y_test, seconds):
    """Enrol ``model`` on the test receivers' first ``seconds``.

    Only the enrolment frames' targets are read (:func:`enrol`). Returns the
    scored frame indices per test recording and a dict with the offsets
    (``None`` when the model enrolled itself), the enrolment frame count and
    seconds.
    """
    masks = enrolment_masks(X_test, seconds)
    t0 = time.perf_counter()
    offsets = enrol(model, X_test, y_test, seconds, masks)
    info = {"offsets": offsets,
            "n_enrol_frames": int(sum(m.sum() for m in masks)),
            "enrol_time": round(time.perf_counter() - t0, 3)}
    return [np.flatnonzero(~m) for m in masks], info


def _target_part(target, indices):
    return target if indices is None else target[indices]


def _paper_inputs(estimator, X, y):
    if isinstance(X, DyadicFrames):
        return X, estimator
    if isinstance(estimator, Pipeline) and len(estimator.steps) > 1:
        frames = clone(estimator[:-1]).fit_transform(X, y)
        if isinstance(frames, DyadicFrames):
            return frames, estimator.steps[-1][1]
    raise TypeError(
        "the paper protocol splits label-rate frames: pass X as DyadicFrames, or a "
        "Pipeline whose steps before the last turn the recordings into DyadicFrames "
        f"(got {type(estimator).__name__} on {type(X).__name__})"
    )
