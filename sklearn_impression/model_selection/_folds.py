"""The fold loops behind :func:`evaluate_protocol`, one per protocol family.

Each ``run_*`` function fits and scores the folds of one protocol and writes
what it finds into a :class:`FoldScores`; ``evaluate_protocol`` then pools it.
The grouped families share :func:`_fold_loop` and differ only in how a fitted
model's test predictions are made (plain, after enrolment on the test
recordings' first seconds, or after enrolment on calibration recordings).
"""

from __future__ import annotations

import sys
import time

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from ..recordings._frames import DyadicFrames
from ..recordings._ids import group_ids, recording_ids
from ._enrolment import apply_offsets, enrol, enrolment_masks
from ._protocols import _select
from ._scores import ccc_by_dimension

__all__ = ["FoldScores", "run_crossed_enrol", "run_grouped", "run_paper",
           "run_receivers_enrol"]


def _take(X, indices):
    if isinstance(X, DyadicFrames):
        return X.subset(indices)
    return [X[i] for i in indices]


def _target_part(target, indices):
    return target if indices is None else target[indices]


def _log(verbose, message):
    if verbose:
        print(message, file=sys.stderr, flush=True)


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


class FoldScores:
    """What the folds of one evaluation collect (filled by the ``run_*``)."""

    def __init__(self, n_recordings, n_outputs, target_names, *,
                 keep_estimators=False, verbose=0):
        self.n_outputs = n_outputs
        self.target_names = target_names
        self.keep_estimators = keep_estimators
        self.verbose = verbose
        self.predictions = [None] * n_recordings
        self.frame_indices = [None] * n_recordings
        self.folds, self.fold_ccc, self.estimators = [], [], []
        self.valid_ccc = None


def run_paper(proto, estimator, X, y, out):
    """The paper protocol: one fit on the training frames, scored on the test
    frames (and the valid frames, ``valid_ccc``)."""
    names, n_outputs = out.target_names, out.n_outputs
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
        out.valid_ccc = ccc_by_dimension(yva, pva, names)
    tested = [i for i, m in enumerate(masks[2]) if m.any()]
    for i, p in zip(tested, pred, strict=True):
        out.predictions[i] = p
        out.frame_indices[i] = np.flatnonzero(masks[2][i])
    out.fold_ccc.append(ccc_by_dimension(yte, pred, names))
    out.folds.append({
        "n_train_recordings": len(Xtr), "n_train_frames": Xtr.n_frames,
        "n_valid_frames": Xva.n_frames if len(Xva) else 0,
        "n_test_recordings": len(Xte), "n_test_frames": Xte.n_frames,
        "fit_time": round(fit_time, 3), "predict_time": round(predict_time, 3),
    })
    if out.keep_estimators:
        out.estimators.append(model)
    _log(out.verbose, f"[paper] fit {fit_time:.1f} s, test CCC "
         + ", ".join(f"{k} {v:.3f}" for k, v in out.fold_ccc[-1].items()))


def _fold_loop(proto, splits, estimator, X, y, out, predict_fold):
    """Fit a clone per fold and score what ``predict_fold`` predicts.

    ``predict_fold(model, k, test)`` returns the test predictions (one array
    per test recording), the scored frame indices per test recording (``None``:
    all of them), a dict of enrolment facts that head the fold's entry, and the
    prediction seconds.
    """
    for k, (train, test) in enumerate(splits):
        t0 = time.perf_counter()
        model = clone(estimator).fit(_take(X, train), [y[i] for i in train])
        fit_time = time.perf_counter() - t0
        pred, scored, enrol_info, predict_time = predict_fold(model, k, test)
        kept = [j for j, idx in enumerate(scored) if idx is None or idx.size]
        for j in kept:
            i = test[j]
            out.predictions[i] = _target_part(pred[j], scored[j])
            out.frame_indices[i] = scored[j]
        out.fold_ccc.append(ccc_by_dimension(
            [_target_part(y[test[j]], scored[j]) for j in kept],
            [out.predictions[test[j]] for j in kept], out.target_names))
        out.folds.append({
            **enrol_info,
            "n_train_recordings": len(train),
            "n_train_frames": int(sum(y[i].shape[0] for i in train)),
            "n_test_recordings": len(test),
            "n_test_frames": int(sum(
                y[i].shape[0] if idx is None else idx.size
                for i, idx in zip(test, scored, strict=True))),
            "fit_time": round(fit_time, 3),
            "predict_time": round(predict_time, 3),
        })
        if out.keep_estimators:
            out.estimators.append(model)
        _log(out.verbose, f"[{proto.name}] fold {k + 1}/{len(splits)}: fit "
             f"{fit_time:.1f} s, CCC " + ", ".join(
                 f"{n} {v:.3f}" for n, v in out.fold_ccc[-1].items()))


