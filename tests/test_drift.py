"""Tests of make_dyadic_drift, the second synthetic generator."""

import numpy as np
import pytest

from sklearn_impression.datasets import make_dyadic_drift, make_impression
from sklearn_impression.datasets._drift import DRIFT_CHANNELS, DRIFT_RATES
from sklearn_impression.metrics import ccc_score
from sklearn_impression.preprocessing import ModalityConcatenator, Resampler


@pytest.fixture(scope="module")
def data():
    return make_dyadic_drift(n_receivers=3, n_stimuli=2, stimulus_duration=[40, 50],
                             random_state=0)


def test_make_dyadic_drift_bunch_has_make_impression_fields(data):
    reference = make_impression(n_receivers=1, n_stimuli=1, stimulus_duration=2,
                                random_state=0)
    assert set(reference) <= set(data)
    assert len(data.recordings) == len(data.targets) == len(data.impression) == 6
    np.testing.assert_array_equal(data.receivers, [0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(data.stimuli, [0, 1, 0, 1, 0, 1])
    for rec, y, u, r, s in zip(data.recordings, data.targets, data.impression,
                               data.receivers, data.stimuli, strict=True):
        assert (rec.receiver, rec.stimulus) == (r, s)
        assert y.shape == u.shape == (rec.n_frames, 2) == ((40, 50)[s] * 25, 2)
    assert [z.shape for z in data.latent] == [(1000, 2), (1250, 2)]
    assert data.lags.shape == (3,)
    assert data.offsets.shape == data.scales.shape == (3, 2)
    # the slider stays within the receiver's offset +- gain
    for y, r in zip(data.targets, data.receivers, strict=True):
        assert np.all(np.abs(y - data.offsets[r]) <= data.scales[r] + 1e-9)


def test_make_dyadic_drift_rates_channels_and_sharing(data):
    rec = data.recordings[0]
    for name, stream in rec.streams.items():
        assert stream.rate == DRIFT_RATES[name]
        assert stream.n_channels == DRIFT_CHANNELS[name]
        assert stream.n_samples == round(rec.n_frames / 25 * stream.rate)
    assert data.recordings[2].streams["emitter.audio"] is rec.streams["emitter.audio"]


def test_make_dyadic_drift_deterministic_by_seed():
    a = make_dyadic_drift(2, 1, 10, random_state=3)
    b = make_dyadic_drift(2, 1, 10, random_state=3)
    c = make_dyadic_drift(2, 1, 10, random_state=4)
    for ra, rb in zip(a.recordings, b.recordings, strict=True):
        for name in ra.streams:
            np.testing.assert_array_equal(ra.streams[name].values,
                                          rb.streams[name].values)
    np.testing.assert_array_equal(a.targets[1], b.targets[1])
    assert not np.allclose(a.targets[1], c.targets[1])


def test_make_dyadic_drift_missing_samples_are_nan_and_interpolable(data):
    eye = [np.isnan(r.streams["receiver.eye"].values).mean() for r in data.recordings]
    assert all(0 < f < 0.5 for f in eye)
    clean = make_dyadic_drift(2, 1, 10, missing=False, random_state=0)
    assert not any(np.isnan(s.values).any() for r in clean.recordings
                   for s in r.streams.values())
    with pytest.raises(ValueError, match="nan_policy='interpolate'"):
        Resampler().fit_transform(data.recordings)
    frames = ModalityConcatenator().fit_transform(
        Resampler(nan_policy="interpolate").fit_transform(data.recordings))
    assert all(np.isfinite(b).all() for b in frames.receiver_blocks)


def test_make_dyadic_drift_lag_recoverable_from_impression(data):
    """Cross-correlating the noise-free impression with the latent finds the lag."""
    for r in range(3):
        scores = np.zeros(150)
        for i in np.flatnonzero(data.receivers == r):
            z, u = data.latent[data.stimuli[i]], data.impression[i]
            for k in range(150):
                for d in range(2):
                    scores[k] += np.corrcoef(z[: len(z) - k, d], u[k:, d])[0, 1]
        assert abs(np.argmax(scores) / 25 - data.lags[r]) < 0.6


def test_make_dyadic_drift_slider_continuous_and_close_to_oracle(data):
    y, u = np.vstack(data.targets), np.vstack(data.impression)
    assert ccc_score(u, y) > 0.9
    for yi in data.targets:
        # continuous, not on a grid of steps: moves of many different sizes
        moves = np.abs(np.diff(yi[:, 0]))
        assert len(np.unique(moves[moves > 0])) > 50
        # the dead zone holds the slider still for whole frames
        assert (np.diff(yi[:, 0]) == 0).any()
    # receivers differ by offset: per-receiver means spread
    means = [np.mean(data.targets[i], axis=0) for i in (0, 2, 4)]
    assert np.ptp(np.array(means)[:, 0]) > 0.1


def test_make_dyadic_drift_receiver_sensors_drift_across_sessions():
    """Session offsets and random-walk drift: a receiver's channel means differ by
    recording far more than white noise could explain."""
    data = make_dyadic_drift(1, 4, 30, noise=0.0, missing=False, random_state=1)
    means = np.array([r.streams["receiver.face"].values.mean(axis=0)
                      for r in data.recordings])
    assert np.median(means.std(axis=0)) > 0.2
