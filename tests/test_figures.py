"""Published figures equal the benchmark results they come from.

Every measurement in ``README.md`` and ``docs/`` sits in a block that
``benchmarks/render_figures.py`` writes from the JSON in ``benchmarks/results/``
(``docs/figures.rst`` lists them). These tests write every block again and
compare, fail on a measured-looking number outside the blocks, and check that
each results file says how it was made, so a figure cannot drift from its
evidence. No timing is asserted: the speed figures are compared as printed.
"""

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def _module(name):
    spec = importlib.util.spec_from_file_location(
        name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FIGURES = _module("render_figures")
DOCUMENTS = FIGURES.documents(ROOT)


def _rel(path):
    return Path(path).relative_to(ROOT).as_posix()


def _readme_block(text, name="new_content"):
    match = re.search(rf"<!-- figures: {name} -->\n?(.*?)<!-- /figures -->", text,
                      re.S)
    assert match, f"README.md has no {name} figures block"
    return match.group(1)


def test_guide_tables_match_the_results():
    written = (ROOT / "docs" / "user_guide" / "new_content_tables.rst").read_text()
    assert written == _module("new_content_tables").render(RESULTS)


def test_readme_table_matches_the_results():
    assert _readme_block((ROOT / "README.md").read_text()) == \
        _module("new_content_tables").readme_table(RESULTS)


@pytest.mark.parametrize("path", DOCUMENTS, ids=_rel)
def test_every_block_matches_its_results(path):
    """Each block of the file is exactly what its JSON renders to."""
    assert path.read_text() == FIGURES.rendered(path, RESULTS)


@pytest.mark.parametrize("path", DOCUMENTS, ids=_rel)
def test_no_measured_figure_outside_the_blocks(path):
    assert FIGURES.unbacked(path, ROOT) == []


def test_the_blocks_are_where_the_figures_are():
    """README and the pages quoting measurements have blocks; every block is used."""
    names = {name for path in DOCUMENTS for name, _ in FIGURES.blocks(path)}
    assert names == set(FIGURES.BLOCKS)
    for rel in ("README.md", "docs/performance.rst", "docs/figures.rst",
                "docs/user_guide/new_content.rst", "docs/user_guide/new_people.rst",
                "docs/user_guide/enrolment.rst", "docs/user_guide/cluster.rst",
                "docs/user_guide/raw_signals.rst", "docs/user_guide/network.rst"):
        assert FIGURES.blocks(ROOT / rel), rel
    assert FIGURES.check(RESULTS, ROOT) == []


def _changed(text, pattern):
    """The text with the first match of ``pattern``'s group 1 (x.xxx) moved by 0.001."""
    match = re.search(pattern, text)
    assert match, pattern
    value = match.group(1)
    new = f"{float(value) + 0.001:.3f}"
    start, end = match.span(1)
    return text[:start] + new + text[end:]


def test_a_changed_figure_is_caught(tmp_path):
    """Changing one README figure by 0.001 fails the comparison."""
    block = _readme_block((ROOT / "README.md").read_text())
    number = re.search(r"\| (0\.\d{3}) \|", block)
    changed = block.replace(number.group(0),
                            f"| {float(number.group(1)) + 0.001:.3f} |", 1)
    assert changed != _module("new_content_tables").readme_table(RESULTS)


@pytest.mark.parametrize("rel, pattern", [
    ("README.md", r"\| CrossDomainRegressor \| (0\.\d{3}) \|"),   # the demo's table
    ("README.md", r"keeps most of it\n<!-- figures: demo_new_content -->\((0\.\d{3})"),
    ("docs/user_guide/new_content.rst", r"\|nc_rs_imp\| replace:: \+(0\.\d{3})"),
    ("docs/user_guide/enrolment.rst", r"\|en_speed_w1_plain\| replace:: (0\.\d{3})"),
    ("docs/user_guide/new_people.rst", r"     - (0\.\d{3}) /"),
])
def test_a_figure_changed_by_0_001_is_caught(tmp_path, rel, pattern):
    """Any block's figure moved by 0.001 in a copy of the file fails the comparison."""
    copy = tmp_path / Path(rel).name
    copy.write_text(_changed((ROOT / rel).read_text(), pattern))
    assert copy.read_text() != FIGURES.rendered(copy, RESULTS)


def test_a_figure_typed_outside_a_block_is_caught(tmp_path):
    copy = tmp_path / "README.md"
    copy.write_text((ROOT / "README.md").read_text()
                    + "\nIt scores 0.812 here, at 9,000 frames/s and 1.2 GB.\n")
    found = FIGURES.unbacked(copy, tmp_path)
    assert found == ["0.812", "9,000 frames/s", "1.2 GB"]


def test_the_paper_s_own_figures_are_the_only_exceptions():
    for rel, allowed in FIGURES.NOT_MEASURED.items():
        text = FIGURES.outside_blocks(ROOT / rel)
        for number, reason in allowed.items():
            assert number in text and reason


@pytest.mark.parametrize("path", [p for p in DOCUMENTS if p.suffix == ".rst"],
                         ids=_rel)
def test_every_quoted_value_is_defined_and_used(path):
    """Substitutions written from results are quoted in the page, and only those."""
    text = re.sub(r"``.*?``", "", path.read_text(), flags=re.S)  # literals quote none
    defined = set(re.findall(r"^\.\. \|(\w+)\| replace::", text, re.M))
    used = set(re.findall(r"(?<!\.\. )\|(\w+)\|(?! replace::)", text))
    assert defined == used


def _results_files():
    names = set()
    for _, files, _ in [*FIGURES.BLOCKS.values(), *FIGURES.FILES.values()]:
        names.update(files)
    return sorted(names)


def test_every_results_file_is_quoted():
    assert set(_results_files()) == {p.name for p in RESULTS.glob("*.json")}


@pytest.mark.parametrize("name", _results_files())
def test_results_say_how_they_were_made(name):
    report = json.loads((RESULTS / name).read_text())
    assert "benchmarks/" in report["command"]
    if "result" in report:   # kept by benchmarks/keep.py
        assert report["command"].startswith("python benchmarks/")
        assert re.fullmatch(r"[0-9a-f]{40}", report["commit"])
        assert report["package_version"]
        machine = report["machine"]
        assert machine["cpu"] and machine["cores"]
        assert len(machine["load_average_before"]) == 3
        assert len(machine["load_average_after"]) == 3
    else:                     # written by the benchmark itself (--out)
        assert report.get("settings")
        assert report.get("machine") or "Xeon" in report.get("note", "")
