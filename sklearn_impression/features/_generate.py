"""A generator of raw-session folders (:func:`make_raw_sessions`) for tests,
examples and trying the loader before real data exists.
"""

from __future__ import annotations

import csv
import os
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

from ._audio import _import
from ._sessions import MANIFEST

__all__ = ["make_raw_sessions"]

_AUS = ("AU01", "AU06", "AU12")
_OPENFACE_HEAD = (["frame", "face_id", "timestamp", "confidence", "success"]
                  + [f"gaze_0_{a}" for a in "xyz"] + ["gaze_angle_x", "gaze_angle_y"]
                  + [f"{au}_r" for au in _AUS] + [f"{au}_c" for au in _AUS])


def _speech_like(duration, rate, rng):
    """Voiced syllables (harmonics of a gliding F0) separated by silent pauses."""
    n = int(round(duration * rate))
    t = np.arange(n) / rate
    x = np.zeros(n)
    start = 0.2
    while start < duration - 0.3:
        length = rng.uniform(0.6, 1.2)
        stop = min(start + length, duration - 0.1)
        idx = (t >= start) & (t < stop)
        local = t[idx] - start
        f0 = rng.uniform(110, 180) * (1 + 0.1 * np.sin(2 * np.pi * 2 * local))
        phase = 2 * np.pi * np.cumsum(f0) / rate
        syllables = np.sin(np.pi * 4 * local / (stop - start)) ** 2  # 4 per unit
        x[idx] = syllables * sum(np.sin(k * phase) / k for k in range(1, 8))
        start = stop + rng.uniform(0.3, 0.6)
    x += 0.002 * rng.standard_normal(n)
    return 0.3 * x / np.max(np.abs(x))


def _openface_rows(duration, fps, t0, rng, drive):
    n = int(round(duration * fps))
    t = t0 + np.arange(n) / fps
    success = (rng.random(n) > 0.05).astype(int)
    confidence = np.where(success == 1, rng.uniform(0.85, 0.99, n), 0.0)
    gaze = rng.normal(0, 0.1, (n, 3)) + [0, 0, -1]
    angles = np.column_stack([np.arctan2(gaze[:, 0], -gaze[:, 2]),
                              np.arctan2(gaze[:, 1], -gaze[:, 2])])
    intensity = np.clip(np.column_stack([
        1 + rng.normal(0, 0.2, n), 2 * drive(t) + rng.normal(0, 0.2, n),
        3 * drive(t) + rng.normal(0, 0.2, n)]), 0, 5)
    presence = (intensity > 1).astype(float)
    body = np.column_stack([np.arange(1, n + 1), np.zeros(n), t, confidence, success,
                            gaze, angles, intensity, presence])
    body[success == 0, 5:] = 0.0  # OpenFace writes zeros when tracking fails
    return body


def _write_csv(path, header, body, sep=","):
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, body, delimiter=sep, header=sep.join(header), comments="",
               fmt="%.9g")