def _predict(model, X_test, counts, n_outputs, offsets=None):
    """Predictions of the test recordings plus any per-receiver offsets, timed."""
    t0 = time.perf_counter()
    pred = _as_2d_list(model.predict(X_test), counts, n_outputs)
    if offsets is not None:
        pred = apply_offsets(offsets, recording_ids(X_test, "receiver"), pred)
    return pred, time.perf_counter() - t0


def _enrol_on(model, X_part, y_part, seconds):
    """Enrol ``model`` on the first ``seconds`` of each receiver of ``X_part``.

    Only those frames' targets are read (:func:`enrol`). Returns the enrolment
    masks, the offsets (``None`` when the model enrolled itself) and the facts
    recorded per fold (enrolment frames and seconds), timed apart from
    prediction.
    """
    masks = enrolment_masks(X_part, seconds)
    t0 = time.perf_counter()
    offsets = enrol(model, X_part, y_part, seconds, masks)
    info = {"n_enrol_frames": int(sum(m.sum() for m in masks)),
            "enrol_time": round(time.perf_counter() - t0, 3)}
    return masks, offsets, info


def run_grouped(proto, estimator, X, y, out):
    """``receivers``, ``stimuli``, ``receivers+stimuli``: whole test recordings
    predicted and scored."""
    def predict_fold(model, k, test):
        counts = [y[i].shape[0] for i in test]
        pred, seconds = _predict(model, _take(X, test), counts, out.n_outputs)
        return pred, [None] * len(test), {}, seconds

    _fold_loop(proto, list(proto.split(X)), estimator, X, y, out, predict_fold)


def run_receivers_enrol(proto, estimator, X, y, out):
    """``receivers+enrol``: each test receiver's first seconds enrol the fitted
    model and are not scored."""
    splits = list(proto.split(X))
    masks = enrolment_masks(X, proto.enrol_seconds)
    for k, (_, test) in enumerate(splits):  # before any training
        if not any((~masks[i]).any() for i in test):
            raise ValueError(
                f"enrol_seconds={proto.enrol_seconds:g} leaves no frame to "
                f"score in fold {k + 1}: its test receivers have no more "
                "data than that")

    def predict_fold(model, k, test):
        X_test = _take(X, test)
        head, offsets, info = _enrol_on(model, X_test, [y[i] for i in test],
                                        proto.enrol_seconds)
        counts = [y[i].shape[0] for i in test]
        pred, seconds = _predict(model, X_test, counts, out.n_outputs, offsets)
        return pred, [np.flatnonzero(~m) for m in head], info, seconds

    _fold_loop(proto, splits, estimator, X, y, out, predict_fold)


def run_crossed_enrol(proto, estimator, X, y, out):
    """``receivers+stimuli+enrol``: each test receiver's first seconds of
    training stimuli (their calibration recordings) enrol the fitted model; the
    unseen stimuli are scored in full."""
    splits = list(proto.split(X))
    calibration = [proto.calibration_indices(X, train, test)
                   for train, test in splits]
    receivers = group_ids(X, "receiver")
    for k, ((_, test), cal) in enumerate(zip(splits, calibration, strict=True)):
        enrolled = {receivers[i] for i in cal if y[i].shape[0]}
        missing = sorted({receivers[i] for i in test} - enrolled, key=str)
        if missing:  # before any training
            raise ValueError(
                f"protocol {proto.name!r}: fold {k + 1}: test receiver(s) "
                f"{', '.join(map(str, missing))} have no recording of a training "
                "stimulus to enrol on (no calibration frames)")

    def predict_fold(model, k, test):
        cal = calibration[k]
        _, offsets, info = _enrol_on(model, _take(X, cal), [y[i] for i in cal],
                                     proto.enrol_seconds)
        counts = [y[i].shape[0] for i in test]
        pred, seconds = _predict(model, _take(X, test), counts, out.n_outputs,
                                 offsets)
        return pred, [None] * len(test), info, seconds

    _fold_loop(proto, splits, estimator, X, y, out, predict_fold)


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
