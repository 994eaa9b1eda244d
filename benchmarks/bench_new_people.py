"""New people: leave-receivers-out CCC of model configurations vs ridge (issue 12).

Whole receivers are held out: ``GroupKFold(n_splits)`` by receiver through
:func:`~sklearn_impression.model_selection.evaluate_protocol` (protocol
``"receivers"``), so no test person's features or labels reach training. Each
configuration is scored on the same folds of one or both synthetic generators,

- ``impression``: :func:`~sklearn_impression.datasets.make_impression`
  (linear links, one lag per receiver, stepwise slider),
- ``drift``: :func:`~sklearn_impression.datasets.make_dyadic_drift` (nonlinear
  links, time-varying lags, drifting sensors, NaN gaps),

each resampled (``Resampler(nan_policy="interpolate")``) and concatenated once:
both steps work recording by recording and learn nothing across recordings.

Scores: CCC per dimension **pooled over the test frames of a fold, then averaged
over the folds** (``ccc_fold_mean``; the figure the issue's targets use), plus the
CCC pooled over all test frames of all folds and the per-fold values. A
configuration is a name from :data:`CONFIGS` or ``NAME=JSON`` with
``{"model": "ridge"|"network"|"stimulus_mean", "normalize":
null|"receiver"|"recording", "delay": frames, "smooth": frames, "params": {...}}``;
network configurations get ``max_epochs=--epochs`` unless they set it.

Besides ``ridge`` and the network, three rows say what a claim about new people
has to be measured against: ``ridge_per_person`` (ridge with the network's
per-person steps), ``stimulus_mean`` (:class:`StimulusMeanBaseline`, the training
receivers' mean trace of the stimulus, no signal of the test person) and, on
``make_impression`` only, ``population_oracle``: an oracle reference computed
from the generator's truth (every test receiver's exact perception, calibrated
for the population). It is not a bound: its affine map is only the best one on
the training frames, and it does not model the slider's steps and hysteresis,
so a model without enrolment may score above it.

Run, one thread, in the background::

    OMP_NUM_THREADS=1 nohup python benchmarks/bench_new_people.py \\
        --generators impression drift --configs ridge default \\
        --out /tmp/np_default.json > /tmp/np_default.log 2>&1 &

``--quick`` is a smoke run (4 receivers x 2 stimuli x 20 s, 2 folds, 2 epochs).
"""

import argparse
import json
import os
import platform
import resource
import sys
import time

import numpy as np
import sklearn
import skorch
import torch
from scipy.ndimage import uniform_filter1d
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.pipeline import make_pipeline

from sklearn_impression.datasets import make_dyadic_drift, make_impression
from sklearn_impression.experiments import RidgeBaseline, StimulusMeanBaseline
from sklearn_impression.metrics import ccc_score
from sklearn_impression.model_selection import (
    LeaveGroupsOut,
    describe_data,
    evaluate_protocol,
)
from sklearn_impression.preprocessing import ModalityConcatenator, Resampler
from sklearn_impression.regressor import CrossDomainRegressor

NAMES = ("competence", "warmth")

#: Named configurations; ``params`` go to CrossDomainRegressor.
CONFIGS = {
    "ridge": {"model": "ridge"},
    "ridge_norm_recording": {"model": "ridge", "normalize": "recording"},
    "default": {"model": "network", "params": {}},
    "paper": {"model": "network", "preset": "paper", "params": {}},
    # what the network's per-person steps give a linear model (label delay 1.8 s,
    # the best searched for ridge on make_impression; smoothing 2 s)
    "ridge_per_person": {"model": "ridge", "normalize": "receiver", "delay": 45,
                         "smooth": 50},
    # the crowd's trace of the stimulus: reads no signal of the test person
    "stimulus_mean": {"model": "stimulus_mean"},
    # make_impression only: every test receiver's true perception, mapped by the
    # CCC-best affine map of the training receivers (an oracle reference, not a
    # model and not a bound)
    "population_oracle": {"model": "population_oracle"},
}

GENERATORS = {"impression": make_impression, "drift": make_dyadic_drift}


def _normalizer(by):
    from sklearn_impression.preprocessing import ReceiverNormalizer

    return ReceiverNormalizer(by=by)


