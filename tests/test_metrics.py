"""Tests for the concordance correlation coefficient and its scorer."""

import audmetric
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from sklearn_impression.metrics import ccc_per_recording, ccc_score, ccc_scorer

# --------------------------------------------------------------------------- values


@pytest.mark.parametrize("n", [2, 3, 17, 500])
def test_ccc_score_matches_audmetric_1d(rng, n):
    y_true = rng.normal(size=n)
    y_pred = 0.7 * y_true + rng.normal(0.3, 0.5, size=n)
    expected = audmetric.concordance_cc(y_true, y_pred)
    assert ccc_score(y_true, y_pred) == pytest.approx(expected, abs=1e-10)


def test_ccc_score_matches_audmetric_per_column(rng):
    y_true = rng.normal(size=(200, 3)) * [1.0, 5.0, 0.1]
    y_pred = y_true + rng.normal(size=(200, 3))
    expected = [audmetric.concordance_cc(y_true[:, j], y_pred[:, j]) for j in range(3)]
    raw = ccc_score(y_true, y_pred, multioutput="raw_values")
    assert raw.shape == (3,)
    np.testing.assert_allclose(raw, expected, rtol=0, atol=1e-10)
    assert ccc_score(y_true, y_pred) == pytest.approx(np.mean(expected), abs=1e-10)


def _recordings(rng, lengths, n_outputs=2):
    y_true = [rng.normal(i, 1 + i, size=(n, n_outputs)) for i, n in enumerate(lengths)]
    y_pred = [t + rng.normal(size=t.shape) for t in y_true]
    return y_true, y_pred


def test_ccc_score_pooled_matches_audmetric_on_concatenated_frames(rng):
    y_true, y_pred = _recordings(rng, [30, 5, 64])
    t, p = np.concatenate(y_true), np.concatenate(y_pred)
    expected = [audmetric.concordance_cc(t[:, j], p[:, j]) for j in range(2)]
    raw = ccc_score(y_true, y_pred, multioutput="raw_values")
    np.testing.assert_allclose(raw, expected, rtol=0, atol=1e-10)


def test_ccc_score_recording_average_is_mean_of_per_recording_ccc(rng):
    y_true, y_pred = _recordings(rng, [30, 5, 64])
    per = np.array(
        [
            [audmetric.concordance_cc(t[:, j], p[:, j]) for j in range(2)]
            for t, p in zip(y_true, y_pred, strict=True)
        ]
    )
    np.testing.assert_allclose(ccc_per_recording(y_true, y_pred), per, atol=1e-10)
    np.testing.assert_allclose(
        ccc_per_recording(y_true, y_pred, multioutput="uniform_average"),
        per.mean(axis=1),
        atol=1e-10,
    )
    raw = ccc_score(y_true, y_pred, average="recording", multioutput="raw_values")
    np.testing.assert_allclose(raw, per.mean(axis=0), atol=1e-10)
    assert ccc_score(y_true, y_pred, average="recording") == pytest.approx(
        per.mean(), abs=1e-10
    )


def test_ccc_score_pooled_and_recording_differ_with_offsets():
    # Each recording is perfectly tracked in shape but the pooled CCC also sees the
    # between-recording offsets; this is why the two conventions are both offered.
    y_true = [np.array([0.0, 1.0, 2.0]), np.array([5.0, 6.0])]
    y_pred = [np.array([0.0, 1.0, 1.0]), np.array([6.0, 5.0])]
    assert ccc_score(y_true, y_pred, average="recording") == pytest.approx(
        (2 / 3 - 1) / 2
    )
    pooled = audmetric.concordance_cc(np.concatenate(y_true), np.concatenate(y_pred))
    assert ccc_score(y_true, y_pred) == pytest.approx(pooled, abs=1e-12)


