"""Published figures equal the benchmark results they come from.

The user guide's "New content" tables and the README's new-content table are
written by ``benchmarks/new_content_tables.py`` from the JSON that
``benchmarks/bench_new_content.py`` and ``bench_new_content_options.py`` keep in
``benchmarks/results/``; these tests write them again and compare, so a figure
cannot drift from its evidence.
"""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def _tables():
    spec = importlib.util.spec_from_file_location(
        "new_content_tables", ROOT / "benchmarks" / "new_content_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _readme_block(text):
    match = re.search(r"<!-- figures: new_content -->\n(.*?)<!-- /figures -->",
                      text, re.S)
    assert match, "README.md has no new_content figures block"
    return match.group(1)


def test_guide_tables_match_the_results():
    written = (ROOT / "docs" / "user_guide" / "new_content_tables.rst").read_text()
    assert written == _tables().render(RESULTS)


def test_readme_table_matches_the_results():
    assert _readme_block((ROOT / "README.md").read_text()) == \
        _tables().readme_table(RESULTS)


def test_a_changed_figure_is_caught(tmp_path):
    """Changing one README figure by 0.001 fails the comparison."""
    block = _readme_block((ROOT / "README.md").read_text())
    number = re.search(r"\| (0\.\d{3}) \|", block)
    changed = block.replace(number.group(0),
                            f"| {float(number.group(1)) + 0.001:.3f} |", 1)
    assert changed != _tables().readme_table(RESULTS)


@pytest.mark.parametrize("name", ["new_content.json", "new_content_before.json",
                                  "new_content_options.json",
                                  "new_content_emitter_dropout.json"])
def test_results_say_how_they_were_made(name):
    import json

    report = json.loads((RESULTS / name).read_text())
    assert "python benchmarks/" in report["command"]
    assert report.get("settings")
