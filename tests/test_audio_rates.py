"""Audio at every common sampling rate: audio_features resamples to 16 kHz, the rate
the openSMILE feature sets were made for, and gives the same 100 Hz descriptors.

The speech is ``tests/data/speech.wav`` (16 kHz, see the README there) rendered at each
rate by polyphase resampling, so every rate carries the same sound.
"""

from math import gcd
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("opensmile")
import soundfile  # noqa: E402  (installed with the features extra)
from scipy.signal import resample_poly  # noqa: E402

from sklearn_impression.features import audio_features  # noqa: E402

SPEECH = Path(__file__).parent / "data" / "speech.wav"
# Where speech.wav speaks and where it is silent (the README in tests/data).
SPEECH_PARTS = [(0.05, 1.35), (2.1, 2.9)]
PAUSES = [(1.45, 2.0), (3.0, 3.45)]
RATES = [8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 96000]


@pytest.fixture(scope="module")
def speech():
    signal, rate = soundfile.read(SPEECH, dtype="float64")
    assert rate == 16000
    return signal


@pytest.fixture(scope="module")
def reference(speech):
    return audio_features(speech, 16000)


def _render(signal, rate):
    g = gcd(rate, 16000)
    return resample_poly(signal, rate // g, 16000 // g)


def _mask(t, parts):
    return np.any([(t > a) & (t < b) for a, b in parts], axis=0)


def _median_f0(signal, rate):
    stream = audio_features(signal, rate)
    return np.median(stream.values[10:-10, stream.channels.index("F0_sma")])


@pytest.mark.parametrize("rate", RATES)
def test_audio_features_every_rate_gives_the_16khz_descriptors(tmp_path, speech,
                                                                reference, rate):
    path = tmp_path / f"speech_{rate}.wav"
    soundfile.write(path, _render(speech, rate), rate, subtype="PCM_16")
    stream = audio_features(path, rate)
    assert stream.rate == 100.0 and stream.channels == reference.channels
    assert abs(stream.n_samples - reference.n_samples) <= 1
    t = np.arange(stream.n_samples) / stream.rate
    energy = stream.values[:, stream.channels.index("pcm_RMSenergy_sma")]
    talk, pause = energy[_mask(t, SPEECH_PARTS)], energy[_mask(t, PAUSES)]
    assert np.median(talk) > 0.005
    assert np.median(talk) > 20 * (pause.max() + 1e-4)
    if rate >= 16000:  # the same band as the reference: the same descriptors
        n = min(stream.n_samples, reference.n_samples)
        ref = reference.values[:n]
        error = np.sqrt(((stream.values[:n] - ref) ** 2).mean(axis=0)) / ref.std(axis=0)
        assert np.median(error) < 0.06 and error.max() < 0.15
    # F0 within 2 Hz: a harmonic tone at 200 Hz and a pure one at 280 Hz (openSMILE
    # reads pure tones at 130-260 Hz 2-6 Hz high, at 16 kHz as at any rate)
    k = np.arange(int(0.6 * rate)) / rate
    harmonic = 0.2 * sum(np.sin(2 * np.pi * 200 * h * k) / h for h in range(1, 6))
    assert abs(_median_f0(harmonic, rate) - 200.0) < 2.0
    assert abs(_median_f0(0.3 * np.sin(2 * np.pi * 280 * k), rate) - 280.0) < 2.0


def test_audio_features_stereo_file_is_the_mean_of_its_channels(tmp_path, speech):
    mono = _render(speech, 44100)
    stereo = np.column_stack([mono, 0.5 * mono])
    path = tmp_path / "stereo.wav"
    soundfile.write(path, stereo, 44100, subtype="FLOAT")
    stream = audio_features(path)
    np.testing.assert_allclose(stream.values, audio_features(0.75 * mono, 44100).values,
                               rtol=1e-5, atol=1e-6)
    t = np.arange(stream.n_samples) / stream.rate
    energy = stream.values[:, stream.channels.index("pcm_RMSenergy_sma")]
    assert np.median(energy[_mask(t, SPEECH_PARTS)]) > 20 * (
        energy[_mask(t, PAUSES)].max() + 1e-4)
    np.testing.assert_array_equal(audio_features(stereo, 44100).values, stream.values)


def test_audio_features_errors_are_value_errors_naming_the_input(tmp_path,
                                                                 monkeypatch):
    from sklearn_impression.features import _audio

    tone = 0.3 * np.sin(2 * np.pi * 200 * np.arange(22050) / 22050)
    with pytest.raises(ValueError, match=r"audio array: shape \(2, 22050\) has more "
                       r"channels than samples; pass \(n_samples, n_channels\)"):
        audio_features(np.vstack([tone, tone]), 22050)
    with pytest.raises(ValueError, match=r"audio array: rate must be > 0 Hz, got inf"):
        audio_features(tone, float("inf"))
    with pytest.raises(ValueError, match=r"audio array: pass the sampling rate"):
        audio_features(tone)
    path = tmp_path / "talk.wav"
    soundfile.write(path, tone, 22050)

    class Failing:
        def process_signal(self, signal, rate):
            raise RuntimeError("smile: component failed")

    monkeypatch.setattr(_audio, "_smile", lambda feature_set: Failing())
    with pytest.raises(ValueError, match=r"talk\.wav: openSMILE could not process "
                       r"the audio \(RuntimeError: smile: component failed\)"):
        audio_features(path)
