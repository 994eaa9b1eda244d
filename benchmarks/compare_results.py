"""Compare two benchmark JSON files, ignoring timings and machine details.

Prints every value that differs (a path and both values) and how many values
were compared; exits 1 when something differs. Used to show that a refactor
changed no result::

    python benchmarks/compare_results.py benchmarks/results/refactor/before \\
        benchmarks/results/refactor/after

compares the files of the same name in two folders (or two files).
"""

import argparse
import json
import sys
from pathlib import Path

#: Keys holding timings, paths or the machine: they may differ between runs.
IGNORED = ("wall_time", "fit_seconds", "fit_time", "predict_time", "enrol_time",
           "cpu_time", "files", "machine", "seconds", "elapsed", "load_average",
           "date", "command", "platform")


def differences(a, b, path=""):
    """``(compared, [(path, a, b), ...])`` over the values of two JSON trees."""
    if type(a) is not type(b):
        return 1, [(path, a, b)]
    if isinstance(a, dict):
        compared, found = 0, []
        for key in sorted(set(a) | set(b)):
            if any(word in key for word in IGNORED):
                continue
            if key not in a or key not in b:
                found.append((f"{path}/{key}", a.get(key), b.get(key)))
                continue
            n, d = differences(a[key], b[key], f"{path}/{key}")
            compared, found = compared + n, found + d
        return compared, found
    if isinstance(a, list):
        if len(a) != len(b):
            return 1, [(path, f"{len(a)} items", f"{len(b)} items")]
        compared, found = 0, []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            n, d = differences(x, y, f"{path}[{i}]")
            compared, found = compared + n, found + d
        return compared, found
    return 1, ([] if a == b else [(path, a, b)])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first")
    parser.add_argument("second")
    args = parser.parse_args(argv)
    first, second = Path(args.first), Path(args.second)
    pairs = ([(first, second)] if first.is_file() else
             [(p, second / p.name) for p in sorted(first.glob("*.json"))])
    failed = False
    for a, b in pairs:
        compared, found = differences(json.loads(a.read_text()),
                                      json.loads(b.read_text()))
        print(f"{a.name}: {compared} values compared, {len(found)} differ")
        for path, x, y in found:
            print(f"  {path}: {x!r} != {y!r}")
        failed |= bool(found)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