def test_ccc_score_single_array_is_one_recording(rng):
    y_true = rng.normal(size=(40, 2))
    y_pred = y_true + rng.normal(size=(40, 2))
    assert ccc_score(y_true, y_pred, average="recording") == pytest.approx(
        ccc_score(y_true, y_pred), abs=1e-12
    )
    assert ccc_per_recording(y_true, y_pred).shape == (1, 2)


def test_ccc_score_1d_equals_single_column(rng):
    y_true = rng.normal(size=50)
    y_pred = rng.normal(size=50)
    assert ccc_score(y_true, y_pred) == ccc_score(y_true[:, None], y_pred[:, None])
    assert ccc_score(y_true, y_pred[:, None]) == ccc_score(y_true, y_pred)
    assert ccc_score(y_true, y_pred, multioutput="raw_values").shape == (1,)


def test_ccc_score_accepts_lists_of_numbers_as_arrays():
    # Nested lists are one 2-D array (as in scikit-learn), not a list of recordings.
    y_true = [[0.0, 1.0], [1.0, 3.0], [2.0, 2.0]]
    y_pred = [[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]]
    np.testing.assert_allclose(
        ccc_score(y_true, y_pred, multioutput="raw_values"), [1.0, 0.5]
    )


def test_ccc_score_accepts_object_array_and_tuple_of_recordings(rng):
    y_true, y_pred = _recordings(rng, [10, 7])
    ragged = np.empty(2, dtype=object)
    ragged[:] = y_pred
    expected = ccc_score(y_true, y_pred)
    assert ccc_score(tuple(y_true), ragged) == pytest.approx(expected, abs=1e-15)


def test_ccc_score_array_facing_sequence_is_cut_at_recording_boundaries(rng):
    y_true, y_pred = _recordings(rng, [10, 7, 4])
    flat_pred = np.concatenate(y_pred)
    for average in ("pooled", "recording"):
        expected = ccc_score(y_true, y_pred, average=average)
        assert ccc_score(y_true, flat_pred, average=average) == pytest.approx(expected)
        assert ccc_score(flat_pred, y_true, average=average) == pytest.approx(expected)


def test_ccc_score_computes_in_float64(rng):
    y_true = rng.normal(size=1000).astype(np.float32)
    y_pred = (y_true + rng.normal(size=1000)).astype(np.float32)
    expected = audmetric.concordance_cc(
        y_true.astype(np.float64), y_pred.astype(np.float64)
    )
    result = ccc_score(y_true, y_pred)
    assert isinstance(result, float)
    assert result == pytest.approx(expected, abs=1e-12)


def test_ccc_score_multioutput_weights(rng):
    y_true = rng.normal(size=(30, 2))
    y_pred = y_true + rng.normal(size=(30, 2)) * [0.1, 2.0]
    raw = ccc_score(y_true, y_pred, multioutput="raw_values")
    weighted = ccc_score(y_true, y_pred, multioutput=[3.0, 1.0])
    assert weighted == pytest.approx((3 * raw[0] + raw[1]) / 4)
    with pytest.raises(ValueError, match="one weight per output column"):
        ccc_score(y_true, y_pred, multioutput=[1.0, 1.0, 1.0])


# ------------------------------------------------------------------ constant inputs


@pytest.mark.parametrize(
    "y_true, y_pred, expected",
    [
        ([2.0, 2.0, 2.0], [2.0, 2.0, 2.0], 1.0),  # same constant: perfect agreement
        ([0.1] * 7, [0.1] * 7, 1.0),  # mean of 0.1s is not exactly 0.1
        ([2.0, 2.0, 2.0], [1.0, 1.0, 1.0], 0.0),
        ([2.0, 2.0, 2.0], [1.0, 2.0, 3.0], 0.0),
        ([1.0, 2.0, 3.0], [0.3, 0.3, 0.3], 0.0),
        ([0.0, 0.0], [0.0, 0.0], 1.0),
    ],
)
def test_ccc_score_constant_inputs_give_documented_value(y_true, y_pred, expected):
    assert ccc_score(y_true, y_pred) == expected
    assert ccc_score(y_true, y_pred, average="recording") == expected


