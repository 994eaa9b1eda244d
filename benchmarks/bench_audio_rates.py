"""IS09 descriptors of one sound at other sampling rates, native vs resampled (issue 15).

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
the median and the worst channel (resampled).

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
                "native_per_channel": [round(float(v), 4) for v in native],
                "resampled_per_channel": [round(float(v), 4) for v in resampled],
            })
    print(json.dumps({
        "benchmark": "bench_audio_rates",
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
