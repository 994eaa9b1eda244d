"""ListenerTable (per-person state) and the enrolment calibration, by hand values.

Torch-free and fast: every expected value below is computed by hand from the
docstrings' definitions, so a mutated row index, default, clip or comparison
changes a number that is checked.
"""

import warnings

import numpy as np
import pytest

from sklearn_impression.regressor._calibration import (
    calibrate,
    fit_delay_and_calibration,
    no_trace_calibration,
)
from sklearn_impression.regressor._listeners import (
    ATTRIBUTES,
    ListenerTable,
    UnknownReceiverWarning,
)
from sklearn_impression.regressor._temporal import finish_traces

FIELDS = ("gain", "offset", "stimulus", "trace_gain", "trace_offset")
IDENTITY = {"gain": 1.0, "offset": 0.0, "stimulus": 0.0, "trace_gain": 1.0,
            "trace_offset": 0.0}


def _set(table, row, value):
    """Row ``row`` with every field (and the delay) set from ``value``."""
    table.set_row(row, delay=int(value), gain=value + 0.1, offset=value + 0.2,
                  trace_gain=value + 0.3, trace_offset=value + 0.4,
                  stimulus=value + 0.5)


def _assert_row(table, row, value):
    assert table.delay[row] == int(value)
    for k, name in enumerate(("gain", "offset", "trace_gain", "trace_offset",
                              "stimulus")):
        expected = value + [0.1, 0.2, 0.3, 0.4, 0.5][k]
        np.testing.assert_array_equal(getattr(table, name)[row], expected)


def _assert_identity(table, row):
    assert table.delay[row] == 0
    for name, value in IDENTITY.items():
        np.testing.assert_array_equal(getattr(table, name)[row], value)


# -- ListenerTable ----------------------------------------------------------------
def test_a_new_table_has_identity_rows_and_no_statistics():
    table = ListenerTable(("a", "b"), 1, n_outputs=2)
    assert table.ids == ["a", "b"] and table.n_fitted == 1
    for name, value in IDENTITY.items():
        np.testing.assert_array_equal(getattr(table, name), np.full((3, 2), value))
    np.testing.assert_array_equal(table.delay, [0, 0, 0])
    assert table.delay.dtype == np.int64
    assert table.statistics is None
    assert table.statistics_ids == []
    assert table.statistics_means.shape == table.statistics_scales.shape == (0, 0)
    # the fitted attributes of a model without kept statistics
    attributes = table.attributes()
    assert set(attributes) == set(ATTRIBUTES)
    assert attributes["normalization_receivers_"] == []
    assert attributes["normalization_means_"].shape == (0, 0)
    assert attributes["normalization_scales_"].shape == (0, 0)


def test_a_table_keeps_the_statistics_it_is_given():
    means, scales = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[5.0, 6.0],
                                                                  [7.0, 8.0]])
    table = ListenerTable(["a"], 1, n_outputs=1,
                          statistics=(("a", "b"), means, scales))
    ids, kept_means, kept_scales = table.statistics
    assert ids == ["a", "b"]
    np.testing.assert_array_equal(kept_means, means)
    np.testing.assert_array_equal(kept_scales, scales)


def test_keep_statistics_replaces_or_merges():
    table = ListenerTable([], 0, n_outputs=1)
    # nothing kept yet: merging keeps the new ones as they are
    table.keep_statistics((["a", "b"], np.array([[1.0], [2.0]]),
                           np.array([[10.0], [20.0]])), reset=False)
    assert table.statistics_ids == ["a", "b"]
    np.testing.assert_array_equal(table.statistics_means, [[1.0], [2.0]])
    # b replaced, c added, a kept
    table.keep_statistics((["b", "c"], np.array([[3.0], [4.0]]),
                           np.array([[30.0], [40.0]])), reset=False)
    assert table.statistics_ids == ["a", "b", "c"]
    np.testing.assert_array_equal(table.statistics_means, [[1.0], [3.0], [4.0]])
    np.testing.assert_array_equal(table.statistics_scales, [[10.0], [30.0], [40.0]])
    # reset: only the new ones
    table.keep_statistics((("d",), np.array([[5.0]]), np.array([[50.0]])),
                          reset=True)
    assert table.statistics_ids == ["d"]
    np.testing.assert_array_equal(table.statistics_means, [[5.0]])
    np.testing.assert_array_equal(table.statistics_scales, [[50.0]])
    table.keep_statistics(([], np.zeros((0, 1)), np.zeros((0, 1))), reset=True)
    assert table.statistics is None