class Adjusted(RegressorMixin, BaseEstimator):
    """Measurement wrapper: label delay (frames) and prediction smoothing (frames).

    ``delay`` trains ``estimator`` to map the features at ``t`` to the targets at
    ``t + delay`` and shifts its predictions ``delay`` frames later (the first
    ``delay`` frames repeat the first prediction); ``smooth`` is the width of a
    centred moving average over each recording's predicted trace.
    """

    def __init__(self, estimator, delay=0, smooth=0):
        self.estimator = estimator
        self.delay = delay
        self.smooth = smooth

    def fit(self, X, y):
        if self.delay:
            X = X.select_frames([np.arange(n) < n - self.delay
                                 for n in X.frame_counts])
            y = [t[self.delay:] for t in y]
        self.estimator_ = clone(self.estimator).fit(X, y)
        return self

    def predict(self, X):
        out = []
        for p in self.estimator_.predict(X):
            if self.delay:
                p = np.concatenate([np.repeat(p[:1], self.delay, axis=0),
                                    p[:-self.delay]])
            if self.smooth > 1:
                p = uniform_filter1d(p, self.smooth, axis=0, mode="nearest")
            out.append(p)
        return out


class PopulationOracle(RegressorMixin, BaseEstimator):
    """Oracle reference for a model that does not know a receiver's slider.

    It is given every receiver's true perception ``p_r(t - l_r)`` (from
    :func:`make_impression`'s ``impression``, ``offsets``, ``scales`` and
    ``lags``), moves it to the training receivers' mean lag, and maps it with
    the affine map that maximises the training frames' CCC (slope
    ``sd(y) / sd(p)``, means matched), per output. What it lacks, and what no
    model without enrolment can know, is each test receiver's offset, scale and
    lag. Not a bound: the map is the best on the training frames, not on the
    test frames, and the slider's steps and hysteresis are not modelled.
    """

    def __init__(self, perceived=None, lags=None, frame_rate=25.0):
        self.perceived = perceived
        self.lags = lags
        self.frame_rate = frame_rate

    def _traces(self, X):
        out = []
        for r, s in zip(X.receivers, X.stimuli, strict=True):
            p = self.perceived[r, s]
            k = int(round((self.lag_ - self.lags[r]) * self.frame_rate))
            if k > 0:
                p = np.concatenate([np.repeat(p[:1], k, axis=0), p[:-k]])
            elif k < 0:
                p = np.concatenate([p[-k:], np.repeat(p[-1:], -k, axis=0)])
            out.append(p)
        return out

    def fit(self, X, y):
        self.lag_ = float(np.mean([self.lags[r] for r in set(X.receivers)]))
        p, t = np.concatenate(self._traces(X)), np.concatenate(y)
        self.slope_ = t.std(axis=0) / p.std(axis=0)
        self.intercept_ = t.mean(axis=0) - self.slope_ * p.mean(axis=0)
        return self

    def predict(self, X):
        return [self.intercept_ + self.slope_ * p for p in self._traces(X)]


def perceived_impression(data):
    """``{(receiver, stimulus): p_rs(t - l_r)}`` from make_impression's truth."""
    return {(r, s): (u - data.offsets[r]) / data.scales[r]
            for u, r, s in zip(data.impression, data.receivers, data.stimuli,
                               strict=True)}


def build(config, epochs, seed, data=None):
    """The estimator of one configuration (a pipeline when it normalises)."""
    if config["model"] == "population_oracle":
        return PopulationOracle(perceived_impression(data), data.lags,
                                data.frame_rate)
    if config["model"] == "stimulus_mean":
        model = StimulusMeanBaseline()
    elif config["model"] == "ridge":
        model = RidgeBaseline(alpha=config.get("alpha", 1.0))
    else:
        params = {"max_epochs": epochs, "random_state": seed,
                  **config.get("params", {})}
        if config.get("preset") == "paper":
            model = CrossDomainRegressor.paper_preset(**params)
        else:
            model = CrossDomainRegressor(**params)
    if config.get("delay") or config.get("smooth"):
        model = Adjusted(model, config.get("delay", 0), config.get("smooth", 0))
    if config.get("normalize"):
        return make_pipeline(_normalizer(config["normalize"]), model)
    return model


def machine():
    return {
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "sklearn": sklearn.__version__,
        "skorch": skorch.__version__,
        "numpy": np.__version__,
        "shared_machine": True,
    }


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def fold_mean_ccc(frames, targets, predictions, n_splits):
    """CCC pooled over each fold's test frames, averaged over the folds."""
    folds = [ccc_score([targets[i] for i in test], [predictions[i] for i in test],
                       multioutput="raw_values")
             for _, test in LeaveGroupsOut("receiver", n_splits).split(frames)]
    return dict(zip(NAMES, np.round(np.mean(folds, axis=0), 4).tolist(),
                    strict=True))


