"""New people and new content: CCC with and without 60 s of enrolment (issue 21).

For each generator (:func:`make_impression`, :func:`make_dyadic_drift`) and data
seed, the recordings are resampled and concatenated once, then every model is
fitted once per fold of three protocol families and scored on the fold's test
recordings; the enrolment variants reuse the fitted model (deep copies), so
a row "with enrolment" differs from its row without only by the enrolment:

``receivers`` (seen content)
    :class:`RecordingGroupKFold` by receiver: new people watching stimuli the
    training receivers annotated. Enrolled: each test receiver's first
    ``--enrol-seconds`` (recording order, :func:`head_seconds`) go to the
    enrolment and are not scored (the ``"receivers+enrol"`` protocol of
    :func:`evaluate_protocol`).
``receivers+stimuli`` (new content)
    :class:`CrossedGroupKFold`: new people watching stimuli nobody in training
    watched. Enrolled: each test receiver's first ``--enrol-seconds`` of their
    recordings of *training* stimuli (a calibration clip of known content) go
    to the enrolment; the unseen stimuli are scored in full (the
    ``"receivers+stimuli+enrol"`` protocol).
``stimuli``
    :class:`RecordingGroupKFold` by stimulus: the training people on new
    content.

Enrolment is the package's one rule (:func:`~sklearn_impression.
model_selection._enrolment.enrol`): a model with ``adapt`` enrols itself (the
network, ``adapt`` defaults, ``context`` = the recordings the clip was cut from);
any other model gets a per-receiver output offset, the mean error of its
predictions over the clip ("offset").

Rows: ``network`` (``CrossDomainRegressor`` with its defaults, ``--epochs``
epochs, ``random_state`` = the data seed, plus ``--params`` JSON), ``ridge``
(:class:`RidgeBaseline`), ``ridge_per_person`` (ridge with the network's
per-person steps: ReceiverNormalizer, label delay 1.8 s, smoothing 2 s) and,
on seen content, ``stimulus_mean`` (:class:`StimulusMeanBaseline`). Score: CCC
per dimension pooled over a fold's scored frames, averaged over folds; "mean"
averages competence and warmth.

Run (about 35 min on 2 cores for both generators and five seeds)::

    python benchmarks/bench_new_content.py --seeds 0 1 2 3 4 \\
        --out benchmarks/results/new_content.json

``--families receivers`` with ``--rows network`` on an older checkout gives the
before figures of a change (the script imports the new-content splitter only
when that family runs).
"""

import argparse
import copy
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_new_people import Adjusted, machine  # noqa: E402

NAMES = ("competence", "warmth")
FAMILIES = ("receivers", "receivers+stimuli", "stimuli")


def _rows(names, params, epochs, seed):
    from sklearn.pipeline import make_pipeline

    from sklearn_impression import CrossDomainRegressor
    from sklearn_impression.experiments import RidgeBaseline, StimulusMeanBaseline
    from sklearn_impression.preprocessing import ReceiverNormalizer

    build = {
        "network": lambda: CrossDomainRegressor(
            **{"max_epochs": epochs, "random_state": seed, **params}),
        "ridge": lambda: RidgeBaseline(alpha=1.0),
        "ridge_per_person": lambda: make_pipeline(
            ReceiverNormalizer(by="receiver"), Adjusted(RidgeBaseline(alpha=1.0),
                                                        45, 50)),
        "stimulus_mean": StimulusMeanBaseline,
    }
    return {name: build[name] for name in names}


def _splits(family, X, folds):
    from sklearn_impression.model_selection import RecordingGroupKFold

    if family == "receivers+stimuli":
        from sklearn_impression.model_selection import CrossedGroupKFold

        return list(CrossedGroupKFold(folds).split(X))
    by = "receiver" if family == "receivers" else "stimulus"
    return list(RecordingGroupKFold(by, folds).split(X))


def _fold_ccc(targets, predictions):
    from sklearn_impression.metrics import ccc_score

    return ccc_score(targets, predictions, multioutput="raw_values")


def _enrolled_predictions(model, family, X, y, train, test, seconds):
    """Predictions of the scored test frames after enrolment, and those frames."""
    from sklearn_impression.model_selection import enrolment_masks
    from sklearn_impression.model_selection._enrolment import apply_offsets, enrol

    model = copy.deepcopy(model)
    X_test = X.subset(test)
    y_test = [y[i] for i in test]
    if family == "receivers":
        masks = enrolment_masks(X_test, seconds)
        offsets = enrol(model, X_test, y_test, seconds, masks)
        pred = apply_offsets(offsets, X_test.receivers, model.predict(X_test))
        return ([t[~m] for t, m in zip(y_test, masks, strict=True)],
                [p[~m] for p, m in zip(pred, masks, strict=True)])
    # calibration recordings: the test receivers on training stimuli
    people = set(X_test.receivers)
    seen = {X.stimuli[i] for i in train}
    calib = [i for i in range(len(X))
             if X.receivers[i] in people and X.stimuli[i] in seen]
    X_cal = X.subset(calib)
    y_cal = [y[i] for i in calib]
    masks = enrolment_masks(X_cal, seconds)
    offsets = enrol(model, X_cal, y_cal, seconds, masks)
    pred = apply_offsets(offsets, X_test.receivers, model.predict(X_test))
    return y_test, pred