def test_attributes_round_trip():
    table = ListenerTable(["a", "b"], 2, n_outputs=2,
                          statistics=(["a"], np.array([[1.0]]), np.array([[2.0]])))
    _set(table, 2, 3.0)
    attributes = {k: (tuple(v) if isinstance(v, list) else v)
                  for k, v in table.attributes().items()}
    again = ListenerTable.from_attributes(attributes)
    assert again.ids == ["a", "b"] and again.statistics_ids == ["a"]
    assert again.n_fitted == 2
    _assert_row(again, 2, 3.0)
    _assert_identity(again, 1)


def test_rows_for_maps_receivers_to_rows_and_unknown_ones_to_zero():
    table = ListenerTable(["a", "b", "c"], 3, n_outputs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = table.rows_for(["c", "x", "a", "x", "b"], warn=False)
    np.testing.assert_array_equal(rows, [3, 0, 1, 0, 2])
    assert rows.dtype == np.int64
    with pytest.warns(UnknownReceiverWarning) as record:
        table.rows_for(["y", "a", "x", "y"], warn=True)
    assert len(record) == 1
    assert "receivers ['y', 'x'] have no per-receiver parameters" in str(
        record[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table.rows_for(["a", "c"], warn=True)  # all known: no warning
    # no recordings: an empty index still
    empty = table.rows_for([], warn=True)
    assert empty.dtype == np.int64 and table.gain[empty].shape == (0, 1)


def test_grow_appends_identity_rows_for_new_receivers_only():
    table = ListenerTable(["a"], 1, n_outputs=2)
    _set(table, 1, 2.0)
    rows = table.grow(["b", "a", "c", "b"])
    np.testing.assert_array_equal(rows, [2, 1, 3, 2])
    assert table.ids == ["a", "b", "c"] and table.n_fitted == 1
    for name in FIELDS:
        assert getattr(table, name).shape == (4, 2)
    np.testing.assert_array_equal(table.delay, [0, 2, 0, 0])
    assert table.delay.dtype == np.int64
    _assert_row(table, 1, 2.0)
    for row in (0, 2, 3):
        _assert_identity(table, row)
    # nothing new: nothing changes
    np.testing.assert_array_equal(table.grow(["c"]), [3])
    assert table.ids == ["a", "b", "c"] and table.gain.shape == (4, 2)


def test_reset_puts_only_the_given_rows_back_to_identity():
    table = ListenerTable(["a", "b", "c"], 3, n_outputs=2)
    for row in (1, 2, 3):
        _set(table, row, float(row))
    table.reset(np.array([1, 3]))
    _assert_identity(table, 1)
    _assert_identity(table, 3)
    _assert_row(table, 2, 2.0)


def test_set_row_sets_each_field_of_one_row():
    table = ListenerTable(["a", "b"], 2, n_outputs=2)
    table.set_row(2, delay=-3, gain=np.array([2.0, 3.0]), offset=np.array([4.0, 5.0]),
                  trace_gain=np.array([6.0, 7.0]), trace_offset=np.array([8.0, 9.0]),
                  stimulus=np.array([0.5, 0.0]))
    np.testing.assert_array_equal(table.delay, [0, 0, -3])
    np.testing.assert_array_equal(table.gain[2], [2.0, 3.0])
    np.testing.assert_array_equal(table.offset[2], [4.0, 5.0])
    np.testing.assert_array_equal(table.trace_gain[2], [6.0, 7.0])
    np.testing.assert_array_equal(table.trace_offset[2], [8.0, 9.0])
    np.testing.assert_array_equal(table.stimulus[2], [0.5, 0.0])
    _assert_identity(table, 0)
    _assert_identity(table, 1)


def test_traced_needs_a_weight_and_a_known_stimulus():
    table = ListenerTable(["a", "b"], 2, n_outputs=2)
    table.stimulus[2] = [0.0, 0.5]  # b has a weight (on one output), a none
    traced = table.traced(np.array([1, 2, 2, 0, 2]), ["s", "s", "u", "s", "s"],
                          known_stimuli=["s", "v"])
    np.testing.assert_array_equal(traced, [False, True, False, False, True])
    assert traced.dtype == bool
    empty = table.traced(np.array([], dtype=np.int64), [], ["s"])
    assert empty.dtype == bool and empty.shape == (0,)
    with pytest.raises(ValueError):  # one stimulus per recording
        table.traced(np.array([1, 2]), ["s"], ["s"])


def test_calibrate_applies_each_recordings_row_by_hand():
    table = ListenerTable(["a", "b"], 2, n_outputs=2)
    table.set_row(1, delay=0, gain=np.array([2.0, -1.0]),
                  offset=np.array([1.0, 0.0]), trace_gain=np.array([3.0, 1.0]),
                  trace_offset=np.array([-1.0, 10.0]), stimulus=np.array([1.0, 1.0]))
    table.set_row(2, delay=0, gain=np.array([0.5, 2.0]),
                  offset=np.array([0.0, 1.0]), trace_gain=np.array([1.0, 1.0]),
                  trace_offset=np.array([0.0, 0.0]), stimulus=np.array([0.0, 0.0]))
    y = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0], [5.0, 5.0],
                  [6.0, 6.0]])
    rows, lengths = np.array([1, 1, 2, 0]), np.array([2, 1, 2, 1])
    traced = np.array([False, True, False, False])
    expected = np.array([
        [1 * 2 + 1, 1 * -1 + 0], [2 * 2 + 1, 2 * -1 + 0],  # row 1
        [3 * 3 - 1, 3 * 1 + 10],  # row 1, traced
        [4 * 0.5, 4 * 2 + 1], [5 * 0.5, 5 * 2 + 1],  # row 2
        [6.0, 6.0],  # population: identity
    ])
    np.testing.assert_array_equal(table.calibrate(y, rows, traced, lengths), expected)
    # nothing traced: the recording of row 1 gets its plain calibration
    expected[2] = [3 * 2 + 1, 3 * -1 + 0]
    np.testing.assert_array_equal(
        table.calibrate(y, rows, np.zeros(4, dtype=bool), lengths), expected)


