"""The results kept before and after the subpackage refactor are the same
(timings aside), and the comparison notices one changed value."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KEPT = ROOT / "benchmarks" / "results" / "refactor"


def _compare():
    spec = importlib.util.spec_from_file_location(
        "compare_results", ROOT / "benchmarks" / "compare_results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("later", ["after", "final"])
def test_refactor_changed_no_result(capsys, later):
    """``after``: the refactored package (c486d3e); ``final``: with the live
    package and its shared predict path (30a55cb)."""
    assert _compare().main([str(KEPT / "before"), str(KEPT / later)]) == 0
    out = capsys.readouterr().out
    assert "demo.json: 967 values compared, 0 differ" in out


def test_a_changed_ccc_is_reported(tmp_path):
    report = json.loads((KEPT / "after" / "demo.json").read_text())
    first = report["table"][0]
    key = next(k for k, v in first.items() if isinstance(v, float))
    first[key] += 0.001
    changed = tmp_path / "demo.json"
    changed.write_text(json.dumps(report))
    compared, found = _compare().differences(
        json.loads((KEPT / "before" / "demo.json").read_text()), report)
    assert compared == 967 and len(found) == 1 and found[0][0].endswith(key)
