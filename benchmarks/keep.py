"""Run a benchmark command and keep its JSON in ``benchmarks/results/NAME.json``.

Every published figure comes from a file this wrapper wrote (or from one written
by a benchmark's own ``--out``). It runs the command in a subprocess, reads the
JSON document the command prints on stdout (the last one, when it prints one per
line) and stores it under ``"result"`` together with what is needed to judge and
rerun it: the command line, the commit and whether the tree had local changes,
the package version, the CPU model, cores, the 1-minute load averages before and
after (speed figures from a busy machine say so), ``OMP_NUM_THREADS``, the date
and the wall time of the whole command::

    python benchmarks/keep.py overhead -- python benchmarks/bench_overhead.py

``--repo DIR`` runs the command in another checkout (a snapshot made with ``git
worktree add``), with ``PYTHONPATH=DIR``, and records that checkout's commit;
``--results DIR`` is where the file goes (default: this checkout's
``benchmarks/results``). ``--note TEXT`` adds a note. Torch-free.
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def cpu_model():
    """The CPU's model name (``lscpu``), else ``platform.processor()``."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return platform.processor()
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def _git(repo, *args):
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def package_version(repo):
    text = (Path(repo) / "sklearn_impression" / "_version.py").read_text()
    for line in text.splitlines():
        if line.startswith("__version__"):
            return line.split("=", 1)[1].strip().strip("\"'")
    return None


def last_json(stdout):
    """The whole output as one JSON document, else its last JSON line."""
    try:
        return json.loads(stdout)
    except json.JSONDecodeError:
        pass
    for line in reversed(stdout.strip().splitlines()):
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            continue
    raise ValueError("the command printed no JSON on stdout")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv:
        raise SystemExit("usage: keep.py NAME [--repo DIR] [--results DIR] "
                         "[--note TEXT] -- COMMAND ...")
    split = argv.index("--")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--repo", default=str(HERE.parent))
    parser.add_argument("--results", default=str(HERE / "results"))
    parser.add_argument("--note", default=None)
    args = parser.parse_args(argv[:split])
    command = argv[split + 1:]
    repo = Path(args.repo).resolve()
    env = {**os.environ, "PYTHONPATH": str(repo)}
    record = {
        "name": args.name,
        "command": shlex.join(command),
        "commit": _git(repo, "rev-parse", "HEAD"),
        "local_changes": bool(_git(repo, "status", "--porcelain",
                                   "--untracked-files=no")),
        "package_version": package_version(repo),
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(),
                    "platform": platform.platform(),
                    "python": platform.python_version(),
                    "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
                    "load_average_before": [round(x, 2) for x in os.getloadavg()]},
        "date": datetime.date.today().isoformat(),
    }
    if args.note:
        record["note"] = args.note
    start = time.perf_counter()
    done = subprocess.run(command, cwd=repo, env=env, stdout=subprocess.PIPE,
                          text=True, check=True)
    record["wall_s"] = round(time.perf_counter() - start, 1)
    record["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    record["result"] = last_json(done.stdout)
    out = Path(args.results) / f"{args.name}.json"
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(out)


if __name__ == "__main__":
    main()
