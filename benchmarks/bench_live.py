"""Live prediction: latency per push and memory over a long stream (issue 25).

A paper-size model (``CrossDomainRegressor()`` defaults: hidden 64, 2 layers,
16 heads, fc 16, window 1) inside :func:`make_live_pipeline` (no lookahead,
CausalRegressor's defaults), trained for ``--epochs`` (1) epoch on a small
:func:`make_impression` set (4 receivers x 2 stimuli x 30 s). Latency does not
depend on the training: the same network runs whatever its weights, so one
epoch is enough to measure it. The streams come at the generator's rates
(:data:`DEFAULT_RATES`: 100, 50, 25, 250, 29.97 and 256 Hz). One torch thread
(``OMP_NUM_THREADS=1``, ``torch.set_num_threads(1)``).

Every push carries 40 ms (one label frame) of every stream: push ``k`` holds
samples ``floor(rate * k / 25)`` to ``floor(rate * (k + 1) / 25) - 1`` of each
stream (from the cumulative time, so the streams stay aligned; the training
recordings are looped for as long as needed). The people streamed are not in
the training data, so they are standardised by running statistics (the
costlier path; a receiver with kept statistics skips them).

* ``one_stream``: a :class:`LivePredictor`, ``--warmup`` pushes, then
  ``--pushes`` timed pushes (``time.perf_counter`` around ``push`` only; the
  chunks are cut beforehand); target p99 <= 5 ms per 40 ms frame.
* ``streams_64``: a :class:`LiveGroup` of ``--people`` people (person ``i``
  streams training recording ``i mod 8``), each tick one push of one 40 ms
  chunk per person (one batched network step); ``--warmup`` ticks, then
  ``--ticks`` timed ticks; target p99 <= 40 ms per tick.
* ``memory``: in a fresh process (so that the training's peak is not counted),
  one person streamed for ``--minutes`` (120) minutes of stream time as fast as
  possible; at minutes 1, 10, 20, ... the size of the person's pickled state
  (``pickle.dump`` of the person's state inside the predictor, and of the whole
  predictor, which holds the model), then the process's peak RSS (``VmHWM`` of
  ``/proc/self/status``; not ``ru_maxrss``, which a child inherits from its
  parent at the fork) and its current RSS (``VmRSS``);
  target: peak RSS grows by <= 10 MB between minute 1 and the last minute.

Latencies are in ms: p50, p95, p99, max, mean; ``frames_per_push`` counts how
many frames each timed push returned (one in the steady state). Each part
records its wall and CPU seconds (``time.process_time``: a CPU time well below
the wall time means the process waited for a core) and the 1-minute load
average before and after: the figures are from a shared machine.

Run ``python benchmarks/keep.py live -- python benchmarks/bench_live.py``
(about 6 min on one free core, 5 of them the 120-minute replay; ``results/
live.json``); prints one JSON document. ``--minutes 5 --pushes 500 --ticks
100`` is a quick check. ``results/live_before.json`` holds the latency of the
live code before its optimisation (commit 54ab52e, ``--skip memory``).
"""

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ["OMP_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402

from sklearn_impression import CrossDomainRegressor, make_impression  # noqa: E402
from sklearn_impression.live import (  # noqa: E402
    LiveGroup,
    LivePredictor,
    make_live_pipeline,
)

FRAME = 0.04  # seconds per push: one label frame at 25 Hz
N_RECEIVERS, N_STIMULI, DURATION = 4, 2, 30.0


def _status_kb(field):
    """A ``/proc/self/status`` field in kB (``VmRSS``, ``VmHWM``), or None."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _mb(kb):
    return None if kb is None else round(kb / 1024, 2)


class _Count:
    """A file that only counts the bytes written to it."""

    n = 0

    def write(self, data):
        self.n += len(data)


def _pickled(obj):
    """Bytes of ``pickle.dump(obj)``, written to nowhere."""
    sink = _Count()
    pickle.dump(obj, sink)
    return sink.n


def _percentiles(seconds):
    ms = np.asarray(seconds) * 1e3
    return {"n": int(ms.size), "p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p95_ms": round(float(np.percentile(ms, 95)), 3),
            "p99_ms": round(float(np.percentile(ms, 99)), 3),
            "max_ms": round(float(ms.max()), 3), "mean_ms": round(float(ms.mean()), 3)}


class Looped:
    """40 ms chunks of one recording's streams, looped for ever."""

    def __init__(self, recording):
        self.streams = {m: (s.values, s.rate) for m, s in recording.streams.items()}

    def chunk(self, k):
        """Push ``k``: the samples of ``[k * 40 ms, (k + 1) * 40 ms)`` of every
        stream (boundaries from the cumulative time)."""
        out = {}
        for name, (values, rate) in self.streams.items():
            start = int(np.floor(rate * k * FRAME + 1e-9))
            stop = int(np.floor(rate * (k + 1) * FRAME + 1e-9))
            out[name] = values[np.arange(start, stop) % len(values)]
        return out


def _part(run):
    """``run()``'s result with its wall and CPU seconds and the load average."""
    load, wall, cpu = os.getloadavg()[0], time.perf_counter(), time.process_time()
    result = run()
    result.update(wall_s=round(time.perf_counter() - wall, 1),
                  cpu_s=round(time.process_time() - cpu, 1),
                  load_average_before=round(load, 2),
                  load_average_after=round(os.getloadavg()[0], 2))
    return result


def one_stream(pipe, data, rates, args):
    feed = Looped(data.recordings[0])
    live = LivePredictor(pipe, rates, receiver="new person")
    for k in range(args.warmup):
        live.push(feed.chunk(k))
    chunks = [feed.chunk(k) for k in range(args.warmup, args.warmup + args.pushes)]
    times, frames = [], []
    for chunk in chunks:
        start = time.perf_counter()
        out = live.push(chunk)
        times.append(time.perf_counter() - start)
        frames.append(len(out.frames))
    counts = np.bincount(frames)
    return {"latency": _percentiles(times), "target_p99_ms": 5.0,
            "met": bool(np.percentile(times, 99) * 1e3 <= 5.0),
            "frames_per_push": {str(n): int(c) for n, c in enumerate(counts) if c},
            "warmup_pushes": args.warmup}


def many_streams(pipe, data, rates, args):
    feeds = [Looped(data.recordings[i % len(data.recordings)])
             for i in range(args.people)]
    group = LiveGroup(pipe, rates)
    for i in range(args.people):
        group.join(i, receiver=f"new person {i}")

    def tick(k):
        return {i: feed.chunk(k) for i, feed in enumerate(feeds)}

    for k in range(args.warmup):
        group.push(tick(k))
    times, frames = [], []
    for k in range(args.warmup, args.warmup + args.ticks):
        chunks = tick(k)
        start = time.perf_counter()
        out = group.push(chunks)
        times.append(time.perf_counter() - start)
        frames.append(sum(len(o.frames) for o in out.values()))
    counts = np.bincount(frames)
    return {"people": args.people, "latency": _percentiles(times),
            "target_p99_ms": 40.0,
            "met": bool(np.percentile(times, 99) * 1e3 <= 40.0),
            "frames_per_tick": {str(n): int(c) for n, c in enumerate(counts) if c},
            "warmup_ticks": args.warmup}


def memory(pipe_path, data_path, minutes):
    """The replay, in this (fresh) process."""
    torch.set_num_threads(1)
    pipe = pickle.loads(Path(pipe_path).read_bytes())
    rec = pickle.loads(Path(data_path).read_bytes())
    feed = Looped(rec)
    rates = {m: s.rate for m, s in rec.streams.items()}
    live = LivePredictor(pipe, rates, receiver="new person")
    per_minute = int(round(60 / FRAME))
    marks = sorted({1, *range(10, minutes + 1, 10), minutes})
    points, frames, k = [], 0, 0
    for minute in marks:
        while k < minute * per_minute:
            frames += len(live.push(feed.chunk(k)).frames)
            k += 1
        # pickled first, then measured: every mark's peak includes the pickling
        person, whole = _pickled(live.group.people["person"]), _pickled(live)
        points.append({
            "minute": minute, "frames": frames,
            "peak_rss_mb": _mb(_status_kb("VmHWM")), "rss_mb": _mb(_status_kb("VmRSS")),
            "person_pickle_bytes": person, "predictor_pickle_bytes": whole})
    first, last = points[0], points[-1]
    growth = round(last["peak_rss_mb"] - first["peak_rss_mb"], 2)
    return {"minutes": minutes, "pushes": k, "points": points,
            "peak_rss_growth_mb": growth,
            "rss_growth_mb": round(last["rss_mb"] - first["rss_mb"], 2),
            "person_pickle_growth_bytes": (last["person_pickle_bytes"]
                                           - first["person_pickle_bytes"]),
            "target_growth_mb": 10.0, "met": bool(growth <= 10.0)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--pushes", type=int, default=3000)
    parser.add_argument("--ticks", type=int, default=1000)
    parser.add_argument("--people", type=int, default=64)
    parser.add_argument("--minutes", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=["one_stream", "streams_64", "memory"])
    parser.add_argument("--memory-child", nargs=2, metavar=("PIPE", "RECORDING"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.memory_child:
        print(json.dumps(_part(lambda: memory(*args.memory_child, args.minutes))))
        return

    start = time.perf_counter()
    data = make_impression(N_RECEIVERS, N_STIMULI, DURATION, random_state=args.seed)
    regressor = CrossDomainRegressor(max_epochs=args.epochs, random_state=args.seed)
    pipe = make_live_pipeline(regressor).fit(data.recordings, data.targets)
    fit_s = time.perf_counter() - start
    rec = data.recordings[0]
    rates = {m: s.rate for m, s in rec.streams.items()}
    net = pipe[-1].regressor_
    out = {
        "model": {k: net.get_params()[k] for k in (
            "hidden_size", "num_layers", "num_heads", "fc_size", "window",
            "normalize_by", "label_delay", "smoothing")},
        "n_parameters": int(sum(p.numel() for p in net.net_.module_.parameters())),
        "lookahead_s": pipe[-1].lookahead, "halflife_s": pipe[-1].halflife,
        "training": {"data": f"make_impression({N_RECEIVERS}, {N_STIMULI}, "
                             f"{DURATION}, random_state={args.seed})",
                     "epochs": args.epochs, "fit_s": round(fit_s, 1),
                     "note": "latency does not depend on the training"},
        "rates_hz": rates,
        "channels": {m: int(s.values.shape[1]) for m, s in rec.streams.items()},
        "push_seconds": FRAME,
        "threads": {"torch": torch.get_num_threads(),
                    "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")},
        "torch": torch.__version__, "python": sys.version.split()[0],
        "cores": os.cpu_count(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }
    if "one_stream" not in args.skip:
        out["one_stream"] = _part(lambda: one_stream(pipe, data, rates, args))
    if "streams_64" not in args.skip:
        out["streams_64"] = _part(lambda: many_streams(pipe, data, rates, args))
    if "memory" not in args.skip:
        with tempfile.TemporaryDirectory() as tmp:
            pipe_path, rec_path = Path(tmp, "pipe.pkl"), Path(tmp, "rec.pkl")
            pipe_path.write_bytes(pickle.dumps(pipe))
            rec_path.write_bytes(pickle.dumps(rec))
            child = subprocess.run(
                [sys.executable, __file__, "--memory-child", str(pipe_path),
                 str(rec_path), "--minutes", str(args.minutes)],
                stdout=subprocess.PIPE, text=True, check=True)
        out["memory"] = json.loads(child.stdout.strip().splitlines()[-1])
    out["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
