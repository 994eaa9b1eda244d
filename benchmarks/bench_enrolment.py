"""New people: enrolment and listener adaptation (issue 12), accuracy and speed.

Accuracy (``--part accuracy``). On each generator (:func:`make_impression` and
:func:`make_dyadic_drift`, resampled and concatenated once), leave-receivers-out
with ``--folds`` folds (GroupKFold by receiver). Per fold every model is fitted
once on the training receivers; then, on deep copies of the fitted model, each
enrolment variant is given the first ``--enrol-seconds`` of each test receiver's
data (:func:`head_seconds`, recording order) and scored on the *rest* of that
receiver's frames only (the ``"receivers+enrol"`` protocol of
:func:`evaluate_protocol`, computed here once per fit for several variants).
Rows:

- ``ridge``: RidgeBaseline (alpha 1), without enrolment and with an output
  offset per receiver (mean error of the predictions of the whole test
  recordings over the enrolment frames: what ``evaluate_protocol(...,
  "receivers+enrol")`` gives a model without ``adapt``), or offset and gain;
- ``ridge_per_person``: the same with the network's per-person steps
  (``ReceiverNormalizer``, label delay 1.8 s, smoothing 2 s);
- ``stimulus_mean``: :class:`StimulusMeanBaseline`, the training receivers'
  mean trace of the stimulus, which reads no signal of the test person, with
  the same enrolment;
- ``network``: CrossDomainRegressor (``--window``, ``--epochs``,
  ``--hidden-size``, ``--num-heads``, batch 32),
  without enrolment and with ``adapt(calibration="offset" | "offset+gain" |
  "offset+gain+stimulus")``,
  each with the per-receiver delay search (``lag_range``, default 2 s) and
  without it (``lag_range=0``, rows "..., no lag"); every row passes the test
  recordings as ``adapt``'s ``context`` (the per-receiver normalisation
  statistics predict uses) except the rows "..., own statistics", which
  normalise the enrolment seconds by their own statistics (``context=None``,
  what ``adapt`` did before it had ``context``);
- ``network+LA``: the same with ``listener_adaptation=True``: ``adapt`` with the
  vector only, vector + offset, vector + offset + gain.

"scored" CCCs are on the non-enrolment frames (the same frames for all rows);
"all" (plain leave-receivers-out) on every test frame. Mean CCC = mean of the
pooled competence and warmth CCCs.

Paper split (``--part paper``): the leaky frame-shuffled 80/10/10 split, with and
without listener adaptation (window 1, the paper's frame-level model).

Speed (``--part speed``): ``adapt`` of one new receiver from 60 s (1,500 frames),
its whole 90 s recording as ``context``, on a paper-size network (hidden 64,
2 layers, 16 heads) on one thread, wall and CPU (user+sys) seconds, window 1
and 25, with and without listener adaptation.

Prints one JSON document; ``--save`` writes it to ``benchmarks/results/`` (``--out``
names the file, default ``bench_enrolment.json``).
"""

import argparse
import copy
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from bench_new_people import Adjusted
from sklearn.pipeline import make_pipeline

from sklearn_impression import UnknownReceiverWarning
from sklearn_impression.datasets import make_dyadic_drift, make_impression
from sklearn_impression.experiments import RidgeBaseline, StimulusMeanBaseline
from sklearn_impression.metrics import ccc_score
from sklearn_impression.model_selection import (
    RecordingGroupKFold,
    describe_data,
    enrolment_masks,
    evaluate_protocol,
    head_seconds,
)
from sklearn_impression.model_selection._enrolment import (
    apply_offsets,
    mean_residuals,
)
from sklearn_impression.preprocessing import (
    ModalityConcatenator,
    ReceiverNormalizer,
    Resampler,
)
from sklearn_impression.regressor import CrossDomainRegressor

NAMES = ("competence", "warmth")


def ccc(y_true, y_pred):
    values = ccc_score(y_true, y_pred, multioutput="raw_values")
    out = {n: round(float(v), 4) for n, v in zip(NAMES, values, strict=True)}
    out["mean"] = round(float(np.mean(values)), 4)
    return out


