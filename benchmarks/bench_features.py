"""Feature extraction speed of ``sklearn_impression.features`` (issue 15).

Measures, on ONE thread (BLAS/OpenMP pools limited to 1 before anything loads),
the CPU time (``time.process_time``: all threads of this process) and wall time of

* audio: :func:`~sklearn_impression.features.audio_features` on a WAV file of
  ``--audio-seconds`` of speech (``tests/data/speech.wav``, eSpeak NG, tiled),
  read from disk, for the IS09 (default), eGeMAPS and ComParE feature sets;
* physiology: :func:`~sklearn_impression.features.physio_features` on
  ``--physio-seconds`` of BVP, ECG and GSR at 128 Hz (NeuroKit2's simulators),
  processed (cleaning, heart rate, tonic/phasic) and raw (checks only);
* a whole folder: :func:`~sklearn_impression.features.load_raw_sessions` on a
  :func:`~sklearn_impression.features.make_raw_sessions` folder (4 receivers x 2
  stimuli x 30 s: 8 recordings with 6 streams each), ``n_jobs=1``.

"x real time per core" is the signal's duration divided by the CPU time (the best
of ``--repeats`` runs): CPU time rather than wall time, because the machine may be
shared. Target (issue 15): >= 200x for audio (IS09) and physiology.

Run ``python benchmarks/bench_features.py [--audio-seconds 60] [--physio-seconds
300] [--repeats 3]``; prints JSON.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

SPEECH = Path(__file__).resolve().parents[1] / "tests" / "data" / "speech.wav"


def _best(function, repeats):
    """(best CPU seconds, wall seconds of that run) over ``repeats`` calls."""
    best = None
    for _ in range(repeats):
        cpu, wall = time.process_time(), time.perf_counter()
        function()
        run = (time.process_time() - cpu, time.perf_counter() - wall)
        best = run if best is None or run[0] < best[0] else best
    return best


def _figure(seconds, cpu, wall):
    return {"signal_seconds": seconds, "cpu_seconds": round(cpu, 4),
            "wall_seconds": round(wall, 4),
            "x_real_time_per_core": round(seconds / cpu, 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--audio-seconds", type=float, default=60.0)
    parser.add_argument("--physio-seconds", type=float, default=300.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    import neurokit2 as nk
    import opensmile
    import soundfile
    from threadpoolctl import threadpool_limits

    from sklearn_impression import Stream
    from sklearn_impression.features import (
        audio_features,
        load_raw_sessions,
        make_raw_sessions,
        physio_features,
    )

    threadpool_limits(1)
    warnings.simplefilter("ignore")
    result = {"machine": {"platform": platform.platform(),
                          "cpu_count": os.cpu_count(),
                          "load_average": os.getloadavg(),
                          "python": platform.python_version(),
                          "opensmile": opensmile.__version__,
                          "neurokit2": nk.__version__, "threads": 1,
                          "note": "CPU time of this process; the machine may be "
                                  "shared, so wall time can be larger"}}
    with tempfile.TemporaryDirectory() as tmp:
        speech, rate = soundfile.read(SPEECH, dtype="float32")
        n = int(args.audio_seconds * rate)
        wav = Path(tmp) / "speech.wav"
        soundfile.write(wav, np.resize(speech, n), rate, subtype="PCM_16")
        audio = {}
        for feature_set in ("IS09", "eGeMAPS", "ComParE"):
            audio_features(wav, feature_set=feature_set)  # warm: openSMILE set-up
            cpu, wall = _best(lambda fs=feature_set: audio_features(wav,
                                                                     feature_set=fs),
                              args.repeats)
            audio[feature_set] = _figure(n / rate, cpu, wall)
        result["audio"] = {"file": f"{SPEECH.name} tiled, {rate} Hz mono 16-bit",
                           **audio}

        fs, seconds = 128, args.physio_seconds
        signals = np.column_stack([
            nk.ppg_simulate(duration=int(seconds), sampling_rate=fs, heart_rate=70,
                            random_state=0),
            nk.ecg_simulate(duration=int(seconds), sampling_rate=fs, heart_rate=70,
                            method="simple", random_state=0),
            nk.eda_simulate(duration=int(seconds), sampling_rate=fs, scr_number=20,
                            random_state=0)])
        stream = Stream(signals, fs, ["bvp", "ecg", "gsr"])
        physio = {}
        for processed in (True, False):
            cpu, wall = _best(lambda p=processed: physio_features(stream,
                                                                  processed=p),
                              args.repeats)
            physio["processed" if processed else "raw"] = _figure(seconds, cpu, wall)
        result["physio"] = {"signals": "bvp, ecg, gsr at 128 Hz (one recording)",
                            **physio}

        root = make_raw_sessions(Path(tmp) / "raw", n_receivers=4, n_stimuli=2,
                                 duration=30.0, random_state=0)
        cpu, wall = _best(lambda: load_raw_sessions(root, n_jobs=1), args.repeats)
        result["load_raw_sessions"] = {
            "folder": "make_raw_sessions(4 receivers, 2 stimuli, 30 s): 8 "
                      "recordings; 2 WAV, 2 emitter OpenFace CSV, and per recording "
                      "OpenFace, eye-tracker, physiology and label CSV",
            **_figure(8 * 30.0, cpu, wall)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