def run_config(name, config, frames, data, args):
    t0, c0 = time.perf_counter(), cpu_seconds()
    targets = data.targets
    result = evaluate_protocol(build(config, args.epochs, args.seed, data), frames,
                               targets, "receivers", n_splits=args.folds)
    # the same predictions smoothed afterwards (what ``smoothing`` would give)
    smoothed = {f"{w / frames.label_rate:g} s": fold_mean_ccc(
        frames, targets, [uniform_filter1d(p, w, axis=0, mode="nearest")
                          for p in result.predictions], args.folds)
        for w in args.post_smoothing}
    return {
        "post_smoothing_ccc_fold_mean": smoothed,
        "config": name,
        "spec": config,
        "ccc_fold_mean": {n: round(result.ccc_fold_mean[n], 4) for n in NAMES},
        "mean_ccc": round(float(np.mean([result.ccc_fold_mean[n] for n in NAMES])),
                          4),
        "ccc_pooled": {n: round(result.ccc[n], 4) for n in NAMES},
        "fold_ccc": [{n: round(f[n], 4) for n in NAMES} for f in result.fold_ccc],
        "fit_time": round(sum(f["fit_time"] for f in result.folds), 2),
        "wall_time": round(time.perf_counter() - t0, 2),
        "cpu_time": round(cpu_seconds() - c0, 2),
    }


def parse_configs(items):
    out = {}
    for item in items:
        if "=" in item:
            name, spec = item.split("=", 1)
            out[name] = json.loads(spec)
        elif item in CONFIGS:
            out[item] = CONFIGS[item]
        else:
            raise SystemExit(f"unknown configuration {item!r}; known: "
                             f"{sorted(CONFIGS)} or NAME=JSON")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generators", nargs="+", default=["impression", "drift"],
                        choices=sorted(GENERATORS))
    parser.add_argument("--configs", nargs="+", default=["ridge", "default"])
    parser.add_argument("--receivers", type=int, default=10)
    parser.add_argument("--stimuli", type=int, default=4)
    parser.add_argument("--duration", type=float, default=60.0,
                        help="seconds per stimulus")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0,
                        help="data seed and every model's random_state")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--post-smoothing", type=int, nargs="*",
                        default=[25, 50, 100],
                        help="also score each row's predictions after a centred "
                             "moving average of these widths (frames)")
    parser.add_argument("--out", default=None, help="write the JSON here too")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.receivers, args.stimuli, args.duration = 4, 2, 20.0
        args.folds, args.epochs = 2, 2
    torch.set_num_threads(args.threads)
    configs = parse_configs(args.configs)
    start = time.perf_counter()
    report = {"benchmark": "bench_new_people", "machine": machine(),
              "protocol": LeaveGroupsOut("receiver", args.folds).description,
              "scoring": "CCC per dimension pooled over each fold's test frames, "
                         "averaged over folds (ccc_fold_mean)",
              "settings": {k: getattr(args, k) for k in (
                  "receivers", "stimuli", "duration", "folds", "epochs", "seed",
                  "threads")},
              "results": {}}
    for gen in args.generators:
        data = GENERATORS[gen](args.receivers, args.stimuli, args.duration,
                               random_state=args.seed)
        frames = ModalityConcatenator().fit_transform(
            Resampler(nan_policy="interpolate").fit_transform(data.recordings))
        entry = {"data": describe_data(frames, data.targets,
                                       f"{GENERATORS[gen].__name__}("
                                       f"{args.receivers}, {args.stimuli}, "
                                       f"{args.duration:g}, random_state="
                                       f"{args.seed})"),
                 "rows": []}
        report["results"][gen] = entry
        for name, config in configs.items():
            if config["model"] == "population_oracle" and gen != "impression":
                continue  # make_impression's linear slider only
            row = run_config(name, config, frames, data, args)
            entry["rows"].append(row)
            print(f"[{time.perf_counter() - start:7.1f} s] {gen} {name}: "
                  f"{row['ccc_fold_mean']} mean {row['mean_ccc']} "
                  f"(cpu {row['cpu_time']} s)", file=sys.stderr, flush=True)
            if args.out:  # partial results survive an interrupted run
                with open(args.out, "w") as handle:
                    json.dump(report, handle, indent=1)
    report["wall_time"] = round(time.perf_counter() - start, 2)
    text = json.dumps(report, indent=1)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
