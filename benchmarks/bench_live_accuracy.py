"""Live: what causal prediction costs, step by step (issue 25).

Leave-receivers-out (``GroupKFold`` by receiver) on both synthetic generators,
each seed's data generated once; per fold, two networks with the defaults
(at most ``--epochs`` epochs, early stopping on held-out stimuli) are trained:
one on offline-resampled features (``Resampler(nan_policy="interpolate")``),
one on causally resampled ones (``Resampler(method="causal")``). The test
receivers are then predicted

* ``offline``: the offline default (zero-phase resampling, each new person
  standardised with all of their recordings, centred smoothing);
* ``causal resampling``: only the resampling causal;
* ``running statistics``: only the per-person standardisation causal (running
  statistics over each new receiver's recordings in order, half-life
  ``--halflife`` s, started from ``--prior`` s of the training receivers'
  statistics: ``CausalRegressor``'s defaults);
* ``trailing window``: only the delay and smoothing causal;
* ``causal (all)``: the live pipeline, what ``LivePredictor`` streams.

With ``+ enrolment`` the first ``--enrol-seconds`` of each test receiver enrol
the model and are not scored; offline with the whole test recordings as
``context`` for the statistics (the offline protocol), causally with the
enrolment seconds only (live, nothing later exists yet). Scores: CCC per
dimension pooled over a fold's scored frames, averaged over folds, then over
competence and warmth; per seed and the mean over seeds.

``--protocol receivers+stimuli``: new people on new content instead
(``CrossedGroupKFold``: each fold's receivers on each fold's stimuli, trained
on the other receivers on the other stimuli); enrolment then reads the first
``--enrol-seconds`` of the test receivers' recordings of *training* stimuli
(a calibration clip; offline with those recordings whole as ``context``) and
every test frame is scored.

``--study normalisation`` adds, without enrolment, the running statistics'
other settings that were compared to choose those defaults (per recording or
per receiver, half-life, prior): run on seed 0 only, the choice was made
there, and the figures of all seeds come from the main run.

Run, one thread per process::

    python benchmarks/keep.py live_accuracy -- \\
        python benchmarks/bench_live_accuracy.py --seeds 0 1 2 3 4
    python benchmarks/keep.py live_normalisation -- \\
        python benchmarks/bench_live_accuracy.py --seeds 0 --study normalisation
"""

import argparse
import copy
import json
import os
import platform
import sys
import time

import numpy as np
from joblib import Parallel, delayed
from sklearn.model_selection import GroupKFold

VARIANTS = ("offline", "causal resampling", "running statistics",
            "trailing window", "causal (all)")
#: ``--study normalisation``: name -> (per recording?, half-life s, prior s).
STUDY = {
    "per recording, 60 s, no prior": (True, 60.0, 0.0),
    "per receiver, 60 s, no prior": (False, 60.0, 0.0),
    "per receiver, 600 s, no prior": (False, 600.0, 0.0),
    "per receiver, 60 s, prior 10 s": (False, 60.0, 10.0),
    "per receiver, 600 s, prior 10 s": (False, 600.0, 10.0),
    "per receiver, 600 s, prior 30 s": (False, 600.0, 30.0),
}


def _steps(model, rate, halflife, prior, running, trailing):
    """The CausalSteps CausalRegressor would use (seconds to frames)."""
    from sklearn_impression.regressor._causal import CausalSteps, population_prior

    moments = population_prior(model.listeners_.statistics)
    weight = prior * rate
    return CausalSteps(0, max(halflife * rate, 1.0), running=running,
                       trailing=trailing,
                       prior=None if moments is None or not weight else
                       (*moments, weight))


def _per_recording(X):
    """``X`` with each recording its own receiver (no statistics carried)."""
    return type(X)(X.emitter_blocks, X.receiver_blocks, X.emitter_index,
                   X.emitter_feature_names, X.receiver_feature_names,
                   receivers=[f"{r}#{i}" for i, r in enumerate(X.receivers)],
                   stimuli=X.stimuli, emitter_rows=X.emitter_rows,
                   label_rate=X.label_rate)


def _score(y_true, y_pred):
    from sklearn_impression.metrics import ccc_score

    return [float(ccc_score(np.concatenate(y_true)[:, j],
                            np.concatenate(y_pred)[:, j])) for j in range(2)]


