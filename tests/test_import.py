"""The package imports without torch and says what to install when torch is missing."""

import subprocess
import sys
import textwrap

import pytest


def _run(code):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )


# A meta-path finder that makes every ``import torch`` fail, as on a machine
# without torch installed.
_BLOCK_TORCH = """
import sys

class _NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _NoTorch())
"""


def test_import_does_not_import_torch():
    result = _run(
        """
        import sys
        import sklearn_impression
        from sklearn_impression import metrics, preprocessing, datasets
        loaded = [m for m in sys.modules if m.split(".")[0] == "torch"]
        assert not loaded, loaded
        """
    )
    assert result.returncode == 0, result.stderr


def test_import_does_not_import_feature_extractors():
    # The ``features`` extra's heavy packages load only when a function needs them.
    result = _run(
        """
        import sys
        import sklearn_impression
        from sklearn_impression import features
        from sklearn_impression.features import load_raw_sessions
        heavy = ("opensmile", "neurokit2", "soundfile", "audinterface", "torch")
        loaded = [m for m in sys.modules if m.split(".")[0] in heavy]
        assert not loaded, loaded
        """
    )
    assert result.returncode == 0, result.stderr


def test_import_works_without_torch_and_gate_names_what_to_install():
    result = _run(
        _BLOCK_TORCH
        + """
import sklearn_impression
from sklearn_impression import ccc_score
assert ccc_score([0.0, 1.0, 2.0], [0.0, 1.0, 2.0]) == 1.0

from sklearn_impression.utils._torch import import_torch
try:
    import_torch()
except ImportError as exc:
    print(exc)
else:
    raise SystemExit("import_torch() did not raise")
"""
    )
    assert result.returncode == 0, result.stderr
    assert "needs PyTorch" in result.stdout
    assert "pip install torch" in result.stdout


def test_import_unknown_attribute_raises_attribute_error():
    import sklearn_impression

    with pytest.raises(AttributeError, match="NoSuchThing"):
        sklearn_impression.NoSuchThing  # noqa: B018


def test_import_regressor_without_torch_says_what_to_install():
    result = _run(
        _BLOCK_TORCH
        + """
import sklearn_impression
try:
    sklearn_impression.CrossDomainRegressor
except ImportError as exc:
    print(exc)
else:
    raise SystemExit("CrossDomainRegressor loaded without torch")
"""
    )
    assert result.returncode == 0, result.stderr
    assert "pip install torch" in result.stdout
