"""Fit time and peak memory from 1/8 to full paper scale (issue 6).

For each receiver count (default 5, 10, 20, 40 of the paper's 40; 13 stimuli and
44,923 label frames per receiver), a fresh subprocess runs the canonical pipeline
on the released layout written by ``bench_load.py``::

    load_impression(root, receivers=...) -> Resampler (pass-through at label rate)
    -> ModalityConcatenator -> CrossDomainRegressor.paper_preset(max_epochs=1)

with the paper's model size (2-layer BLSTM, hidden 64, 16 heads, window 1, batch 512,
``validation_fraction=0.1``: 10 % of the recordings held out and predicted each
epoch). Reported per size: wall and CPU time of each stage, the epoch's duration
from skorch's history (training pass plus validation pass) and the training frames/s
(training frames / epoch seconds), the fit's set-up time (``fit`` wall minus the
epoch), the process's peak RSS (``ru_maxrss``: per size, since each size runs in its
own process) and the sampled peak RSS inside each phase of ``fit`` (flattening,
standardising, validation split, tensors, training), so growth can be attributed.
Target (issue 6): peak RSS <= 3 GB at full scale.

Run ``python benchmarks/bench_scaling.py [--root /tmp/paper_layout] [--receivers 5 10
20 40] [--threads 2]``; prints JSON (``--epochs``, ``--batch-size`` change the fit).
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import (  # noqa: E402
    PAPER,
    TreeSampler,
    ensure_layout,
    gb,
    machine_info,
    max_rss,
    rss_now,
    run_worker,
)


class Marks:
    """Named points in time; phases run from one mark to the next."""

    def __init__(self):
        self.points = []

    def __call__(self, label):
        self.points.append((label, time.perf_counter(), time.process_time()))

    def wrap(self, owner, name, label, classmethod_=False):
        original = getattr(owner, name)
        marks = self

        def wrapped(*args, **kwargs):
            marks(label)
            return original(*args, **kwargs)

        if classmethod_:
            original = original.__func__

            def wrapped_cm(cls, *args, **kwargs):
                marks(label)
                return original(cls, *args, **kwargs)

            setattr(owner, name, classmethod(wrapped_cm))
        else:
            setattr(owner, name, wrapped)

    def phases(self, timeline):
        """``{label: {wall_s, cpu_s, peak_rss_gb}}`` between consecutive marks."""
        out = {}
        times = np.array([t for t, _ in timeline])
        rss = np.array([r for _, r in timeline])
        for (label, t0, c0), (_, t1, c1) in zip(self.points, self.points[1:],
                                                strict=False):
            inside = (times >= t0) & (times <= t1)
            out[label] = {"wall_s": round(t1 - t0, 2), "cpu_s": round(c1 - c0, 2),
                          "peak_rss_gb_sampled": gb(rss[inside].max())
                          if inside.any() else None}
        return out


def worker(root, n_receivers, epochs, batch_size, threads, validation_fraction):
    import torch

    import sklearn_impression.regressor._estimator as estimator_module
    import sklearn_impression.regressor._fit as fit_module
    from sklearn_impression.datasets import load_impression
    from sklearn_impression.preprocessing import ModalityConcatenator, Resampler
    from sklearn_impression.regressor import CrossDomainRegressor

    torch.set_num_threads(threads)
    marks = Marks()
    # fit's phases are functions of regressor/_fit.py and _net.py
    marks.wrap(fit_module, "fit_frames", "fit.validate_flatten")
    marks.wrap(fit_module.Standardizer, "fit", "fit.standardize",
               classmethod_=True)
    marks.wrap(fit_module, "split_validation", "fit.validation_split")
    marks.wrap(fit_module, "frame_dataset", "fit.tensors")
    marks.wrap(estimator_module, "fit_net", "fit.train")
    rss_imports = rss_now()
    sampler = TreeSampler(interval=0.05, tree=False)
    sampler.start()
    load_before = os.getloadavg()

    marks("load_impression")
    data = load_impression(root, receivers=list(range(n_receivers)))
    marks("resample")
    recordings = Resampler().fit_transform(data.recordings)
    marks("concatenate")
    X = ModalityConcatenator().fit_transform(recordings)
    marks("fit.params")
    model = CrossDomainRegressor.paper_preset(
        max_epochs=epochs, batch_size=batch_size,
        validation_fraction=validation_fraction, random_state=0)
    fit_start = time.perf_counter()
    model.fit(X, data.targets)
    fit_wall = time.perf_counter() - fit_start
    marks("end")
    sampler.stop()

    history = model.history_
    epoch_s = [h["dur"] for h in history]
    train_frames = sum(b.get("train_batch_size", 0) for b in history[-1]["batches"])
    valid_frames = sum(b.get("valid_batch_size", 0) for b in history[-1]["batches"])
    stream_bytes, seen = 0, set()
    for rec in data.recordings:
        for s in rec.streams.values():
            if id(s.values) not in seen:
                seen.add(id(s.values))
                stream_bytes += s.values.nbytes
    return {
        "receivers": n_receivers,
        "recordings": len(X),
        "frames": int(X.n_frames),
        "emitter_rows": int(sum(len(b) for b in X.emitter_blocks)),
        "loaded_float32_gb": gb(stream_bytes),
        "train_frames_per_epoch": int(train_frames),
        "valid_frames_per_epoch": int(valid_frames),
        "epochs": len(history),
        "epoch_s": [round(s, 2) for s in epoch_s],
        "train_frames_per_s": round(train_frames / min(epoch_s), 1),
        "fit_wall_s": round(fit_wall, 2),
        "fit_setup_s": round(fit_wall - sum(epoch_s), 2),
        "train_loss": round(float(history[-1]["train_loss"]), 4),
        "peak_rss_gb": gb(max_rss()),
        "peak_rss_gb_sampled": gb(sampler.peak_rss),
        "rss_gb_after_imports": gb(rss_imports),
        "phases": marks.phases(sampler.timeline),
        "torch_threads": torch.get_num_threads(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default="/tmp/paper_layout")
    parser.add_argument("--receivers", type=int, nargs="+", default=[5, 10, 20, 40])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--validation-fraction", type=float, default=0.1)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.root, args.receivers[0], args.epochs,
                                args.batch_size, args.threads,
                                args.validation_fraction)))
        return
    machine = machine_info()
    layout = ensure_layout(args.root, reuse_any=True)
    results = []
    for n in args.receivers:
        results.append(run_worker(__file__, [
            "--root", args.root, "--receivers", n, "--epochs", args.epochs,
            "--batch-size", args.batch_size, "--threads", args.threads,
            "--validation-fraction", args.validation_fraction]))
        print(json.dumps({k: results[-1][k] for k in (
            "receivers", "frames", "train_frames_per_s", "fit_wall_s",
            "peak_rss_gb")}), file=sys.stderr, flush=True)
    full = results[-1]
    growth = [{"receivers": r["receivers"],
               "fraction_of_largest": round(r["frames"] / full["frames"], 4),
               "peak_rss_over_largest": round(r["peak_rss_gb"] / full["peak_rss_gb"],
                                              3),
               "fit_wall_over_largest": round(r["fit_wall_s"] / full["fit_wall_s"],
                                              3)}
              for r in results]
    # Linear fit of peak RSS against frames: intercept = fixed cost, slope per frame.
    frames = np.array([r["frames"] for r in results], dtype=float)
    peaks = np.array([r["peak_rss_gb"] for r in results])
    slope, intercept = (np.polyfit(frames, peaks, 1) if len(results) > 1
                        else (np.nan, np.nan))
    print(json.dumps({
        "benchmark": "bench_scaling",
        "machine": machine,
        "layout": layout,
        "paper": PAPER,
        "model": {"hidden_size": 64, "num_layers": 2, "num_heads": 16, "window": 1,
                  "batch_size": args.batch_size, "epochs": args.epochs,
                  "validation_fraction": args.validation_fraction,
                  "torch_threads": args.threads},
        "results": results,
        "growth": growth,
        "peak_rss_linear_fit": {
            "bytes_per_frame": round(float(slope) * 1e9, 1),
            "fixed_gb": round(float(intercept), 3),
        },
        "target_peak_rss_gb": 3.0,
        "load_average_end": os.getloadavg(),
    }, indent=1))


if __name__ == "__main__":
    main()
