"""The module map of the README and the docs lists exactly the package's files."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _listed(text):
    return set(re.findall(r"^\s*(sklearn_impression/\S+\.py)\s", text, re.M))


def _files():
    package = ROOT / "sklearn_impression"
    return {str(p.relative_to(ROOT)) for p in package.rglob("*.py")
            if "__pycache__" not in p.parts
            and not (p.name == "__init__.py" and p.parent != package)}


def test_readme_and_docs_module_maps_match_the_code():
    files = _files()
    for doc in ("README.md", "docs/layout.rst"):
        listed = _listed((ROOT / doc).read_text())
        assert listed == files, (doc, sorted(listed ^ files))
