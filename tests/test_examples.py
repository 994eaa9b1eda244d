"""The gallery scripts in ``examples/`` run end to end.

Each script runs in its own Python process with ``SKLEARN_IMPRESSION_EXAMPLE_FAST=1``
(tiny data, one or two epochs) and the non-interactive ``agg`` backend, in a
temporary working directory, so a script that writes files leaves nothing behind.
The documentation build runs the same scripts through sphinx-gallery with the same
variable set (``docs/conf.py``).
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = sorted(EXAMPLES.glob("plot_*.py"))


def _run(script, tmp_path):
    env = dict(os.environ)
    env.update(
        SKLEARN_IMPRESSION_EXAMPLE_FAST="1",
        MPLBACKEND="agg",
        PYTHONHASHSEED="0",
        # Two cores are shared by the whole test run: keep torch from oversubscribing.
        OMP_NUM_THREADS="1",
    )
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_examples_exist():
    names = {s.name for s in SCRIPTS}
    assert {
        "plot_quickstart_pipeline.py",
        "plot_grid_search.py",
        "plot_ablation.py",
        "plot_resampling.py",
        "plot_persistence.py",
        "plot_enrolment.py",
    } <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_example_is_a_gallery_script(script):
    source = script.read_text()
    docstring = ast.get_docstring(ast.parse(source))
    assert docstring, f"{script.name}: needs a module docstring with a title"
    lines = docstring.splitlines()
    if set(lines[0]) == {"="}:  # over- and underlined title
        lines = lines[1:]
    title, underline = lines[:2]
    assert title.strip() and set(underline) == {"="}
    assert len(underline) >= len(title)
    assert "# %%" in source, f"{script.name}: split the script into '# %%' cells"
    assert "SKLEARN_IMPRESSION_EXAMPLE_FAST" in source


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_example_runs_in_fast_mode(script, tmp_path):
    if script.name == "plot_raw_files.py":  # needs the ``features`` extra
        pytest.importorskip("opensmile")
        pytest.importorskip("neurokit2")
    result = _run(script, tmp_path)
    assert result.returncode == 0, (
        f"{script.name} failed with exit code {result.returncode}\n"
        f"--- stdout ---\n{result.stdout[-3000:]}\n"
        f"--- stderr ---\n{result.stderr[-3000:]}"
    )