def machine():
    return {"platform": platform.platform(), "cpu_count": os.cpu_count(),
            "load_average": [round(v, 2) for v in os.getloadavg()],
            "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "note": "2-core machine shared with other jobs: wall times inflated"}


def load(generator, n_receivers, n_stimuli, duration, seed):
    make = {"impression": make_impression, "drift": make_dyadic_drift}[generator]
    data = make(n_receivers, n_stimuli, stimulus_duration=duration,
                random_state=seed)
    steps = [Resampler(nan_policy="interpolate"), ModalityConcatenator()]
    X = data.recordings
    for step in steps:
        X = step.fit_transform(X, data.targets)
    return X, [np.asarray(t) for t in data.targets]


def ridge_gain_offset(receivers, targets, predictions, masks):
    """Offset and gain per receiver for a model without adapt (comparison row),
    fitted on the enrolment frames of the predictions that are scored."""
    out = {}
    for r in dict.fromkeys(receivers):
        idx = [i for i, q in enumerate(receivers) if q == r]
        p = np.concatenate([predictions[i][masks[i]] for i in idx])
        t = np.concatenate([targets[i][masks[i]] for i in idx])
        pc = p - p.mean(0)
        gain = np.clip((pc * (t - t.mean(0))).mean(0) / np.maximum(
            (pc ** 2).mean(0), 1e-8), 0.1, 10)
        out[r] = (gain, (t - gain * p).mean(0))
    return out


def accuracy(X, y, args):
    params = dict(window=args.window, batch_size=32 if args.window > 1 else 512,
                  max_epochs=args.epochs,
                  hidden_size=args.hidden_size, num_heads=args.num_heads,
                  random_state=args.model_seed)
    generic = {"offset": "generic", "offset+gain": "ridge_gain"}
    models = {
        "ridge": (lambda: RidgeBaseline(alpha=1.0), generic),
        # the network's per-person steps given to ridge: receiver normalisation,
        # label delay 1.8 s, smoothing 2 s (bench_new_people's ridge_per_person)
        "ridge_per_person": (lambda: make_pipeline(
            ReceiverNormalizer(by="receiver"),
            Adjusted(RidgeBaseline(alpha=1.0), delay=45, smooth=50)), generic),
        # the crowd's trace of the stimulus: no signal of the test person
        "stimulus_mean": (StimulusMeanBaseline, generic),
        "network": (lambda: CrossDomainRegressor(**params),
                    {"offset": {"calibration": "offset"},
                     "offset+gain": {"calibration": "offset+gain"},
                     "offset+gain+stimulus": {
                         "calibration": "offset+gain+stimulus"},
                     "offset, no lag": {"calibration": "offset", "lag_range": 0},
                     "offset+gain, no lag": {"calibration": "offset+gain",
                                             "lag_range": 0},
                     "offset, own statistics": {"calibration": "offset",
                                                "context": None},
                     "offset+gain, own statistics": {"calibration": "offset+gain",
                                                     "context": None}}),
        "network+LA": (lambda: CrossDomainRegressor(listener_adaptation=True,
                                                    **params),
                       {"vector": {"calibration": "none"},
                        "vector+offset": {"calibration": "offset"},
                        "vector+offset+gain": {"calibration": "offset+gain"}}),
    }
    models = {k: v for k, v in models.items() if k in args.models}
    splits = list(RecordingGroupKFold("receiver", args.folds).split(X))
    store = {}  # (model, variant) -> lists of (y_true, y_pred) for scored / all

    def add(key, part, t, p):
        store.setdefault(key, {"scored": ([], []), "all": ([], [])})
        store[key][part][0].append(t)
        store[key][part][1].append(p)

    timing = {}
    for name, (make, variants) in models.items():
        fit_s = 0.0
        for train, test in splits:
            t0 = time.perf_counter()
            model = make().fit(X.subset(train), [y[i] for i in train])
            fit_s += time.perf_counter() - t0
            Xte, yte = X.subset(test), [y[i] for i in test]
            masks = enrolment_masks(Xte, args.enrol_seconds)
            X_head, y_head = head_seconds(Xte, yte, args.enrol_seconds)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UnknownReceiverWarning)
                base = model.predict(Xte)
            for t, p, m in zip(yte, base, masks, strict=True):
                add((name, "none"), "all", t, p)
                add((name, "none"), "scored", t[~m], p[~m])
            for variant, how in variants.items():
                enrolled = copy.deepcopy(model)
                c0, w0 = time.process_time(), time.perf_counter()
                if how == "generic":  # what evaluate_protocol does without adapt
                    offsets = mean_residuals(Xte.receivers, yte, base, masks)
                    pred = apply_offsets(offsets, Xte.receivers, base)
                elif how == "ridge_gain":
                    cal = ridge_gain_offset(Xte.receivers, yte, base, masks)
                    pred = [cal[r][0] * p + cal[r][1] for r, p in
                            zip(Xte.receivers, base, strict=True)]
                else:
                    enrolled.adapt(X_head, y_head, **{"context": Xte, **how})
                    pred = enrolled.predict(Xte)
                timing.setdefault(f"{name}/{variant}", []).append(
                    (round(time.perf_counter() - w0, 3),
                     round(time.process_time() - c0, 3)))
                for t, p, m in zip(yte, pred, masks, strict=True):
                    add((name, variant), "scored", t[~m], p[~m])
        timing[f"{name}/fit_total_s"] = round(fit_s, 1)
        print(f"  {name}: fitted {len(splits)} folds in {fit_s:.0f} s",
              file=sys.stderr, flush=True)
    rows = []
    for (name, variant), parts in store.items():
        row = {"model": name, "enrolment": variant,
               "scored_ccc": ccc(*parts["scored"])}
        if parts["all"][0]:
            row["all_frames_ccc"] = ccc(*parts["all"])
        rows.append(row)
    return rows, timing