def test_ccc_score_constant_recording_never_nan():
    y_true = [np.ones(5), np.arange(5.0)]
    y_pred = [np.full(5, 3.0), np.arange(5.0)]
    assert ccc_score(y_true, y_pred, average="recording") == pytest.approx(0.5)
    assert np.isfinite(ccc_score(y_true, y_pred))


# ---------------------------------------------------------------------- bad input


def test_ccc_score_length_mismatch():
    with pytest.raises(ValueError, match="length mismatch: y_true has 3 frames"):
        ccc_score([1.0, 2.0, 3.0], [1.0, 2.0])


def test_ccc_score_recording_length_mismatch_names_recording():
    y_true = [np.zeros(4), np.arange(5.0), np.arange(3.0)]
    y_pred = [np.zeros(4), np.arange(6.0), np.arange(3.0)]
    with pytest.raises(ValueError, match="mismatch in recording 1: y_true has 5"):
        ccc_score(y_true, y_pred)
    with pytest.raises(ValueError, match="in recording 1"):
        ccc_score(y_true, y_pred, average="recording")


def test_ccc_score_recording_count_mismatch():
    y_true = [np.arange(4.0), np.arange(5.0)]
    with pytest.raises(ValueError, match="y_true has 2 recordings, y_pred has 1"):
        ccc_score(y_true, y_true[:1])


def test_ccc_score_total_length_mismatch_between_array_and_sequence():
    y_true = [np.arange(4.0), np.arange(5.0)]
    with pytest.raises(ValueError, match="y_true has 9 frames, y_pred has 8"):
        ccc_score(y_true, np.arange(8.0))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_ccc_score_rejects_non_finite(bad):
    y = np.arange(6.0)
    y_bad = y.copy()
    y_bad[4] = bad
    with pytest.raises(ValueError, match="y_pred contains NaN or infinity.*frame 4"):
        ccc_score(y, y_bad)
    with pytest.raises(ValueError, match=r"y_true\[1\] \(recording 1\) contains NaN"):
        ccc_score([y, y_bad], [y, y])


def test_ccc_score_needs_two_frames():
    with pytest.raises(ValueError, match="got 1 frame.*at least 2 frames"):
        ccc_score([1.0], [1.0])
    with pytest.raises(ValueError, match="got 0 frame.*at least 2 frames"):
        ccc_score(np.zeros((0, 2)), np.zeros((0, 2)))


def test_ccc_score_recording_average_needs_two_frames_per_recording():
    y = [np.arange(5.0), np.arange(1.0)]
    assert ccc_score(y, y) == 1.0  # pooled: 6 frames in total is enough
    with pytest.raises(ValueError, match="recording 1 has 1 frame.*at least 2"):
        ccc_score(y, y, average="recording")


def test_ccc_score_column_count_mismatch():
    with pytest.raises(ValueError, match="column count mismatch: y_true has 2 output"):
        ccc_score(np.zeros((4, 2)), np.zeros((4, 3)))
    y_true = [np.zeros((4, 2)), np.zeros((4, 3))]
    with pytest.raises(ValueError, match="in recording 1: 3 output columns, record"):
        ccc_score(y_true, y_true)


def test_ccc_score_rejects_bad_shapes_and_types():
    with pytest.raises(ValueError, match="must be 1-D .* or 2-D"):
        ccc_score(np.zeros((4, 2, 2)), np.zeros((4, 2, 2)))
    with pytest.raises(ValueError, match="y_true is not numeric"):
        ccc_score(["a", "b"], [1.0, 2.0])


