"""How ``window`` changes training and prediction throughput (issue 6).

Paper model size (2-layer BLSTM, hidden 64, 16 heads; 412 emitter + 68 receiver
features) on synthetic :class:`~sklearn_impression.DyadicFrames` (``--frames``,
default 100,000: recordings of 4,000 frames sharing 4 emitter blocks, as in
``bench_overhead.py``). For each ``window`` (default 1, 10, 25, 50, 100; ``hop`` at
its default ``window // 2``) a fresh subprocess fits ``CrossDomainRegressor(window=w,
max_epochs=--epochs, validation_fraction=None)`` and predicts all frames. Reported:

* ``train_frames_per_s``: distinct frames / epoch seconds (from skorch's history);
  with ``window > 1`` every frame sits in about ``window / hop`` = 2 windows, so
* ``train_frame_steps_per_s``: windows x window / epoch seconds (frames the network
  actually processes);
* ``predict_frames_per_s``: frames / wall seconds of ``predict`` (includes the
  validation, standardisation and the averaging of overlapping windows);
* CPU seconds of fit and predict, the process's peak RSS.

``--batch-mode units`` (default) keeps ``batch_size`` (default 512) windows per
batch, the regressor's meaning of ``batch_size``; ``--batch-mode frames`` uses
``max(1, batch_size // window)`` windows, so every batch holds about the same number
of frames.

``--repeats N`` runs every window N times, alternating the order of the windows
from repeat to repeat; each window then reports the run with its median training
speed, the speeds of all runs, and the ratios to the first window repeat by repeat
(on a shared machine single runs move by 10-20 %).

Run ``python benchmarks/bench_window.py [--frames 100000] [--windows 1 10 25 50 100]
[--threads 2] [--repeats 1]``; prints JSON.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import gb, machine_info, max_rss, run_worker  # noqa: E402


def worker(frames, window, epochs, batch_size, threads, hop=None, span=None):
    import torch
    from bench_overhead import make_data

    from sklearn_impression.regressor import CrossDomainRegressor

    torch.set_num_threads(threads)
    X, y = make_data(frames)
    load_before = os.getloadavg()
    # the paper's configuration at the paper's size; only the window settings vary
    model = CrossDomainRegressor.paper_preset(
        window=window, hop=hop, max_epochs=epochs,
        attention_span=span if window > 1 else None, batch_size=batch_size,
        validation_fraction=None, random_state=0)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    model.fit(X, y)
    fit_wall, fit_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    history = model.history_
    epoch_s = [h["dur"] for h in history]
    units = sum(b["train_batch_size"] for b in history[-1]["batches"])
    cpu0, wall0 = time.process_time(), time.perf_counter()
    y_pred = model.predict(X)
    predict_wall, predict_cpu = (time.perf_counter() - wall0,
                                 time.process_time() - cpu0)
    assert sum(len(p) for p in y_pred) == X.n_frames
    n = X.n_frames
    return {
        "window": window,
        "hop": hop or max(1, window // 2),
        "attention_span": span if window > 1 else None,
        "batch_size_units": batch_size,
        "frames_per_batch": batch_size * window,
        "frames": int(n),
        "train_units_per_epoch": int(units),
        "epoch_s": [round(s, 2) for s in epoch_s],
        "train_frames_per_s": round(n / min(epoch_s), 1),
        "train_frame_steps_per_s": round(units * window / min(epoch_s), 1),
        "fit_wall_s": round(fit_wall, 2),
        "fit_cpu_s": round(fit_cpu, 2),
        "predict_wall_s": round(predict_wall, 2),
        "predict_cpu_s": round(predict_cpu, 2),
        "predict_frames_per_s": round(n / predict_wall, 1),
        "train_loss": round(float(history[-1]["train_loss"]), 4),
        "peak_rss_gb": gb(max_rss()),
        "torch_threads": torch.get_num_threads(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--windows", type=int, nargs="+", default=[1, 10, 25, 50, 100])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--batch-mode", choices=["units", "frames"], default="units")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--hop", choices=["half", "window"], default="half",
                        help="window step: window // 2 (the default of hop=None) "
                             "or the whole window (chunks, each frame once)")
    parser.add_argument("--window-batch-size", type=int, default=None,
                        help="windows per batch for window > 1 (overrides "
                             "--batch-mode)")
    parser.add_argument("--attention-span", type=int, default=None,
                        help="attention_span for window > 1 (default: whole window)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="run every window this many times, alternating the "
                             "order; each window reports its median run")
    parser.add_argument("--worker-hop", type=int, default=None,
                        help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.frames, args.windows[0], args.epochs,
                                args.batch_size, args.threads, args.worker_hop,
                                args.attention_span)))
        return
    machine = machine_info()
    runs = {window: [] for window in args.windows}
    for repeat in range(args.repeats):
        # alternate the order, so drift in the machine's speed hits every window
        order = args.windows if repeat % 2 == 0 else args.windows[::-1]
        for window in order:
            batch = (args.batch_size if args.batch_mode == "units"
                     else max(1, args.batch_size // window))
            if window > 1 and args.window_batch_size:
                batch = args.window_batch_size
            hop = window if args.hop == "window" else max(1, window // 2)
            runs[window].append(run_worker(__file__, [
                "--frames", args.frames, "--windows", window, "--epochs", args.epochs,
                "--batch-size", batch, "--threads", args.threads,
                "--worker-hop", hop]
                + ([] if args.attention_span is None
                   else ["--attention-span", args.attention_span])))
            print(json.dumps({k: runs[window][-1][k] for k in (
                "window", "train_frames_per_s", "predict_frames_per_s",
                "peak_rss_gb")}), file=sys.stderr, flush=True)
    results = []
    for window in args.windows:
        # the run with the median training speed stands for the window
        ordered = sorted(runs[window], key=lambda r: r["train_frames_per_s"])
        result = dict(ordered[(len(ordered) - 1) // 2])
        result["train_frames_per_s_runs"] = [r["train_frames_per_s"]
                                             for r in runs[window]]
        result["predict_frames_per_s_runs"] = [r["predict_frames_per_s"]
                                               for r in runs[window]]
        results.append(result)
    base = results[0]
    for r in results:
        r["train_speed_vs_first"] = round(r["train_frames_per_s"]
                                          / base["train_frames_per_s"], 3)
        r["predict_speed_vs_first"] = round(r["predict_frames_per_s"]
                                            / base["predict_frames_per_s"], 3)
        # the same ratio within each repeat (runs of a repeat are back to back)
        r["train_speed_vs_first_runs"] = [
            round(a / b, 3) for a, b in zip(r["train_frames_per_s_runs"],
                                            base["train_frames_per_s_runs"],
                                            strict=True)]
    print(json.dumps({
        "benchmark": "bench_window",
        "machine": machine,
        "model": {"hidden_size": 64, "num_layers": 2, "num_heads": 16,
                  "n_emitter": 412, "n_receiver": 68, "epochs": args.epochs,
                  "batch_mode": args.batch_mode, "batch_size": args.batch_size,
                  "window_batch_size": args.window_batch_size, "hop": args.hop,
                  "attention_span": args.attention_span,
                  "torch_threads": args.threads, "repeats": args.repeats},
        "results": results,
        "load_average_end": os.getloadavg(),
    }, indent=1))


if __name__ == "__main__":
    main()
