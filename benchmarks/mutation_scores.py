"""Mutation scores (mutmut 3), one module at a time with the tests given for it.

For each module a fresh copy of the working tree's ``sklearn_impression/`` and
``tests/`` (with ``pyproject.toml``) is made in a temporary folder, whose
``setup.cfg`` holds this checkout's ``[mutmut]`` section with ``only_mutate``
set to that module and ``pytest_add_cli_args_test_selection`` to its test files
(so nothing of this checkout changes and no ``mutants/`` folder is left here).
There ``mutmut run --max-children 1`` runs with ``OMP_NUM_THREADS=1``, then
``mutmut results --all true`` is read, and the folder is removed.

Per module the JSON gives the number of mutants, the count of each mutmut
status, the score and the surviving mutants' names. The score is
``killed / (killed + survived)``: *killed* is mutmut's status "killed" (a
selected test failed or pytest stopped with an internal error), *survived* its
status "survived" (every selected test that reaches the mutated function
passed); mutants that timed out, were suspicious, skipped, had no tests, crashed
or were not checked count in neither.

Run::

    python benchmarks/keep.py mutation -- python benchmarks/mutation_scores.py \\
        --nice 10

``MODULE`` arguments (``regressor/_temporal.py`` or the full path) choose some
of :data:`MODULES` (default: all but ``regressor/_adapt.py``, the longest).
``--merge FILE`` carries the modules not run now over from an earlier file of
``keep.py`` (each module says which run its numbers come from).
``--max-minutes`` stops a module's run after that wall time and reports what
finished (``"complete": false``). Torch-free itself.
"""

import argparse
import configparser
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: Each module and the test files its mutants run.
MODULES = {
    "sklearn_impression/regressor/_temporal.py": [
        "tests/test_new_people.py", "tests/test_enrolment.py", "tests/test_live.py"],
    "sklearn_impression/regressor/_stimulus_traces.py": [
        "tests/test_experiments.py", "tests/test_enrolment.py"],
    "sklearn_impression/metrics/_ccc.py": [
        "tests/test_metrics.py", "tests/test_ccc_agreement.py"],
    "sklearn_impression/regressor/_listeners.py": [
        "tests/test_enrolment.py", "tests/test_enrolment_state.py",
        "tests/test_listener_table.py"],
    "sklearn_impression/regressor/_calibration.py": [
        "tests/test_enrolment.py", "tests/test_enrolment_state.py",
        "tests/test_listener_table.py"],
    "sklearn_impression/regressor/_adapt.py": [
        "tests/test_enrolment.py", "tests/test_enrolment_state.py"],
}
DEFAULT = [m for m in MODULES if not m.endswith("_adapt.py")]

#: mutmut's statuses, as ``mutmut results`` prints them, and their JSON keys.
STATUSES = {"killed": "killed", "survived": "survived", "timeout": "timeout",
            "suspicious": "suspicious", "skipped": "skipped",
            "no tests": "no_tests", "segfault": "segfault",
            "caught by type check": "caught_by_type_check",
            "not checked": "not_checked",
            "check was interrupted by user": "interrupted"}
SCORE = ("killed / (killed + survived); killed: mutmut status 'killed' (a selected "
         "test failed, pytest exit 1 or 3); survived: status 'survived' (the "
         "selected tests reaching the mutated function passed, exit 0); timeout, "
         "suspicious, skipped, no tests, segfault, caught by type check and not "
         "checked count in neither")
RESULT_LINE = re.compile(r"^\s+(\S+): (.+?)\s*$")


def natural(name):
    """Sort key: mutant names in the order of their numbers."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def module_path(name):
    """The full path in :data:`MODULES` of ``name`` (full or below the package)."""
    for path in MODULES:
        if name in (path, path.removeprefix("sklearn_impression/")):
            return path
    raise SystemExit(f"unknown module {name!r}; known: {', '.join(MODULES)}")


def mutmut_config(module, tests):
    """This checkout's ``[mutmut]`` section with ``module`` and ``tests``."""
    parser = configparser.ConfigParser()
    parser.read(REPO / "setup.cfg")
    section = dict(parser["mutmut"]) if parser.has_section("mutmut") else {}
    section["only_mutate"] = "\n" + module
    section["pytest_add_cli_args_test_selection"] = "\n" + "\n".join(tests)
    out = configparser.ConfigParser()
    out["mutmut"] = section
    return out, section