def test_ccc_score_object_arrays_of_numbers_are_one_array():
    """An object array of plain numbers is the same numbers as floats: one
    trace (1-D) or one 2-D array, not a set of recordings."""
    y_true = np.array([0.0, 1.0, 3.0, 2.0, 5.0])
    y_pred = np.array([0.5, 1.0, 2.0, 2.5, 4.0])
    expected = ccc_score(y_true, y_pred)
    assert ccc_score(y_true.astype(object), y_pred.astype(object)) == expected
    two_true, two_pred = np.c_[y_true, -y_true], np.c_[y_pred, y_pred]
    np.testing.assert_array_equal(
        ccc_score(two_true.astype(object), two_pred, multioutput="raw_values"),
        ccc_score(two_true, two_pred, multioutput="raw_values"))


def test_ccc_score_object_arrays_of_recordings_one_or_lists():
    """An object array holding one recording, or lists, is a set of recordings."""
    y_true = np.array([0.0, 1.0, 3.0, 2.0, 5.0])
    y_pred = np.array([0.5, 1.0, 2.0, 2.5, 4.0])
    expected = ccc_score(y_true, y_pred)
    one = np.empty(1, dtype=object)
    one[0] = y_true
    assert ccc_score(one, [y_pred]) == expected
    lists = np.empty(2, dtype=object)
    lists[0], lists[1] = [0.0, 1.0, 3.0], [2.0, 5.0]
    assert ccc_score(lists, [y_pred[:3], y_pred[3:]]) == expected


@pytest.mark.parametrize("empty", [[], (), np.array([], dtype=object)])
def test_ccc_score_empty_input_has_no_frames(empty):
    with pytest.raises(ValueError, match="got 0 frame.*at least 2 frames"):
        ccc_score(empty, empty)


def test_ccc_score_rejects_complex_values():
    message = (r"is complex; the CCC needs real values \(casting would drop the "
               r"imaginary part\)$")
    with pytest.raises(ValueError, match="^y_pred " + message):
        ccc_score([1.0, 2.0, 3.0], np.arange(3) + 1j)
    with pytest.raises(ValueError, match=r"^y_true\[1\] \(recording 1\) " + message):
        ccc_score([np.arange(3.0), np.arange(3.0) * 1j], [np.arange(3.0)] * 2)


def test_ccc_score_non_finite_message_says_what_to_do():
    with pytest.raises(ValueError, match=r"^y_true contains NaN or infinity \(first at "
                                         r"frame 1\); the CCC of a trace with "
                                         r"missing values is undefined: drop or "
                                         r"impute them first$"):
        ccc_score([0.0, np.nan, 1.0], [0.0, 1.0, 2.0])


def test_ccc_score_names_each_side_when_an_array_faces_recordings():
    """A plain array cut at the recordings' boundaries keeps its side: errors
    name y_true and y_pred as given, and the recording."""
    recordings = [np.zeros((4, 2)), np.zeros((3, 2))]
    with pytest.raises(ValueError, match=r"column count mismatch in recording 0: "
                                         r"y_true has 2 output columns, y_pred has 1"):
        ccc_score(recordings, np.zeros(7))
    with pytest.raises(ValueError, match=r"column count mismatch in recording 0: "
                                         r"y_true has 1 output columns, y_pred has 2"):
        ccc_score(np.zeros(7), recordings)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"multioutput": "variance_weighted"}, "multioutput"),
        ({"average": "frames"}, "average"),
    ],
)
def test_ccc_score_rejects_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ccc_score([1.0, 2.0], [1.0, 2.0], **kwargs)


# ------------------------------------------------------------------ property tests

_traces = st.integers(min_value=2, max_value=30).flatmap(
    lambda n: st.tuples(
        *(
            hnp.arrays(
                np.float64,
                n,
                elements=st.floats(-1e3, 1e3, allow_subnormal=False),
            )
            for _ in range(2)
        )
    )
)
_props = settings(max_examples=50, deadline=None)


