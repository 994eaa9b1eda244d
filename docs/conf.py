"""Sphinx configuration for sklearn-impression.

Build with ``python -m sphinx -W -b html docs docs/_build/html``. The gallery runs
every ``examples/plot_*.py`` script; they read ``SKLEARN_IMPRESSION_EXAMPLE_FAST``
and use tiny data and few epochs when it is ``1`` (the default set here, so the
docs build in a few minutes on a laptop CPU). Set it to ``0`` in the environment
to render the examples at their full sizes.
"""

import os
import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS))  # for _gallery_ext

# The examples inherit this when sphinx-gallery executes them in-process.
os.environ.setdefault("SKLEARN_IMPRESSION_EXAMPLE_FAST", "1")
os.environ.setdefault("MPLBACKEND", "agg")
# The examples train tiny networks: one torch thread is faster than several that
# spin-wait for each other, by a factor of 3-5 on a busy two-core machine.
# Set before anything imports torch (autosummary imports the package later).
os.environ.setdefault("OMP_NUM_THREADS", "1")

# -- project ----------------------------------------------------------------
project = "sklearn-impression"
author = "sklearn-impression developers"
copyright = "2025, sklearn-impression developers"
# Read the version without importing the package (the build must be able to
# report import errors of the package as autosummary warnings, not crash here).
_version = {}
exec((DOCS.parent / "sklearn_impression" / "_version.py").read_text(), _version)
release = _version["__version__"]
version = ".".join(release.split(".")[:2])

# -- general ----------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
# No intersphinx: the docs build offline.

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints",
                    "user_guide/new_content_tables.rst"]  # included, not a page
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
default_role = "literal"
nitpicky = False

# -- autodoc / autosummary / numpydoc ----------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"

# Class pages list their members through the autosummary class template, so
# numpydoc must not add a second member table (it would emit duplicate-object
# warnings under -W).
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
# Docstrings belong to the module owners; the docs build fails on rendering
# problems (-W) but does not enforce numpydoc's style checks. Run
# ``python -m numpydoc lint`` separately for those.
numpydoc_validation_checks = set()

# -- sphinx-gallery ---------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "_gallery_ext.example_order",
    "image_scrapers": ("_gallery_ext.adopt_figures", "matplotlib"),
    "doc_module": ("sklearn_impression",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"sklearn_impression": None},
    "remove_config_comments": True,
    "plot_gallery": "True",
    "download_all_examples": False,
    "show_memory": False,
    "matplotlib_animations": False,
    "min_reported_time": 0,
}

# Examples train tiny networks; torch and skorch may warn about things that are
# expected at those sizes. Keep the build output about our own code.
warnings.filterwarnings("ignore", category=UserWarning, module="torch")
warnings.filterwarnings(
    "ignore",
    message="Matplotlib is currently using agg",
    category=UserWarning,
)

# -- HTML -------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"sklearn-impression {release}"
html_static_path = []
html_theme_options = {
    "description": "Continuous warmth and competence recognition from dyadic "
    "audio-visual-physio signals, scikit-learn compatible.",
    "fixed_sidebar": True,
}
html_sidebars = {
    "**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]
}


# -- hooks ------------------------------------------------------------------
def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated ``set_<method>_request`` methods.

    scikit-learn adds them to every estimator whose methods take extra arguments;
    their docstrings point into scikit-learn's own glossary, which these docs
    (built offline, without intersphinx) cannot resolve.
    """
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return skip


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
