"""Loading the paper-scale released layout from CSV: time and peak memory (issue 6).

Writes (once, then reuses) a released-layout folder of the paper's size with
:func:`~sklearn_impression.datasets.write_impression`: 40 receivers x 44,923 label
frames (13 stimuli), 412 emitter and 68 receiver features, random float32 values
written with ``%.9g`` (13-16 characters a value: larger files than typical
tool output, so a conservative case). The streams are built directly at the label
rate (no raw device-rate streams, no resampling).

Then, in a fresh subprocess per run, times
:func:`~sklearn_impression.datasets.load_impression` on it, once per ``--n-jobs``
value (default 1 and 2: serial, and two parsing processes): wall time, CPU time
of the process and of the worker processes it starts, peak RSS (``ru_maxrss`` of
the process, and the sampled peak of the whole process tree), and the bytes of the
float32 arrays it returns. Target (issue 6): <= 60 s.

Run ``python benchmarks/bench_load.py [--root /tmp/paper_layout] [--n-jobs 1 2]
[--repeats 1]``;
prints JSON. ``--receivers/--frames/--stimuli`` change the size (a different size
needs another ``--root`` or ``--regenerate``).
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

#: Sizes of the paper's data (the released IMPRESSION features).
PAPER = {"receivers": 40, "frames": 44923, "stimuli": 13, "n_emitter": 412,
         "n_receiver": 68}
#: Column split of the synthetic layout (sums to 412 and 68).
EMITTER_CHANNELS = {"audio": 369, "eye": 8, "face": 35}
RECEIVER_CHANNELS = {"eye": 30, "face": 35, "physio": 3}
MARKER = ".bench_layout.json"


# -- shared helpers (bench_scaling.py and bench_window.py import these) ------------
def machine_info():
    """Platform, CPU count, load average and library versions."""
    import sklearn
    import skorch
    import torch

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "versions": {"torch": torch.__version__, "numpy": np.__version__,
                     "sklearn": sklearn.__version__, "skorch": skorch.__version__},
    }


_PAGE = os.sysconf("SC_PAGE_SIZE")
_TICK = os.sysconf("SC_CLK_TCK")


def _proc_table():
    """``{pid: (ppid, rss_bytes, cpu_seconds)}`` of all readable processes."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        # fields[0] is state (field 3); ppid field 4, utime 14, stime 15, rss 24
        table[int(entry)] = (int(fields[1]),
                             int(fields[21]) * _PAGE,
                             (int(fields[11]) + int(fields[12])) / _TICK)
    return table


class TreeSampler(threading.Thread):
    """Sample the RSS of this process and its descendants every ``interval`` s.

    With ``tree=False`` only this process is sampled (cheap: one read of
    ``/proc/self/statm``). ``timeline`` keeps ``(perf_counter, rss)`` samples.

    ``peak_rss`` is the largest sum seen; ``children_cpu`` the last CPU time seen
    of each descendant, summed (worker pools that outlive the measurement are
    counted too, which ``RUSAGE_CHILDREN`` would miss).
    """

    def __init__(self, interval=0.05, tree=True):
        super().__init__(daemon=True)
        self.interval = interval
        self.tree = tree
        self.timeline = []  # (perf_counter, rss bytes)
        self.peak_rss = 0
        self.peak_children = 0
        self._cpu = {}
        self._halt = threading.Event()

    def sample(self):
        if not self.tree:
            total = rss_now()
            self.peak_rss = max(self.peak_rss, total)
            self.timeline.append((time.perf_counter(), total))
            return
        table = _proc_table()
        me = os.getpid()
        tree, frontier = {me}, [me]
        children = {}
        for pid, (ppid, _, _) in table.items():
            children.setdefault(ppid, []).append(pid)
        while frontier:
            pid = frontier.pop()
            for child in children.get(pid, ()):
                if child not in tree:
                    tree.add(child)
                    frontier.append(child)
        total = sum(table[p][1] for p in tree if p in table)
        self.peak_rss = max(self.peak_rss, total)
        self.timeline.append((time.perf_counter(), total))
        self.peak_children = max(self.peak_children, len(tree) - 1)
        for pid in tree - {me}:
            if pid in table:
                self._cpu[pid] = table[pid][2]

    @property
    def children_cpu(self):
        return sum(self._cpu.values())

    def run(self):
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def stop(self):
        self._halt.set()
        self.join()
        self.sample()


def rss_now():
    """Current RSS of this process in bytes."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * _PAGE


def max_rss():
    """Peak RSS of this process so far in bytes (``ru_maxrss``)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def gb(n_bytes):
    return round(n_bytes / 1e9, 3)