def copy_tree(work):
    """The package, the tests and ``pyproject.toml`` of this checkout in ``work``."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache",
                                    ".hypothesis")
    for name in ("sklearn_impression", "tests"):
        shutil.copytree(REPO / name, work / name, ignore=ignore)
    shutil.copy2(REPO / "pyproject.toml", work / "pyproject.toml")


def read_results(work, env):
    """``{mutant name: status}`` from ``mutmut results --all true``."""
    out = subprocess.run(["mutmut", "results", "--all", "true"], cwd=work, env=env,
                         capture_output=True, text=True, check=True).stdout
    statuses = {}
    for line in out.splitlines():
        match = RESULT_LINE.match(line)
        if match:
            statuses[match.group(1)] = match.group(2)
    return statuses


def run_module(module, tests, max_minutes, keep_dir=None):
    """mutmut on ``module`` with ``tests`` in a temporary copy; its counts."""
    missing = [t for t in tests if not (REPO / t).exists()]
    if missing:
        raise SystemExit(f"{module}: test files missing: {missing}")
    work = Path(tempfile.mkdtemp(prefix="mutmut-scores-"))
    try:
        copy_tree(work)
        config, section = mutmut_config(module, tests)
        with open(work / "setup.cfg", "w") as f:
            config.write(f)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env["OMP_NUM_THREADS"] = "1"
        command = ["mutmut", "run", "--max-children", "1"]
        print(f"{module}: {' '.join(command)} with {' '.join(tests)}", file=sys.stderr,
              flush=True)
        start = time.perf_counter()
        with open(work / "mutmut.log", "w") as log:
            process = subprocess.Popen(command, cwd=work, env=env, stdout=log,
                                       stderr=subprocess.STDOUT,
                                       start_new_session=True)
            try:
                rc = process.wait(timeout=None if max_minutes is None
                                  else 60 * max_minutes)
                complete = True
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    rc = process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    rc = process.wait()
                complete = False
        wall = time.perf_counter() - start
        if complete and rc != 0:
            tail = (work / "mutmut.log").read_text(errors="replace")[-3000:]
            raise SystemExit(f"{module}: mutmut run exited {rc}\n{tail}")
        statuses = read_results(work, env)
        if keep_dir is not None:
            shutil.copy2(work / "mutmut.log",
                         Path(keep_dir) / (Path(module).stem + ".log"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    counts = Counter(STATUSES.get(s, s) for s in statuses.values())
    killed, survived = counts["killed"], counts["survived"]
    entry = {
        "module": module, "tests": tests, "mutants": len(statuses),
        **{key: counts[key] for key in dict.fromkeys(STATUSES.values())},
        "score": (round(killed / (killed + survived), 4)
                  if killed + survived else None),
        "complete": complete and counts["not_checked"] == 0,
        "wall_s": round(wall, 1),
        "survivors": sorted((n for n, s in statuses.items() if s == "survived"),
                            key=natural),
        "mutmut_options": {k: v.split() for k, v in section.items()
                           if k not in ("only_mutate",
                                        "pytest_add_cli_args_test_selection")},
        "run": "this",
    }
    others = sorted(set(counts) - set(STATUSES.values()))
    if others:
        entry["other_statuses"] = {k: counts[k] for k in others}
    print(f"{module}: {len(statuses)} mutants, {killed} killed, {survived} survived, "
          f"score {entry['score']}, {wall:.0f} s", file=sys.stderr, flush=True)
    return entry


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", default=DEFAULT)
    parser.add_argument("--nice", type=int, default=0,
                        help="raise this process's (and mutmut's) niceness by N")
    parser.add_argument("--max-minutes", type=float, default=None,
                        help="stop a module's mutmut run after this wall time")
    parser.add_argument("--merge", default=None,
                        help="a keep.py file whose other modules are carried over")
    parser.add_argument("--logs", default=None,
                        help="folder to copy each module's mutmut log into")
    args = parser.parse_args(argv)
    if args.nice:
        os.nice(args.nice)
    modules = [module_path(m) for m in args.modules]
    entries = {m: run_module(m, MODULES[m], args.max_minutes, args.logs)
               for m in modules}
    if args.merge:
        earlier = json.loads(Path(args.merge).read_text())
        origin = {k: earlier.get(k) for k in ("command", "commit", "local_changes",
                                              "date")}
        for entry in earlier["result"]["modules"]:
            if entry["module"] not in entries:
                if entry["run"] == "this":
                    entry["run"] = origin
                entries[entry["module"]] = entry
    order = list(MODULES)
    print(json.dumps({
        "tool": "mutmut", "mutmut_version": version("mutmut"),
        "python": platform.python_version(),
        "command": "mutmut run --max-children 1 (OMP_NUM_THREADS=1), then mutmut "
                   "results --all true, one module at a time in a temporary copy",
        "score": SCORE,
        "run_note": "'run': 'this' is this file's command and commit; otherwise the "
                    "command, commit and date of the earlier run the module's "
                    "numbers come from",
        "modules": sorted(entries.values(), key=lambda e: order.index(e["module"])),
    }, indent=1))


if __name__ == "__main__":
    main()