def test_add_stimulus_terms_adds_the_weighted_deviation_to_used_recordings():
    table = ListenerTable(["a", "b"], 2, n_outputs=2)
    table.stimulus[1] = [1.0, 2.0]
    table.stimulus[2] = [0.5, 0.0]
    traces = [np.zeros((2, 2)), np.ones((1, 2)), np.full((2, 2), 5.0)]
    deviation = [np.array([[1.0, 1.0], [2.0, -1.0]]),
                 np.array([[4.0, 4.0], [0.0, 1.0]])]
    out = table.add_stimulus_terms(traces, np.array([1, 2, 2]), [0, 2], deviation)
    np.testing.assert_array_equal(out[0], [[1.0, 2.0], [2.0, -2.0]])
    np.testing.assert_array_equal(out[1], [[1.0, 1.0]])  # not used
    np.testing.assert_array_equal(out[2], [[5.0 + 2.0, 5.0], [5.0, 5.0]])
    # the input list and its arrays are left as they were
    np.testing.assert_array_equal(traces[0], np.zeros((2, 2)))
    np.testing.assert_array_equal(traces[2], np.full((2, 2), 5.0))


# -- calibration ----------------------------------------------------------------
P = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])


def test_calibrate_none_and_offset_by_hand():
    t = np.c_[2 * P[:, 0] + 1, P[:, 1] - 4]
    for how in ("none", "offset"):
        gain, offset, weight = calibrate(P, t, how)
        np.testing.assert_array_equal(gain, [1.0, 1.0])
        np.testing.assert_array_equal(weight, [0.0, 0.0])
    np.testing.assert_array_equal(calibrate(P, t, "none")[1], [0.0, 0.0])
    # mean of t - p: (1 + 2 + 3 + 4) / 4 and -4
    np.testing.assert_allclose(calibrate(P, t, "offset")[1], [2.5, -4.0])


def test_calibrate_offset_and_gain_by_hand_with_its_clips():
    t = np.c_[2 * P[:, 0] + 1, -P[:, 1] + 3]
    gain, offset, weight = calibrate(P, t, "offset+gain")
    # a negative slope is clipped to 0.1, the offset fitted for it
    np.testing.assert_allclose(gain, [2.0, 0.1])
    np.testing.assert_allclose(offset, [1.0, np.mean(-P[:, 1] + 3 - 0.1 * P[:, 1])])
    np.testing.assert_array_equal(weight, [0.0, 0.0])
    gain, offset, _ = calibrate(P, 20 * P - 1, "offset+gain")
    np.testing.assert_allclose(gain, [10.0, 10.0])
    np.testing.assert_allclose(offset, np.mean(10 * P[:, 0] - 1))
    # in bounds, not clipped: 0.1 < 0.2 and 9.5 < 10
    gain, offset, _ = calibrate(P, np.c_[0.2 * P[:, 0], 9.5 * P[:, 1]], "offset+gain")
    np.testing.assert_allclose(gain, [0.2, 9.5])
    np.testing.assert_allclose(offset, [0.0, 0.0], atol=1e-12)
    # a constant output has no gain: 1, the offset the mean residual
    flat = np.full((4, 1), 2.0)
    gain, offset, _ = calibrate(flat, np.array([[1.0], [2.0], [3.0], [6.0]]),
                                "offset+gain")
    np.testing.assert_array_equal(gain, [1.0])
    np.testing.assert_allclose(offset, [3.0 - 2.0])