@_props
@given(_traces)
def test_ccc_score_property_bounded_and_symmetric(pair):
    a, b = pair
    forward, backward = ccc_score(a, b), ccc_score(b, a)
    assert np.isfinite(forward)
    assert -1.0 - 1e-12 <= forward <= 1.0 + 1e-12
    assert forward == pytest.approx(backward, abs=1e-12)


@_props
@given(_traces)
def test_ccc_score_property_identical_is_one(pair):
    a, _ = pair
    assert ccc_score(a, a) == pytest.approx(1.0, abs=1e-12)


@_props
@given(_traces)
def test_ccc_score_property_reflected_is_minus_one(pair):
    a, _ = pair
    if np.ptp(a) < 1e-3:
        a = a + np.arange(len(a))  # reflection needs variance to be defined
    reflected = 2.0 * a.mean() - a
    assert ccc_score(a, reflected) == pytest.approx(-1.0, abs=1e-9)


@_props
@given(_traces)
def test_ccc_score_property_agrees_with_audmetric(pair):
    a, b = pair
    expected = audmetric.concordance_cc(a, b)
    if np.isnan(expected):
        # audmetric's 0/0 (constant traces, or squares that underflow): ours is
        # documented as 1.0 for the same constant, 0.0 for different constants
        if np.ptp(a) == 0 and np.ptp(b) == 0:
            assert ccc_score(a, b) == (1.0 if np.array_equal(a, b) else 0.0)
        else:  # tiny values whose squares underflow there; ours scales first
            assert np.isfinite(ccc_score(a, b))
    else:
        assert ccc_score(a, b) == pytest.approx(expected, abs=1e-10)


# ------------------------------------------------------------------------ scorer


def test_ccc_scorer_with_ridge_in_cross_val_score(rng):
    X = rng.normal(size=(60, 4))
    y = X @ rng.normal(size=(4, 2)) + 0.1 * rng.normal(size=(60, 2))
    cv = KFold(3)
    scores = cross_val_score(Ridge(), X, y, scoring=ccc_scorer, cv=cv)
    expected = [
        ccc_score(y[test], Ridge().fit(X[train], y[train]).predict(X[test]))
        for train, test in cv.split(X)
    ]
    np.testing.assert_allclose(scores, expected)
    assert np.all(scores > 0.9)


class _PerRecordingRidge(RegressorMixin, BaseEstimator):
    """Frame-wise ridge on lists of per-recording arrays, predicting a list."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def fit(self, X, y):
        self.ridge_ = Ridge(alpha=self.alpha).fit(np.concatenate(X), np.concatenate(y))
        return self

    def predict(self, X):
        return [self.ridge_.predict(x) for x in X]


def _recording_data(rng, n_recordings=9):
    weights = rng.normal(size=(3, 2))
    X = [rng.normal(size=(int(rng.integers(5, 20)), 3)) for _ in range(n_recordings)]
    y = [x @ weights + 0.2 * rng.normal(size=(len(x), 2)) for x in X]
    return X, y


def test_ccc_scorer_with_list_predicting_estimator(rng):
    X, y = _recording_data(rng)
    cv = KFold(3)
    scores = cross_val_score(_PerRecordingRidge(), X, y, scoring=ccc_scorer, cv=cv)
    expected = []
    for train, test in cv.split(X):
        model = _PerRecordingRidge().fit([X[i] for i in train], [y[i] for i in train])
        expected.append(
            ccc_score([y[i] for i in test], model.predict([X[i] for i in test]))
        )
    np.testing.assert_allclose(scores, expected)
    assert np.all(scores > 0.8)


def test_ccc_scorer_in_grid_search(rng):
    X, y = _recording_data(rng)
    search = GridSearchCV(
        _PerRecordingRidge(), {"alpha": [0.1, 1e6]}, scoring=ccc_scorer, cv=KFold(3)
    ).fit(X, y)
    assert search.best_params_ == {"alpha": 0.1}
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
