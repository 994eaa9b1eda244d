"""Which network option reads the signals rather than the stimuli? (issue 21)

New people on new content only (``--folds`` folds, receivers and stimuli held
out at once as in :class:`CrossedGroupKFold`: train on the other receivers
watching the other stimuli, score the fold's receivers on the fold's stimuli;
see :func:`crossed_folds` for how ids are assigned to folds), for several
network configurations against ridge and ridge with the per-person steps, on
both generators and several data seeds (``random_state`` of every network =
the data seed). One process per
(protocol, generator, seed, configuration), ``--jobs`` at a time, one torch
thread each; every row prints as it ends and the JSON is rewritten after each.

A configuration is ``NAME: {"model": "ridge"|"network", "normalize": ...,
"delay": frames, "smooth": frames, "params": {...}}`` as in
``bench_new_people.py`` (network rows get ``max_epochs=--epochs`` unless they
set it). The options compared in the user guide's "New content" page::

    python benchmarks/bench_new_content_options.py --seeds 0 1 2 3 4 \\
        --out benchmarks/results/new_content_options.json --configs '{
        "ridge": {"model": "ridge"},
        "ridge_pp": {"model": "ridge", "normalize": "receiver", "delay": 45,
                     "smooth": 50},
        "no_early_stopping": {"model": "network",
                              "params": {"early_stopping": null}},
        "5_epochs": {"model": "network",
                     "params": {"early_stopping": null, "max_epochs": 5}},
        "weight_decay": {"model": "network",
                         "params": {"early_stopping": null,
                                    "weight_decay": 0.001}},
        "early_stopping_2": {"model": "network",
                             "params": {"early_stopping": 2}}}'

``--protocols receivers stimuli`` scores the grouped protocols instead.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.model_selection import GroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _data(generator, seed, receivers, stimuli, duration):
    from bench_new_people import GENERATORS

    from sklearn_impression.preprocessing import ModalityConcatenator, Resampler

    data = GENERATORS[generator](receivers, stimuli, duration, random_state=seed)
    frames = ModalityConcatenator().fit_transform(
        Resampler(nan_policy="interpolate").fit_transform(data.recordings))
    return data, frames


def crossed_folds(receivers, stimuli, n_splits):
    """Receivers and stimuli held out at once; fold ``k`` holds out the
    receivers and the stimuli whose position among the sorted ids is ``k``
    modulo ``n_splits`` (CrossedGroupKFold assigns them as GroupKFold does:
    other groups, the same design)."""
    fold_r = {r: i % n_splits for i, r in enumerate(sorted(set(receivers)))}
    fold_s = {s: i % n_splits for i, s in enumerate(sorted(set(stimuli)))}
    folds = []
    for k in range(n_splits):
        pairs = list(zip(receivers, stimuli, strict=True))
        folds.append(([i for i, (r, s) in enumerate(pairs)
                       if fold_r[r] != k and fold_s[s] != k],
                      [i for i, (r, s) in enumerate(pairs)
                       if fold_r[r] == k and fold_s[s] == k]))
    return folds


def _folds(protocol, frames, n_splits):
    if protocol == "crossed":
        return crossed_folds(list(frames.receivers), list(frames.stimuli), n_splits)
    groups = frames.receivers if protocol == "receivers" else frames.stimuli
    return list(GroupKFold(n_splits).split(np.zeros(len(groups)), groups=groups))


def run(generator, seed, size, name, config, epochs, n_splits, protocol):
    import torch
    from bench_new_people import build

    from sklearn_impression.metrics import ccc_score

    torch.set_num_threads(1)
    data, frames = _data(generator, seed, *size)
    scores, start = [], time.time()
    for train, test in _folds(protocol, frames, n_splits):
        model = build(config, epochs, seed, data).fit(
            frames.subset(train), [data.targets[i] for i in train])
        scores.append(ccc_score([data.targets[i] for i in test],
                                model.predict(frames.subset(test)),
                                multioutput="raw_values"))
    mean = np.mean(scores, axis=0)
    return {"gen": generator, "seed": seed, "name": name, "protocol": protocol,
            "c": round(float(mean[0]), 4), "w": round(float(mean[1]), 4),
            "mean": round(float(mean.mean()), 4), "t": round(time.time() - start, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gens", nargs="+", default=["impression", "drift"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--configs", required=True, help="JSON {name: config}")
    parser.add_argument("--size", nargs=3, type=float, default=[8, 8, 30],
                        metavar=("RECEIVERS", "STIMULI", "SECONDS"))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--protocols", nargs="+", default=["crossed"],
                        choices=["crossed", "receivers", "stimuli"])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    configs = json.loads(args.configs)
    size = (int(args.size[0]), int(args.size[1]), args.size[2])
    jobs = [(p, g, s, n, c) for p in args.protocols for g in args.gens
            for s in args.seeds for n, c in configs.items()]
    report = {"benchmark": "bench_new_content_options",
              "command": "python " + " ".join(sys.argv),
              "settings": {"size": size, "epochs": args.epochs, "folds": args.folds,
                           "configs": configs},
              "scoring": "CCC per dimension pooled over each fold's test frames, "
                         "averaged over folds; mean of competence and warmth",
              "rows": []}
    results = Parallel(n_jobs=args.jobs, return_as="generator")(
        delayed(run)(g, s, size, n, c, args.epochs, args.folds, p)
        for p, g, s, n, c in jobs)
    for row in results:
        print(json.dumps(row), flush=True)
        report["rows"].append(row)
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