def test_calibrate_with_the_stimulus_term_by_hand():
    c = np.array([[1.0], [-1.0], [-1.0], [1.0]])  # orthogonal to p and to 1
    p = P[:, :1]
    gain, offset, weight = calibrate(p, 2 * p + 0.5 * c + 1, "offset+gain+stimulus",
                                     c)
    np.testing.assert_allclose([gain[0], offset[0], weight[0]], [2.0, 1.0, 0.5])


def test_no_trace_calibration():
    assert no_trace_calibration("auto") == "offset"
    assert no_trace_calibration("offset+gain+stimulus") == "offset+gain"
    for how in ("none", "offset", "offset+gain"):
        assert no_trace_calibration(how) == how


def _shifted(p, extra):
    return finish_traces([p], 0, 0, extra)[0]


RAMP = np.array([0.0, 3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0])[:, None]


def test_fit_delay_and_calibration_finds_each_rows_delay_and_gain():
    """Row 1's targets are its output 2 frames later (gain 2, offset 1), row
    2's 1 frame earlier (gain 0.5, offset -1), over two recordings each."""
    table = ListenerTable(["a", "b", "c"], 3, n_outputs=1)
    _set(table, 3, 7.0)  # not enrolled: left as it is
    traces = [RAMP, RAMP[::-1] * 2, RAMP[2:] - 1, RAMP[:7]]
    trace_rows = np.array([1, 2, 1, 2])
    targets = [2 * _shifted(traces[0], 2) + 1, 0.5 * _shifted(traces[1], -1) - 1,
               2 * _shifted(traces[2], 2) + 1, 0.5 * _shifted(traces[3], -1) - 1]
    fit_delay_and_calibration(table, traces, targets, trace_rows, [1, 2],
                              calibration="offset+gain", max_shift=3, stimulus=None,
                              delay=0, smoothing=0)
    np.testing.assert_array_equal(table.delay, [0, 2, -1, 7])
    np.testing.assert_allclose(table.gain[1:3, 0], [2.0, 0.5])
    np.testing.assert_allclose(table.offset[1:3, 0], [1.0, -1.0], atol=1e-12)
    # without a stimulus term the trace calibration is the same, no weight
    np.testing.assert_allclose(table.trace_gain[1:3, 0], [2.0, 0.5])
    np.testing.assert_allclose(table.trace_offset[1:3, 0], [1.0, -1.0], atol=1e-12)
    np.testing.assert_array_equal(table.stimulus[1:3, 0], [0.0, 0.0])
    _assert_row(table, 3, 7.0)
    _assert_identity(table, 0)


def test_fit_delay_and_calibration_applies_the_label_delay_and_smoothing():
    """Candidates are applied the way predict applies them: the label delay
    plus the extra one, then the smoothing."""
    table = ListenerTable(["a"], 1, n_outputs=1)
    target = finish_traces([RAMP], 2, 3, 1)[0] * 3 - 2
    fit_delay_and_calibration(table, [RAMP], [target], np.array([1]), [1],
                              calibration="offset+gain", max_shift=2, stimulus=None,
                              delay=2, smoothing=3)
    assert table.delay[1] == 1
    np.testing.assert_allclose([table.gain[1, 0], table.offset[1, 0]], [3.0, -2.0])


def test_fit_delay_and_calibration_ties_go_to_the_smallest_shift():
    table = ListenerTable(["a", "b"], 2, n_outputs=1)
    flat = [np.ones((6, 1)), np.full((6, 1), 2.0)]  # every shift fits the same
    targets = [np.full((6, 1), 3.0), np.arange(6.0)[:, None]]
    fit_delay_and_calibration(table, flat, targets, np.array([1, 2]), [1, 2],
                              calibration="offset", max_shift=3, stimulus=None,
                              delay=0, smoothing=0)
    np.testing.assert_array_equal(table.delay, [0, 0, 0])
    np.testing.assert_allclose(table.offset[1:, 0], [2.0, 2.5 - 2.0])