def paper(X, y, args):
    out = {}
    for la in (False, True):
        # the frame-shuffled split is the paper's setting: its configuration
        model = CrossDomainRegressor.paper_preset(
            listener_adaptation=la, max_epochs=args.epochs,
            hidden_size=args.hidden_size, num_heads=args.num_heads,
            random_state=args.model_seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnknownReceiverWarning)
            result = evaluate_protocol(model, X, y, "paper", random_state=0)
        out["listener_adaptation" if la else "plain"] = {
            **{n: round(result.ccc[n], 4) for n in NAMES},
            "mean": round(float(np.mean([result.ccc[n] for n in NAMES])), 4),
            "fit_time": result.folds[0]["fit_time"]}
    return out


def speed(args):
    X, y = load("impression", 3, 1, 90, 0)
    new = X.subset([2]).select_frames([np.arange(X.frame_counts[2]) < 1500])
    y_new = [y[2][:1500]]
    rows = []
    for window in (1, 25):
        for la in (False, True):
            model = CrossDomainRegressor(window=window, batch_size=32 if window > 1
                                         else 512, max_epochs=1,
                                         listener_adaptation=la, random_state=0)
            model.fit(X.subset([0, 1]), y[:2])
            times = []
            for _ in range(3):
                m = copy.deepcopy(model)
                c0, w0 = time.process_time(), time.perf_counter()
                m.adapt(new, y_new, context=X.subset([2]))  # its 90 s recording
                times.append((time.perf_counter() - w0, time.process_time() - c0))
            rows.append({"window": window, "listener_adaptation": la,
                         "frames": 1500,
                         "wall_s": [round(w, 3) for w, _ in times],
                         "cpu_s": [round(c, 3) for _, c in times]})
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", nargs="+", default=["speed", "accuracy", "paper"],
                        choices=["speed", "accuracy", "paper"])
    parser.add_argument("--generators", nargs="+", default=["impression", "drift"])
    parser.add_argument("--models", nargs="+",
                        default=["ridge", "network", "network+LA"],
                        help="accuracy rows to run: ridge, ridge_per_person, "
                             "stimulus_mean, network, network+LA (default: "
                             "ridge, network, network+LA)")
    parser.add_argument("--receivers", type=int, default=10)
    parser.add_argument("--stimuli", type=int, default=2)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--enrol-seconds", type=float, default=60.0)
    parser.add_argument("--window", type=int, default=1)
    parser.add_argument("--hidden-size", type=int, default=64)
    parser.add_argument("--num-heads", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--data-seed", type=int, default=0)
    parser.add_argument("--model-seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--save", action="store_true")
    parser.add_argument("--out", default="bench_enrolment.json",
                        help="file name under benchmarks/results/ for --save")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    result = {"benchmark": "bench_enrolment", "machine": machine(),
              "settings": vars(args)}
    if "speed" in args.part:
        result["enrolment_speed"] = speed(args)
        print(json.dumps(result["enrolment_speed"]), file=sys.stderr, flush=True)
    for generator in args.generators:
        if not {"accuracy", "paper"} & set(args.part):
            break
        X, y = load(generator, args.receivers, args.stimuli, args.duration,
                    args.data_seed)
        entry = {"data": describe_data(X, y, generator)}
        if "accuracy" in args.part:
            c0, w0 = time.process_time(), time.perf_counter()
            entry["leave_receivers_out"], entry["enrol_times_wall_cpu"] = \
                accuracy(X, y, args)
            entry["accuracy_wall_s"] = round(time.perf_counter() - w0, 1)
            entry["accuracy_cpu_s"] = round(time.process_time() - c0, 1)
        if "paper" in args.part:
            entry["paper_split_leaky"] = paper(X, y, args)
        result[generator] = entry
        print(json.dumps(entry), file=sys.stderr, flush=True)
    text = json.dumps(result, indent=1)
    print(text)
    if args.save:
        out = Path(__file__).parent / "results" / args.out
        out.parent.mkdir(exist_ok=True)
        out.write_text(text)


if __name__ == "__main__":
    main()