def run_job(generator, seed, args):
    import torch

    from sklearn_impression import UnknownReceiverWarning
    from sklearn_impression.datasets import make_dyadic_drift, make_impression
    from sklearn_impression.model_selection import describe_data
    from sklearn_impression.preprocessing import ModalityConcatenator, Resampler

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=UnknownReceiverWarning)
    make = {"impression": make_impression, "drift": make_dyadic_drift}[generator]
    data = make(args.receivers, args.stimuli, args.duration, random_state=seed)
    X = ModalityConcatenator().fit_transform(
        Resampler(nan_policy="interpolate").fit_transform(data.recordings))
    y = data.targets
    params = json.loads(args.params)
    out = {"generator": generator, "seed": seed,
           "data": describe_data(X, y, f"{make.__name__}({args.receivers}, "
                                       f"{args.stimuli}, {args.duration:g}, "
                                       f"random_state={seed})"),
           "scores": {}}
    for family in args.families:
        rows = [r for r in args.rows if r != "stimulus_mean" or family == "receivers"]
        builders = _rows(rows, params, args.epochs, seed)
        folds = {r: {"plain": [], "enrolled": []} for r in rows}
        fit_time = {r: 0.0 for r in rows}
        for train, test in _splits(family, X, args.folds):
            for name, build in builders.items():
                t0 = time.process_time()
                model = build().fit(X.subset(train), [y[i] for i in train])
                fit_time[name] += time.process_time() - t0
                y_test = [y[i] for i in test]
                folds[name]["plain"].append(
                    _fold_ccc(y_test, model.predict(X.subset(test))))
                if family != "stimuli":
                    folds[name]["enrolled"].append(_fold_ccc(*_enrolled_predictions(
                        model, family, X, y, train, test, args.enrol_seconds)))
        for name, parts in folds.items():
            for variant, scores in parts.items():
                if not scores:
                    continue
                mean = np.mean(scores, axis=0)
                out["scores"][f"{family}|{name}|{variant}"] = {
                    **dict(zip(NAMES, np.round(mean, 4).tolist(), strict=True)),
                    "mean": round(float(mean.mean()), 4),
                    "folds": np.round(scores, 4).tolist(),
                    "cpu_fit_seconds": round(fit_time[name], 1)}
        print(f"{generator} seed {seed} {family}: " + ", ".join(
            f"{k.split('|', 1)[1]} {v['mean']:.3f}" for k, v in out["scores"].items()
            if k.startswith(family + "|")), file=sys.stderr, flush=True)
    return out


def summarise(jobs, families, rows):
    """Mean over seeds per generator, protocol, row and variant."""
    summary = {}
    for gen in dict.fromkeys(j["generator"] for j in jobs):
        mine = [j for j in jobs if j["generator"] == gen]
        for key in mine[0]["scores"]:
            values = [j["scores"][key]["mean"] for j in mine]
            summary.setdefault(gen, {})[key] = {
                "mean_over_seeds": round(float(np.mean(values)), 4),
                "per_seed": values,
                **{n: round(float(np.mean([j["scores"][key][n] for j in mine])), 4)
                   for n in NAMES}}
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generators", nargs="+", default=["impression", "drift"],
                        choices=["impression", "drift"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--families", nargs="+", default=list(FAMILIES),
                        choices=FAMILIES)
    parser.add_argument("--rows", nargs="+", default=[
        "network", "ridge", "ridge_per_person", "stimulus_mean"])
    parser.add_argument("--params", default="{}",
                        help="JSON parameters of the network row")
    parser.add_argument("--receivers", type=int, default=8)
    parser.add_argument("--stimuli", type=int, default=8)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--enrol-seconds", type=float, default=60.0)
    parser.add_argument("--jobs", type=int, default=2,
                        help="parallel processes, one torch thread each")
    parser.add_argument("--out", default=None, help="write the JSON here too")
    args = parser.parse_args()
    start = time.perf_counter()
    jobs = Parallel(n_jobs=args.jobs)(
        delayed(run_job)(g, s, args) for g in args.generators for s in args.seeds)
    report = {
        "benchmark": "bench_new_content",
        "command": "python " + " ".join(sys.argv),
        "machine": machine(),
        "scoring": "CCC per dimension pooled over each fold's scored frames, "
                   "averaged over folds; mean of competence and warmth",
        "settings": {k: getattr(args, k) for k in (
            "generators", "seeds", "families", "rows", "params", "receivers",
            "stimuli", "duration", "folds", "epochs", "enrol_seconds")},
        "summary": summarise(jobs, args.families, args.rows),
        "runs": jobs,
        "wall_time": round(time.perf_counter() - start, 1),
    }
    try:
        from sklearn_impression import __version__ as version
    except ImportError:  # pragma: no cover
        version = None
    report["package_version"] = version
    text = json.dumps(report, indent=1)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