def run_worker(script, args, env=None):
    """Run ``script --worker args`` in a fresh interpreter; return its JSON."""
    command = [sys.executable, str(script), "--worker", *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the layout -----------------------------------------------------------------
def stimulus_lengths(n_frames, n_stimuli):
    """``n_stimuli`` lengths summing to ``n_frames``, the last takes the rest."""
    base = n_frames // n_stimuli
    return [base] * (n_stimuli - 1) + [n_frames - base * (n_stimuli - 1)]


def make_recordings(n_receivers, n_frames, n_stimuli, seed=0):
    """Label-rate recordings of the layout's size, random float32 features."""
    from sklearn_impression import Recording, Stream

    rng = np.random.default_rng(seed)
    rate = 25.0
    emitters = []
    for length in stimulus_lengths(n_frames, n_stimuli):
        emitters.append({
            f"emitter.{m}": Stream(rng.standard_normal((length, n), np.float32),
                                   rate, [f"{m}_{k}" for k in range(n)])
            for m, n in EMITTER_CHANNELS.items()})
    recordings, targets = [], []
    for receiver in range(n_receivers):
        for stimulus, streams in enumerate(emitters):
            length = next(iter(streams.values())).n_samples
            streams = dict(streams)
            for m, n in RECEIVER_CHANNELS.items():
                streams[f"receiver.{m}"] = Stream(
                    rng.standard_normal((length, n), np.float32), rate,
                    [f"{m}_{k}" for k in range(n)])
            recordings.append(Recording(streams, length, rate, receiver=receiver,
                                        stimulus=stimulus))
            targets.append(rng.uniform(-1, 1, (length, 2)))
    return recordings, targets


def ensure_layout(root, n_receivers=PAPER["receivers"], n_frames=PAPER["frames"],
                  n_stimuli=PAPER["stimuli"], regenerate=False, reuse_any=False):
    """Write the layout under ``root`` unless a complete one of that size is there.

    ``reuse_any=True`` reuses a complete layout of any size (its sizes are read
    from the marker file).

    Returns a dict with the sizes, the file bytes and the seconds spent writing
    (0 when reused).
    """
    from sklearn_impression.datasets import write_impression

    root = Path(root)
    sizes = {"receivers": n_receivers, "frames_per_receiver": n_frames,
             "stimuli": n_stimuli, "n_emitter": sum(EMITTER_CHANNELS.values()),
             "n_receiver": sum(RECEIVER_CHANNELS.values())}
    marker = root / MARKER
    if reuse_any and not regenerate and marker.is_file():
        sizes = json.loads(marker.read_text())
    seconds = 0.0
    if regenerate or not marker.is_file() or json.loads(marker.read_text()) != sizes:
        if marker.is_file():
            marker.unlink()
        start = time.perf_counter()
        recordings, targets = make_recordings(n_receivers, n_frames, n_stimuli)
        write_impression(root, recordings, targets, overwrite=True)
        del recordings, targets
        seconds = time.perf_counter() - start
        marker.write_text(json.dumps(sizes))
    files = [p for p in root.rglob("*.csv")]
    return {**sizes, "root": str(root), "csv_files": len(files),
            "csv_bytes": sum(p.stat().st_size for p in files),
            "write_seconds": round(seconds, 2)}


# -- measurement -----------------------------------------------------------------
def worker(root, n_jobs):
    """Time one ``load_impression(root, n_jobs=n_jobs)`` in this (fresh) process."""
    from sklearn_impression.datasets import load_impression

    baseline = rss_now()
    load_before = os.getloadavg()
    sampler = TreeSampler()
    sampler.start()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    data = load_impression(root, n_jobs=n_jobs)
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    sampler.stop()
    seen, data_bytes = set(), 0
    for rec in data.recordings:
        for stream in rec.streams.values():
            if id(stream.values) not in seen:
                seen.add(id(stream.values))
                data_bytes += stream.values.nbytes
    data_bytes += sum(t.nbytes for t in data.targets)
    return {
        "n_jobs": n_jobs,
        "wall_s": round(wall, 2),
        "cpu_s_process": round(cpu, 2),
        "cpu_s_workers": round(sampler.children_cpu, 2),
        "worker_processes_seen": sampler.peak_children,
        "peak_rss_gb_process": gb(max_rss()),
        "peak_rss_gb_tree_sampled": gb(sampler.peak_rss),
        "rss_gb_before_load": gb(baseline),
        "rss_gb_after_load": gb(rss_now()),
        "returned_array_gb": gb(data_bytes),
        "recordings": len(data.recordings),
        "frames": int(sum(r.n_frames for r in data.recordings)),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default="/tmp/paper_layout")
    parser.add_argument("--receivers", type=int, default=None,
                        help="layout size (default: reuse the layout under --root, "
                             "else write the paper's 40 x 44,923 frames, 13 stimuli)")
    parser.add_argument("--frames", type=int, default=None)
    parser.add_argument("--stimuli", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--n-jobs", type=int, nargs="+", default=[1, 2],
                        help="load_impression n_jobs values to time (each a run)")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.root, args.n_jobs[0])))
        return
    machine = machine_info()
    given = (args.receivers, args.frames, args.stimuli)
    layout = ensure_layout(
        args.root, args.receivers or PAPER["receivers"], args.frames or PAPER["frames"],
        args.stimuli or PAPER["stimuli"], args.regenerate,
        reuse_any=given == (None, None, None))
    runs = [run_worker(__file__, ["--root", args.root, "--n-jobs", n_jobs])
            for _ in range(args.repeats) for n_jobs in args.n_jobs]
    best = {}
    for run in runs:
        if run["n_jobs"] not in best or run["wall_s"] < best[run["n_jobs"]]["wall_s"]:
            best[run["n_jobs"]] = run
    print(json.dumps({
        "benchmark": "bench_load",
        "machine": machine,
        "layout": layout,
        "target_wall_s": 60,
        "best": [{"n_jobs": n, "wall_s": r["wall_s"],
                  "cpu_s": round(r["cpu_s_process"] + r["cpu_s_workers"], 2),
                  "csv_mb_per_wall_s": round(layout["csv_bytes"] / 1e6 / r["wall_s"],
                                             1),
                  "peak_rss_gb_tree": r["peak_rss_gb_tree_sampled"]}
                 for n, r in sorted(best.items())],
        "runs": runs,
        "load_average_end": os.getloadavg(),
    }, indent=1))


if __name__ == "__main__":
    main()