@validate_params(
    {
        "root": [str, os.PathLike],
        "n_receivers": [Interval(Integral, 1, None, closed="left")],
        "n_stimuli": [Interval(Integral, 1, None, closed="left")],
        "duration": [Interval(Real, 1, None, closed="left")],
        "frame_rate": [Interval(Real, 0, None, closed="neither")],
        "audio_rate": [Interval(Integral, 8000, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_raw_sessions(root, *, n_receivers=2, n_stimuli=2, duration=6.0,
                      frame_rate=25.0, audio_rate=16000, random_state=None):
    """Write a folder of raw dyadic sessions that :func:`load_raw_sessions` reads.

    Per stimulus: ``stimuli/<s>/audio.wav`` (mono 16-bit at ``audio_rate``, voiced
    syllables separated by pauses) and ``stimuli/<s>/face.csv`` (OpenFace 2 format at
    25 fps, about 5% failed-tracking rows; it gives ``emitter.face`` and
    ``emitter.eye``). Per receiver and stimulus: ``receivers/<r>/<s>/face.csv``
    (OpenFace, 30 fps, the webcam started 0.5 s before the stimulus),
    ``receivers/<r>/<s>/eye.csv`` (an eye tracker near 60 Hz with jittered
    timestamps), ``receivers/<r>/<s>/physio.csv`` (BVP, ECG and GSR at 128 Hz
    from NeuroKit2's simulators, a wearable started 2 s early and stopped 1 s
    late) and ``labels/<r>_<s>.csv`` (competence and warmth at ``frame_rate``:
    competence follows the emitter's speech envelope, warmth its smile (AU12),
    with a receiver-specific offset, gain and noise). ``manifest.csv`` lists
    them with their offsets and rates.

    Parameters
    ----------
    root : str or path
        Folder to write into (created if needed).
    n_receivers, n_stimuli : int, default=2
        Receivers and stimuli; every receiver watches every stimulus.
    duration : float, default=6.0
        Seconds per stimulus (and annotation).
    frame_rate : float, default=25.0
        Label rate in Hz.
    audio_rate : int, default=16000
        Sampling rate of the WAV files in Hz (22050 is what speech synthesisers
        such as eSpeak NG write).
    random_state : int, RandomState or None, default=None
        Seed.

    Returns
    -------
    pathlib.Path
        ``root``.

    Examples
    --------
    >>> import tempfile
    >>> root = make_raw_sessions(tempfile.mkdtemp(), n_receivers=1,
    ...                          n_stimuli=1)  # doctest: +SKIP
    >>> sorted(p.name for p in root.iterdir())  # doctest: +SKIP
    ['labels', 'manifest.csv', 'receivers', 'stimuli']
    """
    soundfile = _import("soundfile")
    nk = _import("neurokit2")
    rng = check_random_state(random_state)
    gen = np.random.default_rng(rng.randint(2**31))
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    physio_rate = 128
    n_frames = int(round(duration * frame_rate))
    frame_t = np.arange(n_frames) / frame_rate

    stimuli = {}
    for s in range(n_stimuli):
        sid = f"s{s + 1}"
        folder = root / "stimuli" / sid
        folder.mkdir(parents=True, exist_ok=True)
        audio = _speech_like(duration, audio_rate, gen)
        soundfile.write(folder / "audio.wav", audio, audio_rate, subtype="PCM_16")
        window = np.ones(audio_rate // 4) / (audio_rate // 4)  # 0.25 s
        envelope = np.sqrt(np.convolve(audio ** 2, window, "same"))
        env = np.interp(frame_t, np.arange(audio.size) / audio_rate, envelope)
        env = env / env.max()
        smile_t = np.sort(gen.uniform(0, duration, 3))
        smile = np.exp(-((frame_t[:, None] - smile_t) ** 2) / 0.5).sum(axis=1)
        smile = smile / smile.max()

        def drive(t, smile=smile):
            return np.interp(t, frame_t, smile)

        _write_csv(folder / "face.csv", _OPENFACE_HEAD,
                   _openface_rows(duration, 25.0, 0.0, gen, drive), sep=", ")
        stimuli[sid] = (env, smile)

    header = ["receiver", "stimulus", "labels", "emitter.audio",
              "emitter.audio.rate", "emitter.face",
              "emitter.eye", "receiver.face", "receiver.face.offset", "receiver.eye",
              "receiver.eye.rate", "receiver.physio", "receiver.physio.rate",
              "receiver.physio.offset"]
    rows = []
    for r in range(n_receivers):
        rid = f"p{r + 1:02d}"
        bias, gain, hr = gen.normal(0, 0.3), gen.uniform(0.5, 1.5), gen.uniform(60, 80)
        for sid, (env, smile) in stimuli.items():
            folder = root / "receivers" / rid / sid
            _write_csv(folder / "face.csv", _OPENFACE_HEAD,
                       _openface_rows(duration + 1.0, 30.0, 0.0, gen,
                                      lambda t: 0.5 + 0.0 * t), sep=", ")
            t_eye = np.cumsum(gen.uniform(0.8, 1.2, int((duration + 1) * 60)) / 60)
            t_eye = t_eye - t_eye[0] - 0.3
            eye = np.column_stack([t_eye, gen.normal(0.5, 0.05, (t_eye.size, 2)),
                                   gen.normal(3.5, 0.1, t_eye.size)])
            _write_csv(folder / "eye.csv", ["timestamp", "gaze_x", "gaze_y", "pupil"],
                       eye)
            n_physio = int(round((duration + 3.0) * physio_rate))
            # whole seconds: eda_simulate takes no fractional duration
            seconds, seed = int(np.ceil(duration + 3.0)), int(gen.integers(2**31))
            physio = np.column_stack([
                np.arange(n_physio) / physio_rate,
                nk.ppg_simulate(duration=seconds, sampling_rate=physio_rate,
                                heart_rate=hr, random_state=seed)[:n_physio],
                nk.ecg_simulate(duration=seconds, sampling_rate=physio_rate,
                                heart_rate=hr, method="simple",
                                random_state=seed)[:n_physio],
                nk.eda_simulate(duration=seconds, sampling_rate=physio_rate,
                                scr_number=2, random_state=seed)[:n_physio],
            ])
            _write_csv(folder / "physio.csv", ["timestamp", "bvp", "ecg", "gsr"],
                       physio)
            labels = np.column_stack([
                frame_t,
                np.tanh(bias + gain * (env - 0.5) + gen.normal(0, 0.05, n_frames)),
                np.tanh(bias + gain * (smile - 0.3) + gen.normal(0, 0.05, n_frames)),
            ])
            label_file = Path("labels", f"{rid}_{sid}.csv")
            _write_csv(root / label_file, ["time", "competence", "warmth"], labels)
            face, base = f"stimuli/{sid}/face.csv", f"receivers/{rid}/{sid}"
            rows.append([rid, sid, label_file.as_posix(),
                         f"stimuli/{sid}/audio.wav", f"{audio_rate}", face, face,
                         f"{base}/face.csv", "-0.5", f"{base}/eye.csv", "60",
                         f"{base}/physio.csv", f"{physio_rate}", "-2"])
    with open(root / MANIFEST, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return root
