"""Evidence CrossDomainRegressor learns: leave-receivers-out CCC vs ridge (issue 4).

On :func:`~sklearn_impression.make_impression` data (default arguments apart from
the size; the generator is not made easier), resampled and concatenated once, every
model is scored with leave-receivers-out cross-validation (GroupKFold by receiver,
:func:`~sklearn_impression.model_selection.evaluate_protocol`): no person is in
training and test. CCC per dimension is given per fold and pooled over all test
frames, for

- the network with temporal context (``window`` frames, windows ``window // 2``
  apart; the receivers answer 0.5-3 s = 12-75 frames late, so one frame cannot see
  what the slider follows),
- the network at ``window=1`` (the paper's frame-level model), same epochs,
- ridge regression on the same frames (RidgeBaseline, alpha 1),
- the constant training mean (CCC 0 per fold by construction),
- the oracle: CCC of the generator's noise-free impression with the stepwise
  targets on the same test frames (what only the slider quantisation keeps
  below 1; the models do not know the receivers' offsets, scales and lags).

Run ``python benchmarks/bench_learning.py`` (about 5 minutes on a busy 2-core
machine) or ``--quick`` (tiny smoke run, < 1 minute). Prints JSON (machine,
versions, protocol, data size, seed, settings, per-fold and pooled CCC, wall times,
frames/s) on one line and a Markdown table; ``--save`` also writes the JSON to
``benchmarks/results/bench_learning[_quick].json``.
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import sklearn
import skorch
import torch

from sklearn_impression.datasets import make_impression
from sklearn_impression.experiments import ConstantPredictor, RidgeBaseline
from sklearn_impression.metrics import ccc_score
from sklearn_impression.model_selection import (
    RecordingGroupKFold,
    describe_data,
    evaluate_protocol,
)
from sklearn_impression.preprocessing import ModalityConcatenator, Resampler
from sklearn_impression.regressor import CrossDomainRegressor

NAMES = ("competence", "warmth")


def ccc(y_true, y_pred):
    values = ccc_score(y_true, y_pred, multioutput="raw_values")
    return {n: round(float(v), 4) for n, v in zip(NAMES, values, strict=True)}


def machine(threads):
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": threads,
        "sklearn": sklearn.__version__,
        "skorch": skorch.__version__,
        "numpy": np.__version__,
    }


def network_row(label, params, frames, targets, n_splits, epochs):
    t0 = time.perf_counter()
    model = CrossDomainRegressor.paper_preset(**params)
    result = evaluate_protocol(model, frames, targets, "receivers", n_splits=n_splits)
    wall = time.perf_counter() - t0
    fit_time = sum(f["fit_time"] for f in result.folds)
    train_frames = sum(f["n_train_frames"] for f in result.folds)
    return {
        "label": label,
        "params": params,
        "fold_ccc": [{n: round(f[n], 4) for n in NAMES} for f in result.fold_ccc],
        "ccc": {n: round(result.ccc[n], 4) for n in NAMES},
        "wall_time": round(wall, 2),
        "fit_time": round(fit_time, 2),
        "predict_time": round(sum(f["predict_time"] for f in result.folds), 2),
        "train_frames_per_s": round(train_frames * epochs / fit_time),
    }


def baseline_row(label, model, frames, targets, n_splits):
    t0 = time.perf_counter()
    result = evaluate_protocol(model, frames, targets, "receivers",
                               n_splits=n_splits)
    return {
        "label": label,
        "fold_ccc": [{n: round(f[n], 4) for n in NAMES} for f in result.fold_ccc],
        "ccc": {n: round(result.ccc[n], 4) for n in NAMES},
        "wall_time": round(time.perf_counter() - t0, 2),
    }


def oracle_row(data, frames, n_splits):
    cv = RecordingGroupKFold("receiver", n_splits)
    folds = [ccc([data.targets[i] for i in test], [data.impression[i] for i in test])
             for _, test in cv.split(frames)]
    return {"label": "oracle (noise-free impression)", "fold_ccc": folds,
            "ccc": ccc(data.targets, data.impression)}


def markdown(report):
    d, s = report["data"], report["settings"]
    lines = [
        f"Leave-receivers-out, GroupKFold({s['n_splits']}) by receiver; data "
        f"`{d['name']}`: {d['n_recordings']} recordings ({d['n_receivers']} "
        f"receivers x {d['n_stimuli']} stimuli), {d['n_frames']} frames "
        f"({d['hours']} h at 25 Hz), {d['n_emitter_features']} emitter + "
        f"{d['n_receiver_features']} receiver features; {s['epochs']} epochs; "
        f"{report['machine']['cpu_count']} CPUs, {s['threads']} torch thread(s); "
        f"total wall {report['wall_time']:.0f} s.",
        "",
        "| model | competence | warmth | per-fold competence | per-fold warmth "
        "| wall s |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in report["rows"]:
        per_fold = [" ".join(f"{f[n]:.2f}" for f in row["fold_ccc"]) for n in NAMES]
        wall = row.get("wall_time")
        lines.append(
            f"| {row['label']} | {row['ccc']['competence']:.3f} | "
            f"{row['ccc']['warmth']:.3f} | {per_fold[0]} | {per_fold[1]} | "
            f"{'' if wall is None else f'{wall:.1f}'} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny smoke run (4 receivers x 2 stimuli x 20 s, "
                             "2 folds, 3 epochs, window 25)")
    parser.add_argument("--receivers", type=int, default=10)
    parser.add_argument("--stimuli", type=int, default=4)
    parser.add_argument("--duration", type=float, default=60.0,
                        help="seconds per stimulus")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--window", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=32,
                        help="windows per batch for --window > 1")
    parser.add_argument("--frame-batch-size", type=int, default=256,
                        help="frames per batch of the window=1 network")
    parser.add_argument("--no-frame-model", action="store_true",
                        help="skip the window=1 network")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: on a busy 2-core machine two "
                             "threads ran 13 times slower)")
    parser.add_argument("--save", action="store_true",
                        help="also write the JSON to benchmarks/results/")
    args = parser.parse_args()
    if args.quick:
        args.receivers, args.stimuli, args.duration = 4, 2, 20.0
        args.folds, args.epochs, args.window = 2, 3, 25
    torch.set_num_threads(args.threads)
    start = time.perf_counter()

    t0 = time.perf_counter()
    data = make_impression(args.receivers, args.stimuli, args.duration,
                           random_state=args.seed)
    frames = ModalityConcatenator().fit_transform(
        Resampler().fit_transform(data.recordings))
    prep_time = time.perf_counter() - t0
    description = describe_data(
        frames, data.targets,
        f"make_impression({args.receivers}, {args.stimuli}, {args.duration:g}, "
        f"random_state={args.seed})")
    description.update(n_emitter_features=frames.n_emitter_features,
                       n_receiver_features=frames.n_receiver_features)

    common = {"hidden_size": 32, "num_heads": 4, "max_epochs": args.epochs,
              "random_state": args.seed}
    rows = []
    progress = lambda row: print(  # noqa: E731
        f"[{time.perf_counter() - start:6.1f} s] {row['label']}: {row['ccc']}",
        file=sys.stderr, flush=True)
    hop = max(1, args.window // 2)
    rows.append(network_row(
        f"CrossDomainRegressor window={args.window} hop={hop} (batch "
        f"{args.batch_size})",
        {**common, "window": args.window, "hop": hop,
         "batch_size": args.batch_size},
        frames, data.targets, args.folds, args.epochs))
    progress(rows[-1])
    if not args.no_frame_model:
        rows.append(network_row(
            f"CrossDomainRegressor window=1 (batch {args.frame_batch_size})",
            {**common, "window": 1, "batch_size": args.frame_batch_size},
            frames, data.targets, args.folds, args.epochs))
        progress(rows[-1])
    for label, model in (("ridge (RidgeBaseline alpha=1)", RidgeBaseline()),
                         ("constant (training mean)", ConstantPredictor())):
        rows.append(baseline_row(label, model, frames, data.targets, args.folds))
        progress(rows[-1])
    rows.append(oracle_row(data, frames, args.folds))

    report = {
        "benchmark": "bench_learning",
        "machine": machine(args.threads),
        "protocol": RecordingGroupKFold("receiver", args.folds).description,
        "data": description,
        "seed": args.seed,
        "settings": {"quick": args.quick, "n_splits": args.folds,
                     "epochs": args.epochs, "threads": args.threads},
        "rows": rows,
        "prep_time": round(prep_time, 2),
        "wall_time": round(time.perf_counter() - start, 2),
    }
    print(json.dumps(report, separators=(",", ":")))
    print()
    print(markdown(report))
    if args.save:
        out = Path(__file__).resolve().parent / "results"
        out.mkdir(exist_ok=True)
        name = "bench_learning_quick.json" if args.quick else "bench_learning.json"
        (out / name).write_text(json.dumps(report, indent=1) + "\n")
        print(f"\nwritten: {out / name}", file=sys.stderr)


if __name__ == "__main__":
    main()