def _fold(X_off, X_cau, y, train, test, seed, args, enrol_on=None):
    """Scores of every variant on one fold, without and with enrolment."""
    from sklearn_impression import CrossDomainRegressor
    from sklearn_impression.model_selection import head_seconds
    from sklearn_impression.model_selection._enrolment import enrolment_masks
    from sklearn_impression.regressor._adapt import adapt
    from sklearn_impression.regressor._predict import predict_traces

    def fit(X):
        model = CrossDomainRegressor(max_epochs=args.epochs, random_state=seed)
        return model.fit(X[train], [y[i] for i in train])

    models = {"offline": fit(X_off), "causal": fit(X_cau)}
    rate = X_off.label_rate

    def causal_steps(which, running, trailing, halflife=args.halflife,
                     prior=args.prior):
        return _steps(models[which], rate, halflife, prior, running, trailing)

    plan = {  # variant: (model, features, causal steps or None)
        "offline": ("offline", X_off, None),
        "causal resampling": ("causal", X_cau, None),
        "running statistics": ("offline", X_off, causal_steps("offline", True, False)),
        "trailing window": ("offline", X_off, causal_steps("offline", False, True)),
        "causal (all)": ("causal", X_cau, causal_steps("causal", True, True)),
    }
    y_test = [y[i] for i in test]
    out = {"plain": {}, "enrolled": {}}
    for variant, (which, X, steps) in plan.items():
        X_test = X[test]
        pred = predict_traces(models[which], X_test, causal=steps)
        out["plain"][variant] = _score(y_test, pred)
        model = copy.deepcopy(models[which])
        X_enrol = X_test if enrol_on is None else X[enrol_on]
        y_enrol = y_test if enrol_on is None else [y[i] for i in enrol_on]
        X_head, y_head = head_seconds(X_enrol, y_enrol, args.enrol_seconds)
        live = steps is not None and steps.running
        adapt(model, X_head, y_head, context=None if live else X_enrol,
              calibration="auto", lag_range=2.0, steps=30, lr=0.1, l2=0.01,
              causal=steps)
        if enrol_on is not None and live:  # live: the clip came first
            pred = predict_traces(model, X[np.concatenate([enrol_on, test])],
                                  causal=steps)[len(enrol_on):]
        else:
            pred = predict_traces(model, X_test, causal=steps)
        masks = (enrolment_masks(X_test, args.enrol_seconds) if enrol_on is None
                 else [np.zeros(len(t), dtype=bool) for t in y_test])
        scored = [(t[~m], p[~m]) for t, p, m in zip(y_test, pred, masks,
                                                     strict=True) if (~m).any()]
        out["enrolled"][variant] = _score([t for t, _ in scored],
                                          [p for _, p in scored])
    if args.study == "normalisation":
        out["study"] = {}
        for name, (alone, halflife, prior) in STUDY.items():
            X_test = _per_recording(X_off[test]) if alone else X_off[test]
            pred = predict_traces(models["offline"], X_test, causal=causal_steps(
                "offline", True, False, halflife, prior))
            out["study"][name] = _score(y_test, pred)
    return out


def run(generator, seed, args):
    import torch

    from sklearn_impression import ModalityConcatenator, Resampler
    from sklearn_impression.datasets import make_dyadic_drift, make_impression

    torch.set_num_threads(1)
    make = {"impression": make_impression, "drift": make_dyadic_drift}[generator]
    data = make(args.receivers, args.stimuli, args.duration, random_state=seed)
    features = {}
    for name, resampler in (("offline", Resampler(nan_policy="interpolate")),
                            ("causal", Resampler(method="causal",
                                                 nan_policy="interpolate"))):
        recordings = resampler.fit_transform(data.recordings)
        features[name] = ModalityConcatenator().fit_transform(recordings)
    X_off, X_cau = features["offline"], features["causal"]
    receivers = np.array(X_off.receivers)
    folds = []
    t0 = time.perf_counter()
    if args.protocol == "receivers":
        splits = [(train, test, None) for train, test in
                  GroupKFold(args.folds).split(receivers, groups=receivers)]
    else:
        from sklearn_impression.model_selection import CrossedGroupKFold

        stimuli = np.array(X_off.stimuli)
        splits = []
        for train, test in CrossedGroupKFold(args.folds).split(X_off):
            clip = np.flatnonzero(np.isin(receivers, receivers[test])
                                  & np.isin(stimuli, stimuli[train]))
            splits.append((train, test, clip))
    for train, test, clip in splits:
        folds.append(_fold(X_off, X_cau, data.targets, train, test, seed, args,
                           clip))
    scores = {part: {v: float(np.mean([np.mean(f[part][v]) for f in folds]))
                     for v in VARIANTS} for part in ("plain", "enrolled")}
    if args.study:
        scores["study"] = {v: float(np.mean([np.mean(f["study"][v]) for f in folds]))
                           for v in STUDY}
    by_dimension = {part: {v: np.mean([f[part][v] for f in folds], axis=0).tolist()
                           for v in VARIANTS} for part in ("plain", "enrolled")}
    return {"generator": generator, "seed": seed, "scores": scores,
            "by_dimension": by_dimension, "folds": folds,
            "seconds": round(time.perf_counter() - t0, 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generators", nargs="+", default=["impression", "drift"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--receivers", type=int, default=10)
    parser.add_argument("--stimuli", type=int, default=4)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--enrol-seconds", type=float, default=60.0)
    parser.add_argument("--halflife", type=float, default=600.0)
    parser.add_argument("--prior", type=float, default=30.0)
    parser.add_argument("--study", choices=["normalisation"], default=None)
    parser.add_argument("--protocol", choices=["receivers", "receivers+stimuli"],
                        default="receivers")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    t0 = time.perf_counter()
    runs = Parallel(n_jobs=args.jobs)(
        delayed(run)(g, s, args) for g in args.generators for s in args.seeds)
    summary = {}
    for g in args.generators:
        mine = [r for r in runs if r["generator"] == g]
        summary[g] = {part: {v: float(np.mean([r["scores"][part][v] for r in mine]))
                             for v in VARIANTS} for part in ("plain", "enrolled")}
        if args.study:
            summary[g]["study"] = {v: float(np.mean([r["scores"]["study"][v]
                                                     for r in mine])) for v in STUDY}
    report = {
        "benchmark": "live_accuracy",
        "settings": {**vars(args), "protocol": args.protocol,
                     "scoring": "CCC pooled per fold, mean over folds, then over "
                                "competence and warmth; enrolled: enrolment frames "
                                "not scored"},
        "variants": list(VARIANTS),
        "summary": summary,
        "runs": runs,
        "python": platform.python_version(),
        "wall_time": round(time.perf_counter() - t0, 1),
    }
    json.dump(report, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
