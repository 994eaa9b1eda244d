"""IS09 descriptors of one sound at other rates, native vs resampled (issue 15).

``tests/data/speech.wav`` (16 kHz) is rendered at each rate by polyphase
resampling (:func:`scipy.signal.resample_poly`) and written as a 16-bit WAV,
as ``tests/test_audio_rates.py`` does. For each rate the file's IS09 low-level
descriptors are computed two ways and compared with those of the 16 kHz file:

* **native**: openSMILE run at the file's own rate (what ``audio_features`` did
  before it resampled), its frames linearly interpolated onto the 16 kHz
  frames' start times;
* **resampled**: :func:`sklearn_impression.features.audio_features`, which
  resamples every input to 16 kHz first.

The error of a channel is the RMS difference over the frames both have, divided
by the 16 kHz channel's standard deviation. Reported per rate: the median over
the 16 channels and the RMS-energy and zero-crossing-rate channels (native),
the median and the worst channel (resampled), and in how many channels the
resampled descriptors are the closer ones.

Two tones as well: a 200 Hz sine (amplitude 0.3, 1 s) at 48 kHz, openSMILE at
the native rate against 16 kHz (ratio of the median zero-crossing rate and of
the median RMS energy) and ``audio_features`` (resampled); and the median IS09
F0 of pure sines (0.6 s) at 16 kHz for ``--tones`` Hz, as read minus true.

Run ``python benchmarks/bench_audio_rates.py [--rates 8000 ...]``; needs the
``features`` extra; prints JSON. A few seconds of CPU.
"""

import argparse
import json
import platform
import tempfile
import warnings
from math import gcd
from pathlib import Path

import numpy as np

SPEECH = Path(__file__).resolve().parents[1] / "tests" / "data" / "speech.wav"
RATES = [8000, 11025, 22050, 24000, 32000, 44100, 48000, 96000]


def _errors(values, starts, ref_values, ref_starts):
    """Per-channel RMS error over the reference's spread, on the reference's frames."""
    inside = ref_starts <= starts[-1]
    ref = ref_values[inside]
    moved = np.column_stack([np.interp(ref_starts[inside], starts, values[:, j])
                             for j in range(values.shape[1])])
    return np.sqrt(((moved - ref) ** 2).mean(axis=0)) / ref.std(axis=0)


def _frame(smile, signal, rate):
    frame = smile.process_signal(signal, rate)
    starts = frame.index.get_level_values("start").total_seconds().to_numpy()
    keep = np.ones(starts.shape[0], dtype=bool)
    keep[1:] = np.diff(starts) > 0.005  # openSMILE's closing frame repeats a start
    return frame.to_numpy(dtype=np.float64)[keep], starts[keep], list(frame.columns)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rates", type=int, nargs="+", default=RATES)
    parser.add_argument("--tones", type=float, nargs="+",
                        default=[100, 120, 130, 160, 200, 230, 260, 280, 320])
    args = parser.parse_args(argv)

    import opensmile
    import soundfile
    from scipy.signal import resample_poly

    from sklearn_impression.features import audio_features

    warnings.simplefilter("ignore")
    smile = opensmile.Smile(feature_set=opensmile.FeatureSet.IS09,
                            feature_level=opensmile.FeatureLevel.LowLevelDescriptors)
    speech, rate0 = soundfile.read(SPEECH, dtype="float64")
    ref_values, ref_starts, channels = _frame(smile, speech.astype(np.float32), rate0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for rate in args.rates:
            g = gcd(rate, rate0)
            path = Path(tmp) / f"speech_{rate}.wav"
            soundfile.write(path, resample_poly(speech, rate // g, rate0 // g), rate,
                            subtype="PCM_16")
            signal, _ = soundfile.read(path, dtype="float32")
            native = _errors(*_frame(smile, signal, rate)[:2], ref_values, ref_starts)
            stream = audio_features(path, rate)
            resampled = _errors(stream.values, np.arange(stream.n_samples) / 100.0,
                                ref_values, ref_starts)
            worst = int(np.argmax(resampled))
            rows.append({
                "rate": rate,
                "native_median": round(float(np.median(native)), 4),
                "native_rms_energy": round(float(
                    native[channels.index("pcm_RMSenergy_sma")]), 4),
                "native_zcr": round(float(native[channels.index("pcm_zcr_sma")]), 4),
                "resampled_median": round(float(np.median(resampled)), 4),
                "resampled_worst": round(float(resampled[worst]), 4),
                "resampled_worst_channel": channels[worst],
                "resampled_closer_channels": int(np.sum(resampled < native)),
                "native_per_channel": [round(float(v), 4) for v in native],
                "resampled_per_channel": [round(float(v), 4) for v in resampled],
            })
    zcr, rms = channels.index("pcm_zcr_sma"), channels.index("pcm_RMSenergy_sma")

    def sine(rate, freq, seconds):
        return (0.3 * np.sin(2 * np.pi * freq * np.arange(int(seconds * rate)) / rate)
                ).astype(np.float32)

    def medians(values):
        return np.median(values[10:-10], axis=0)

    at16 = medians(_frame(smile, sine(16000, 200, 1.0), 16000)[0])
    at48 = medians(_frame(smile, sine(48000, 200, 1.0), 48000)[0])
    resampled48 = medians(audio_features(sine(48000, 200, 1.0), 48000).values)
    tone = {"sine": "200 Hz, amplitude 0.3, 1 s",
            "native_48k_over_16k": {"zcr": round(float(at48[zcr] / at16[zcr]), 3),
                                    "rms_energy": round(float(at48[rms] / at16[rms]),
                                                        3)},
            "resampled_48k_over_16k": {
                "zcr": round(float(resampled48[zcr] / at16[zcr]), 3),
                "rms_energy": round(float(resampled48[rms] / at16[rms]), 3)}}
    f0 = channels.index("F0_sma")
    pure = [{"hz": freq, "f0_read_minus_true": round(float(
        medians(_frame(smile, sine(16000, freq, 0.6), 16000)[0])[f0] - freq), 2)}
        for freq in args.tones]
    print(json.dumps({
        "benchmark": "bench_audio_rates",
        "tone_200hz": tone,
        "pure_sine_f0_16k": pure,
        "sound": f"{SPEECH.name}, {rate0} Hz, {len(speech) / rate0:.2f} s",
        "feature_set": "IS09 low-level descriptors",
        "channels": channels,
        "versions": {"opensmile": opensmile.__version__,
                     "python": platform.python_version()},
        "error": "RMS difference over the 16 kHz channel's standard deviation",
        "rows": rows,
    }, indent=1))


if __name__ == "__main__":
    main()