def test_fit_delay_and_calibration_bounds_the_shift_from_below():
    table = ListenerTable(["a"], 1, n_outputs=1)
    target = _shifted(RAMP, -2)
    kwargs = dict(calibration="offset", stimulus=None, delay=0, smoothing=0)
    fit_delay_and_calibration(table, [RAMP], [target], np.array([1]), [1],
                              max_shift=3, **kwargs)
    assert table.delay[1] == -2
    fit_delay_and_calibration(table, [RAMP], [target], np.array([1]), [1],
                              max_shift=3, min_shift=0, **kwargs)
    assert table.delay[1] >= 0
    # min_shift above max_shift: the one candidate min_shift
    fit_delay_and_calibration(table, [RAMP], [target], np.array([1]), [1],
                              max_shift=1, min_shift=2, **kwargs)
    assert table.delay[1] == 2


def test_fit_delay_and_calibration_passes_its_arguments_to_finish():
    calls = []

    def finish(traces, delay, smoothing, extra):
        calls.append((len(traces), delay, smoothing, extra))
        return traces

    table = ListenerTable(["a"], 1, n_outputs=1)
    fit_delay_and_calibration(table, [RAMP, RAMP], [RAMP, RAMP], np.array([1, 1]),
                              [1], calibration="none", max_shift=1, stimulus=None,
                              delay=4, smoothing=5, finish=finish)
    assert calls == [(2, 4, 5, 0), (2, 4, 5, -1), (2, 4, 5, 1)]


def test_the_stimulus_term_is_fitted_on_the_recordings_with_a_trace():
    """Row 1 has three recordings, the second with a stimulus trace: its trace
    calibration is least squares on that recording's frames (gain 2, weight
    0.5, offset 1); the plain one (``auto``: an offset) on all three."""
    table = ListenerTable(["a", "b"], 2, n_outputs=1)
    p = [RAMP[:4], RAMP, RAMP[3:] + 1, RAMP[:5]]
    c = np.array([1.0, 0.0, -2.0, 3.0, 1.0, 1.0, -1.0, 0.0, 2.0, 0.5])[:, None]
    targets = [p[0] + 1.0, 2 * p[1] + 0.5 * c + 1, p[2] - 3.0, p[3] + 5.0]
    stimulus = [None, c, None, c[:5]]
    fit_delay_and_calibration(table, p, targets, np.array([1, 1, 1, 2]), [1, 2],
                              calibration="auto", max_shift=0, stimulus=stimulus,
                              delay=0, smoothing=0)
    t = np.concatenate(targets[:3])
    np.testing.assert_allclose(table.offset[1, 0], np.mean(t - np.concatenate(p[:3])))
    assert table.gain[1, 0] == 1.0
    np.testing.assert_allclose(
        [table.trace_gain[1, 0], table.trace_offset[1, 0], table.stimulus[1, 0]],
        [2.0, 1.0, 0.5])
    # row 2: a trace but nothing it explains: weight 0, gain 1, offset 5
    np.testing.assert_allclose(
        [table.trace_gain[2, 0], table.trace_offset[2, 0], table.stimulus[2, 0]],
        [1.0, 5.0, 0.0], atol=1e-12)


@pytest.mark.parametrize("calibration", ["offset+gain", "offset"])
def test_no_stimulus_term_without_a_with_trace_calibration(calibration):
    table = ListenerTable(["a"], 1, n_outputs=1)
    c = np.linspace(-1, 1, 10)[:, None]
    target = 2 * RAMP + 3 * c + 1
    fit_delay_and_calibration(table, [RAMP], [target], np.array([1]), [1],
                              calibration=calibration, max_shift=0, stimulus=[c],
                              delay=0, smoothing=0)
    assert table.stimulus[1, 0] == 0.0
    assert table.trace_gain[1, 0] == table.gain[1, 0]
    assert table.trace_offset[1, 0] == table.offset[1, 0]


def test_offset_gain_stimulus_without_any_trace_is_offset_and_gain():
    table = ListenerTable(["a"], 1, n_outputs=1)
    fit_delay_and_calibration(table, [RAMP, RAMP[:6]], [2 * RAMP + 1, 2 * RAMP[:6] + 1],
                              np.array([1, 1]), [1],
                              calibration="offset+gain+stimulus", max_shift=0,
                              stimulus=[None, None], delay=0, smoothing=0)
    np.testing.assert_allclose([table.gain[1, 0], table.offset[1, 0],
                                table.trace_gain[1, 0], table.trace_offset[1, 0],
                                table.stimulus[1, 0]], [2.0, 1.0, 2.0, 1.0, 0.0],
                               atol=1e-12)
