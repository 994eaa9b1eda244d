"""scikit-learn's estimator checks on every public estimator of the package.

Estimators are found by walking the package (``all_estimators``), built with the
fast settings in ``sklearn_impression.utils._test_common.INIT_PARAMS``, and each
documents the checks it cannot pass in its ``_expected_failed_checks``.
"""

import pytest
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import (
    check_do_not_raise_errors_in_init_or_set_params,
    check_estimator_repr,
    check_estimator_tags_renamed,
    check_get_params_invariance,
    check_mixin_order,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
    check_valid_tag_types,
    parametrize_with_checks,
)

import sklearn_impression
from sklearn_impression.utils._test_common import (
    _expected_failed_checks,
    _is_torch_missing,
    all_estimators,
    construct_instances,
)

ESTIMATORS = [
    instance for _, cls in all_estimators() for instance in construct_instances(cls)
]

# Estimators taking recordings rather than 2-D arrays are skipped by
# ``parametrize_with_checks`` (SkipTestWarning); these API checks need no data and
# run on them explicitly. ``check_estimator_cloneable`` runs for every estimator
# through ``parametrize_with_checks`` already.
API_CHECKS_WITHOUT_DATA = [
    check_estimator_tags_renamed,
    check_valid_tag_types,
    check_estimator_repr,
    check_no_attributes_set_in_init,
    check_do_not_raise_errors_in_init_or_set_params,
    check_mixin_order,
    check_parameters_default_constructible,
    check_get_params_invariance,
    check_set_params,
]
NON_2D_ESTIMATORS = [e for e in ESTIMATORS if not get_tags(e).input_tags.two_d_array]


def _id(obj):
    return getattr(obj, "__name__", type(obj).__name__)


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_common_sklearn_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("check", API_CHECKS_WITHOUT_DATA, ids=_id)
@pytest.mark.parametrize("estimator", NON_2D_ESTIMATORS, ids=_id)
def test_common_api_checks_on_recording_estimators(estimator, check):
    reason = _expected_failed_checks(estimator).get(check.__name__)
    if reason is not None:
        pytest.xfail(reason)
    check(type(estimator).__name__, estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_id)
def test_common_parameter_constraints_cover_all_parameters(estimator):
    # The first half of sklearn's check_param_validation, which the estimators
    # taking recordings do not get from parametrize_with_checks.
    params = set(estimator.get_params(deep=False))
    constraints = set(getattr(estimator, "_parameter_constraints", {}))
    assert constraints == params, (
        f"{type(estimator).__name__}: parameters without constraints "
        f"{sorted(params - constraints)}, constraints without parameters "
        f"{sorted(constraints - params)}"
    )


def test_common_discovery_finds_top_level_estimators():
    names = {name for name, _ in all_estimators()}
    for name in sklearn_impression.__all__:
        try:
            obj = getattr(sklearn_impression, name)
        except ImportError as exc:
            assert _is_torch_missing(exc)
            continue
        if isinstance(obj, type) and hasattr(obj, "get_params"):
            assert name in names


def test_common_discovery_tolerates_only_missing_torch():
    assert _is_torch_missing(ModuleNotFoundError("no torch", name="torch"))
    assert _is_torch_missing(ModuleNotFoundError("no", name="torch.nn"))
    assert not _is_torch_missing(ModuleNotFoundError("no", name="torchvision"))
    assert not _is_torch_missing(ModuleNotFoundError("no scipy", name="scipy"))
    try:
        try:
            raise ModuleNotFoundError("no torch", name="torch")
        except ImportError as inner:
            raise ImportError("sklearn-impression needs PyTorch") from inner
    except ImportError as gate_error:
        assert _is_torch_missing(gate_error)
    assert not _is_torch_missing(ImportError("cannot import name 'x' from 'scipy'"))
