"""Wall and CPU time of ``sklearn-impression demo`` (issue 13).

Runs the demo as a user would, ``python -m sklearn_impression.cli demo``, in a
fresh process per run, and prints JSON with the machine (CPU model, cores, 1-minute
load average before and after), the wall time and the user + system CPU time of
the demo and every process it started (its joblib workers included), and the
demo's table, for each ``--n-jobs`` given.

Run ``python benchmarks/bench_demo.py [--n-jobs -1 1] [--caps]``; ``--caps`` sets
``ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2`` as on an AVX2-only CPU.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from keep import cpu_model  # this folder's keep.py (the script's own folder)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-jobs", type=int, nargs="+", default=[-1])
    parser.add_argument("--caps", action="store_true")
    args = parser.parse_args()
    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(repo), "OMP_NUM_THREADS": "1"}
    if args.caps:
        env.update(ONEDNN_MAX_CPU_ISA="AVX2", ATEN_CPU_CAPABILITY="avx2")
    runs = []
    for n_jobs in args.n_jobs:
        out = tempfile.mkdtemp(prefix="bench_demo_")
        load_before = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sklearn_impression.cli", "demo",
                        "--quiet", "--out", out, "--n-jobs", str(n_jobs)],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        report = json.loads((Path(out) / "demo.json").read_text())
        runs.append({
            "n_jobs": n_jobs, "processes": report["n_jobs"],
            "wall_s": round(wall, 1),
            "user_s": round(after.ru_utime - before.ru_utime, 1),
            "sys_s": round(after.ru_stime - before.ru_stime, 1),
            "fit_seconds": report["fit_seconds"],
            "load_1min_before": load_before, "load_1min_after": os.getloadavg()[0],
            "table": report["table"],
        })
    print(json.dumps({
        "benchmark": "bench_demo",
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(),
                    "platform": platform.platform(),
                    "caps": "ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2"
                    if args.caps else None},
        "command": "python -m sklearn_impression.cli demo --quiet --n-jobs N",
        "runs": runs,
    }))


if __name__ == "__main__":
    main()
