"""Discovery of the package's estimators and their fast settings for the checks.

``tests/test_common.py`` runs scikit-learn's estimator checks on everything
:func:`all_estimators` finds. Test-size hyperparameters live in :data:`INIT_PARAMS`
and the checks an estimator cannot pass are documented by the estimator itself in a
private class attribute ``_expected_failed_checks`` (check name -> reason).
"""

import importlib
import inspect
import pkgutil
import sys

from sklearn.base import BaseEstimator

#: Fast settings per estimator class name, so the checks take seconds. A value is
#: one dict of keyword arguments or a list of them (one instance per dict), or a
#: callable returning one.
#: Keys an estimator does not have are ignored, so renames fail soft here and
#: loudly in the estimator's own tests.
INIT_PARAMS = {
    "CrossDomainRegressor": {
        "hidden_size": 4,
        "num_layers": 1,
        "num_heads": 2,
        "fc_size": 4,
        "max_epochs": 2,
        "batch_size": 64,
        "random_state": 0,
    },
    # a callable: built when needed (its regressor imports torch)
    "CausalRegressor": lambda: {"regressor": _fast_regressor()},
    "LSTMBaseline": {
        "hidden_size": 4,
        "num_layers": 1,
        "max_epochs": 2,
        "batch_size": 64,
        "random_state": 0,
    },
}


def _fast_regressor():
    from sklearn_impression import CrossDomainRegressor

    return CrossDomainRegressor(**INIT_PARAMS["CrossDomainRegressor"])


def _is_torch_missing(exc):
    """True if ``exc`` (or an exception it was raised from) is torch's absence.

    These are the only import errors that discovery tolerates: the torch-backed
    modules are optional at import time, everything else must import.
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        missing = isinstance(exc, ModuleNotFoundError) and exc.name is not None
        if missing and exc.name.split(".")[0] == "torch":
            return True
        if isinstance(exc, ImportError) and "needs torch >=" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _public_modules(package_name="sklearn_impression"):
    """Import the package and every public submodule; yield the module objects."""
    package = importlib.import_module(package_name)
    yield package

    def _reraise(name):
        # pkgutil swallows import errors of subpackages unless told otherwise.
        if not _is_torch_missing(sys.exc_info()[1]):
            raise

    for info in pkgutil.walk_packages(
        package.__path__, prefix=f"{package_name}.", onerror=_reraise
    ):
        parts = info.name.split(".")[1:]
        if any(part.startswith("_") or part == "tests" for part in parts):
            continue
        try:
            yield importlib.import_module(info.name)
        except ImportError as exc:
            if _is_torch_missing(exc):
                continue
            raise


def all_estimators(package_name="sklearn_impression"):
    """Return ``[(name, class), ...]`` of the package's public estimators.

    Walks every public module and keeps the names listed in its ``__all__`` that
    are concrete :class:`~sklearn.base.BaseEstimator` subclasses, sorted by name.
    Import errors propagate, except a missing torch, whose estimators are then
    left out.

    Returns
    -------
    estimators : list of (str, type)

    Examples
    --------
    >>> from sklearn_impression.utils._test_common import all_estimators
    >>> all(isinstance(name, str) for name, _ in all_estimators())
    True
    """
    found = {}
    for module in _public_modules(package_name):
        for name in getattr(module, "__all__", ()):
            if name.startswith("_"):
                continue
            try:
                obj = getattr(module, name)
            except ImportError as exc:  # lazily imported torch-backed names
                if _is_torch_missing(exc):
                    continue
                raise
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseEstimator)
                and not inspect.isabstract(obj)
            ):
                found[obj] = name
    return sorted(((name, cls) for cls, name in found.items()), key=lambda x: x[0])


def construct_instances(estimator_class):
    """Yield instances of ``estimator_class`` with its :data:`INIT_PARAMS`."""
    settings = INIT_PARAMS.get(estimator_class.__name__, {})
    if callable(settings):
        settings = settings()
    if isinstance(settings, dict):
        settings = [settings]
    known = set(estimator_class().get_params(deep=False))
    for params in settings:
        yield estimator_class(**{k: v for k, v in params.items() if k in known})


def _expected_failed_checks(estimator):
    """Checks that ``estimator`` is known to fail, as ``{check name: reason}``.

    Read from the estimator class's private ``_expected_failed_checks`` attribute,
    a dict (or a method taking no argument and returning one), so each estimator
    documents its own exceptions next to its code.
    """
    expected = getattr(type(estimator), "_expected_failed_checks", None)
    if expected is None:
        return {}
    if callable(expected):
        expected = expected(estimator)
    return dict(expected)
