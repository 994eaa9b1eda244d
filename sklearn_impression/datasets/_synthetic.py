"""Synthetic dyadic data shaped like the IMPRESSION corpus: :func:`make_impression`."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, validate_params

from ..recordings._constants import TARGET_NAMES
from ..recordings._recording import Recording, Stream

__all__ = ["make_impression", "DEFAULT_RATES", "DEFAULT_CHANNELS"]


#: Sampling rate in Hz of each synthetic modality (IMPRESSION-like devices).
DEFAULT_RATES = {
    "emitter.audio": 100.0,  # openSMILE low-level descriptors, 10 ms hop
    "emitter.eye": 50.0,  # gaze directions
    "emitter.face": 25.0,  # OpenFace on the 25 fps stimulus video
    "receiver.eye": 250.0,  # screen eye tracker
    "receiver.face": 29.97,  # webcam (NTSC rate: a non-integer ratio to 25 Hz)
    "receiver.physio": 256.0,  # BVP, ECG, GSR
}

#: Channel count of each modality in the default call.
DEFAULT_CHANNELS = {
    "emitter": {"audio": 15, "eye": 8, "face": 35},
    "receiver": {"eye": 9, "face": 35, "physio": 3},
}

# Modality that absorbs the rest when a whole domain's channel count is given.
_GROWING = {"emitter": "audio", "receiver": "eye"}

_AU_INTENSITY = (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26, 45)
_AU_PRESENCE = (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26, 28, 45)
_POOLS = {
    "emitter.eye": ("gaze_0_x", "gaze_0_y", "gaze_0_z", "gaze_1_x", "gaze_1_y",
                    "gaze_1_z", "gaze_angle_x", "gaze_angle_y"),
    "receiver.eye": ("gaze_duration", "gaze_x", "gaze_y", "eye_left_x", "eye_left_y",
                     "eye_left_z", "eye_right_x", "eye_right_y", "eye_right_z",
                     "pupil_left", "pupil_right"),
    "receiver.physio": ("bvp", "ecg", "gsr"),
}


def _channel_names(modality, n):
    """``n`` realistic channel names for ``modality`` (generic ones past the pool)."""
    kind = modality.split(".", 1)[1]
    if kind == "audio":
        tail = ("voice_prob", "rms_energy", "zcr")[: min(n, 3)]
        return [f"mfcc_{k}" for k in range(1, n - len(tail) + 1)] + list(tail)
    if kind == "face":
        # OpenFace order: intensities AUxx_r, then presences AUxx_c. A small face
        # takes units alternately (AU01_r, AU01_c, AU02_r, ...); past OpenFace's 35
        # units come intensities of further FACS numbers, then generic names.
        units = [(a, s) for a in sorted(set(_AU_INTENSITY) | set(_AU_PRESENCE))
                 for s in "rc" if a in (_AU_INTENSITY if s == "r" else _AU_PRESENCE)]
        units += [(a, "r") for a in range(1, 100) if a not in _AU_PRESENCE]
        units = sorted(units[:n], key=lambda u: (u[1] == "c", u[0]))
        names = [f"AU{a:02d}_{s}" for a, s in units]
        return names + [f"face_{k}" for k in range(len(names) + 1, n + 1)]
    pool = list(_POOLS.get(modality, ()))[:n]
    return pool + [f"{kind}_{k}" for k in range(len(pool) + 1, n + 1)]


def _resolve_channels(domain, spec):
    """Channel counts ``{modality: n}`` of one domain from the user's spec."""
    default = DEFAULT_CHANNELS[domain]
    if spec is None:
        counts = dict(default)
    elif isinstance(spec, Integral):
        grow = _GROWING[domain]
        fixed = sum(n for m, n in default.items() if m != grow)
        if spec < fixed + 1:
            raise ValueError(
                f"{domain}_channels={spec} is too small: an integer keeps the default "
                f"{ {m: n for m, n in default.items() if m != grow} } and gives the "
                f"rest to {domain}.{grow}, so it must be >= {fixed + 1}; pass a dict "
                "such as {'audio': 4, 'eye': 2, 'face': 2} for fewer channels"
            )
        counts = dict(default)
        counts[grow] = int(spec) - fixed
    else:
        unknown = set(spec) - set(default)
        if unknown:
            raise ValueError(
                f"{domain}_channels: unknown modalities {sorted(unknown)}; the "
                f"{domain} has {sorted(default)}"
            )
        counts = {m: spec.get(m, 0) for m in default}
        for m, n in counts.items():
            if isinstance(n, bool) or not isinstance(n, Integral) or n < 0:
                raise ValueError(
                    f"{domain}_channels[{m!r}] must be an integer >= 0, got {n!r}"
                )
        if sum(counts.values()) == 0:
            raise ValueError(f"{domain}_channels: the {domain} needs >= 1 channel")
    return {f"{domain}.{m}": int(n) for m, n in counts.items() if n > 0}


def _resolve_frames(stimulus_duration, stimulus_frames, n_stimuli, frame_rate):
    if stimulus_frames is not None:
        if stimulus_duration is not None:
            raise ValueError("give stimulus_duration or stimulus_frames, not both")
        frames = np.broadcast_to(np.asarray(stimulus_frames), (n_stimuli,))
        if frames.dtype.kind not in "iu" or frames.min() < 1:
            raise ValueError(
                "stimulus_frames must hold integers >= 1 (label frames per stimulus)"
            )
        return frames.astype(np.intp)
    seconds = 24.0 if stimulus_duration is None else stimulus_duration
    seconds = np.asarray(seconds, dtype=float)
    if seconds.ndim > 1 or (seconds.ndim == 1 and seconds.shape[0] != n_stimuli):
        raise ValueError(
            f"stimulus_duration must be a number or a sequence of {n_stimuli} "
            f"durations in seconds, got shape {seconds.shape}"
        )
    seconds = np.broadcast_to(seconds, (n_stimuli,))
    frames = np.rint(seconds * frame_rate)
    if not np.all(np.isfinite(frames)) or frames.min() < 1:
        raise ValueError(
            "stimulus_duration must give >= 1 label frame per stimulus, got "
            f"{seconds.tolist()} s at {frame_rate} Hz"
        )
    return frames.astype(np.intp)


class _SlowSignal:
    """Sum of random sinusoids, unit variance per dimension; evaluable at any time."""

    def __init__(self, rng, n_dims, low_hz, high_hz, n_components=6):
        self.freq = np.exp(rng.uniform(np.log(low_hz), np.log(high_hz),
                                       (n_components, n_dims)))
        self.phase = rng.uniform(0, 2 * np.pi, (n_components, n_dims))
        amp = rng.uniform(0.5, 1.5, (n_components, n_dims))
        self.amp = amp * np.sqrt(2.0 / (amp**2).sum(axis=0))

    def exact(self, t):
        out = np.zeros((t.shape[0], self.freq.shape[1]))
        two_pi_t = 2 * np.pi * t[:, np.newaxis]
        for f, p, a in zip(self.freq, self.phase, self.amp, strict=True):
            out += a * np.sin(two_pi_t * f + p)
        return out

    def __call__(self, t):
        # Exact on a grid of 32 points per period of the fastest component, linear
        # in between (error < 0.5 %): far cheaper than sines at 250 Hz.
        step = 1.0 / (32 * self.freq.max())
        if t.shape[0] < 2 or (t[-1] - t[0]) / step > 0.5 * t.shape[0]:
            return self.exact(t)
        grid = np.arange(t[0], t[-1] + step, step)
        coarse = self.exact(grid)
        return np.column_stack([np.interp(t, grid, coarse[:, d])
                                for d in range(coarse.shape[1])])


def _impression_basis(z):
    """Nonlinear features of a (competence, warmth) trajectory that drive sensors."""
    c, w = z[:, 0], z[:, 1]
    return np.column_stack([c, w, np.tanh(c), np.tanh(w), 0.5 * c * w])


def _transform(names, values):
    """In place: map unit-scale drives to each channel's physical range."""
    for j, name in enumerate(names):
        v = values[:, j]
        if name.startswith("AU") and name.endswith("_c"):
            v[:] = v > 0.5
        elif name.startswith("AU"):
            np.clip(v - 0.3, 0, 5, out=v)
        elif name.startswith("mfcc_"):
            v *= 12.0 / np.sqrt(int(name[5:]))
        elif name == "voice_prob":
            v[:] = 1 / (1 + np.exp(-1.5 * v))
        elif name == "rms_energy":
            v[:] = 0.05 * np.exp(0.5 * v)
        elif name == "zcr":
            v[:] = 0.15 / (1 + np.exp(-v))
        elif name in ("gaze_0_z", "gaze_1_z"):
            v[:] = -0.95 + 0.02 * v
        elif name.startswith("gaze_") and name != "gaze_duration":
            v *= 0.15
            if name in ("gaze_x", "gaze_y"):  # screen location in [0, 1]
                v += 0.5
        elif name.startswith("eye_") and name[-2:] in ("_x", "_y", "_z"):
            axis = name[-1]
            v *= {"x": 15.0, "y": 10.0, "z": 25.0}[axis]  # eye position in mm
            v += {"x": 31.5 if "left" in name else -31.5, "y": 0.0, "z": 600.0}[axis]
        elif name.startswith("pupil"):
            v *= 0.4
            v += 3.5


def _loadings(rng, n_channels, strength):
    """How a modality's channels load on the impression basis (shared by all)."""
    return rng.normal(0, strength / np.sqrt(5), (5, n_channels))


def _sensor(rng, names, drive_basis, nuisance, load, noise, gains=None):
    """``(n, n_channels)`` float32: impression basis and nuisance mixed, plus noise."""
    n, n_channels = drive_basis.shape[0], len(names)
    mix = rng.normal(0, 1 / np.sqrt(nuisance.shape[1]), (nuisance.shape[1], n_channels))
    values = np.hstack([drive_basis, nuisance]).astype(np.float32) @ np.vstack(
        [load, mix]).astype(np.float32)
    if noise > 0:
        values += np.float32(noise) * rng.standard_normal((n, n_channels),
                                                          dtype=np.float32)
    if gains is not None:
        values *= gains[0]
        values += gains[1]
    _transform(names, values)
    return values


def _physio(rng, names, t, rate, perceived_late, nuisance, noise, person):
    """BVP, ECG, GSR shaped like real ones; heart rate and GSR follow the impression."""
    arousal = perceived_late @ np.array([0.6, 0.4])
    heart_rate = person["hr"] + 5.0 * arousal + 2.0 * nuisance[:, 0]  # beats/min
    np.clip(heart_rate, 45, 140, out=heart_rate)
    phase = person["phase"] + np.cumsum(heart_rate / 60.0) / rate
    cycle = phase % 1.0
    out = np.empty((t.shape[0], len(names)), dtype=np.float32)
    for j, name in enumerate(names):
        sd = 0.02 * noise
        if name == "ecg":  # P, QRS, T waves in mV
            v = (0.12 * np.exp(-0.5 * ((cycle - 0.30) / 0.025) ** 2)
                 - 0.10 * np.exp(-0.5 * ((cycle - 0.46) / 0.008) ** 2)
                 + 1.00 * np.exp(-0.5 * ((cycle - 0.50) / 0.010) ** 2)
                 - 0.15 * np.exp(-0.5 * ((cycle - 0.53) / 0.010) ** 2)
                 + 0.30 * np.exp(-0.5 * ((cycle - 0.75) / 0.050) ** 2)
                 + 0.05 * nuisance[:, 1])
        elif name == "bvp":  # systolic peak and dicrotic wave, after the R wave
            lagged = (cycle - 0.78) % 1.0
            amplitude = person["bvp"] * (1 + 0.15 * arousal)
            v = amplitude * (np.exp(-0.5 * ((lagged - 0.25) / 0.09) ** 2)
                             + 0.35 * np.exp(-0.5 * ((lagged - 0.55) / 0.08) ** 2))
        elif name == "gsr":  # tonic level in microsiemens with slow drift
            v = person["gsr"] * (1 + 0.15 * nuisance[:, 2]) + 0.8 * arousal
            np.maximum(v, 0.05, out=v)
        else:
            v = _sensor(rng, [name], _impression_basis(perceived_late), nuisance,
                        person["load"][name], noise)[:, 0]
            sd = 0
        out[:, j] = v
        if sd:
            out[:, j] += rng.standard_normal(t.shape[0], dtype=np.float32) * sd
    return out


def _gaze_duration(rng, t, perceived):
    """Seconds since the current fixation began; longer fixations with competence."""
    # fixations last 0.06 s + Exp(0.3 s), scaled by exp(0.3 c) (c clipped to +-2):
    # 0.05 s per fixation on average is a safe overestimate of how many are needed
    n_fix = int((t[-1] + 1.0) / 0.05) + 16
    base = rng.exponential(0.3, n_fix) + 0.06
    starts = np.concatenate([[0.0], np.cumsum(base)[:-1]])
    idx = np.minimum(np.searchsorted(t, starts), t.shape[0] - 1)
    dur = base * np.exp(0.3 * np.clip(perceived[idx, 0], -2, 2))
    starts = np.concatenate([[0.0], np.cumsum(dur)[:-1]])
    k = np.searchsorted(starts, t, side="right") - 1
    return (t - starts[k]).astype(np.float32)


@validate_params(
    {
        "n_receivers": [Interval(Integral, 1, None, closed="left")],
        "n_stimuli": [Interval(Integral, 1, None, closed="left")],
        "stimulus_duration": [Interval(Real, 0, None, closed="neither"), "array-like",
                              None],
        "stimulus_frames": [Interval(Integral, 1, None, closed="left"), "array-like",
                            None],
        "frame_rate": [Interval(Real, 0, None, closed="neither")],
        "emitter_channels": [Interval(Integral, 1, None, closed="left"), dict, None],
        "receiver_channels": [Interval(Integral, 1, None, closed="left"), dict, None],
        "rates": [dict, None],
        "noise": [Interval(Real, 0, None, closed="left")],
        "return_X_y": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_impression(n_receivers=4, n_stimuli=3, stimulus_duration=None, *,
                    stimulus_frames=None, frame_rate=25.0, emitter_channels=None,
                    receiver_channels=None, rates=None, noise=0.5, return_X_y=False,
                    random_state=None):
    """Generate dyadic impression data shaped like IMPRESSION, with its ground truth.

    Every receiver watches every stimulus (an emitter video), as in IMPRESSION
    session 1, giving ``n_receivers * n_stimuli`` recordings, receiver by receiver.
    Streams come at their devices' rates (:data:`DEFAULT_RATES`): emitter audio
    descriptors at 100 Hz, emitter gaze at 50 Hz, emitter action units at 25 fps,
    receiver eye tracking at 250 Hz, receiver action units at 29.97 fps, receiver
    BVP/ECG/GSR at 256 Hz. Labels (competence, warmth) come at ``frame_rate``.

    Generative process (all times in seconds from the stimulus start):

    1. **Latent impression** of stimulus ``s``: ``z_s(t) = m_s + g_s(t)`` in two
       dimensions, with ``m_s ~ N(0, I)`` and ``g_s`` a unit-variance sum of six
       random sinusoids with periods of 8 to 90 s per dimension; warmth is mixed
       with competence (correlation about 0.4).
    2. **Emitter signals** carry ``z_s`` weakly: each channel is a random linear
       map (standard deviation 0.25 in total) of the nonlinear basis
       ``(c, w, tanh c, tanh w, c w / 2)`` of ``z_s``, plus eight stimulus-specific
       nuisance signals (periods 0.7 to 20 s, unit variance), plus white noise of
       standard deviation ``noise``, then mapped to the channel's physical range
       (AU presence 0/1, AU intensity 0-5, voicing probability in (0, 1), ...).
    3. **Perception**: receiver ``r`` perceives ``p_rs(t) = z_s(t) + 0.5 d_rs(t)``
       with ``d_rs`` an idiosyncratic slow signal like ``g_s``.
    4. **Receiver signals** carry ``p_rs`` strongly (loadings of standard deviation
       1.0 on the same basis, four recording-specific nuisance signals, the same
       white noise), with receiver-specific sensor gains (log-normal, sd 0.3) and
       offsets (sd 0.3) per channel. Physiology is shaped and follows the perceived
       arousal ``0.6 c + 0.4 w`` 1.5 s late: ECG P-QRS-T complexes and BVP pulses
       at a heart rate of 60-80 beats/min that rises with arousal; GSR, a tonic
       skin conductance level (2-10 microsiemens) that drifts and rises with it.
       Receiver gaze duration is a fixation sawtooth whose fixations lengthen
       with perceived competence.
    5. **Annotation** (the slider): the noise-free impression is
       ``u_rs(t) = o_r + a_r * p_rs(t - l_r)`` with per receiver and dimension an
       offset ``o_r ~ N(0, 1.5^2)``, a scale ``a_r ~ U(1, 2.5)`` and a reaction lag
       ``l_r ~ U(0.5, 3)`` s (one lag per receiver). The target starts at ``u``
       rounded to the receiver's step ``q_r = a_r * U(0.15, 0.4)`` and moves by whole
       steps, ``y += q_r * round((u - y) / q_r)``, only when ``|u - y| >= 0.75 q_r``:
       stepwise, unbounded, on the grid ``q_r * Z``.

    ``impression`` holds ``u_rs`` at the label frames, so ``ccc_score(impression,
    targets)`` is the oracle CCC that only the quantisation and its hysteresis
    keep below 1. Receiver offsets, scales, lags, idiosyncratic perception and
    sensor gains are all unknown to a model.

    Parameters
    ----------
    n_receivers : int, default=4
        Number of receivers (participants); ids ``0 .. n_receivers - 1``.
    n_stimuli : int, default=3
        Number of stimuli (emitter videos); ids ``0 .. n_stimuli - 1``.
    stimulus_duration : float or sequence of float, default=None
        Duration of each stimulus in seconds (one value for all, or one per
        stimulus); it is rounded to whole label frames. ``None`` means 24 s unless
        ``stimulus_frames`` is given.
    stimulus_frames : int or sequence of int, default=None
        Label frames per stimulus, instead of ``stimulus_duration``.
    frame_rate : float, default=25.0
        Label rate in Hz.
    emitter_channels, receiver_channels : int or dict, default=None
        Channels per modality. ``None`` uses :data:`DEFAULT_CHANNELS` (emitter:
        audio 15, eye 8, face 35; receiver: eye 9, face 35, physio 3). A dict
        such as ``{"audio": 4, "eye": 2, "face": 0}`` sets each count (0 drops the
        modality; a missing key counts as 0). An int is the domain's total: the
        other modalities keep their defaults and emitter audio (receiver eye) takes
        the rest, so 412 and 68 give the paper's feature counts.
    rates : dict, default=None
        Sampling rates overriding :data:`DEFAULT_RATES`, e.g.
        ``{"receiver.eye": 50.0}``.
    noise : float, default=0.5
        Standard deviation of the white sensor noise, relative to a channel's
        unit-variance drive, before its range mapping.
    return_X_y : bool, default=False
        Return ``(recordings, targets)`` instead of a Bunch.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible data.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``recordings`` : list of :class:`~sklearn_impression.Recording`, receiver by
        receiver, stimulus by stimulus. Emitter streams of one stimulus are the same
        :class:`~sklearn_impression.Stream` objects in all its recordings.
        Samples per stream: ``round(n_frames / frame_rate * rate)``, float32.
        ``targets`` : list of ``(n_frames, 2)`` float64 arrays, competence and
        warmth. ``receivers``, ``stimuli`` : int arrays, one id per recording.
        ``impression`` : list of ``(n_frames, 2)`` float64, the noise-free ``u_rs``.
        ``offsets``, ``scales`` : ``(n_receivers, 2)`` float64, each receiver's
        slider offset ``o_r`` and scale ``a_r``; ``lags`` : ``(n_receivers,)``,
        their reaction lags ``l_r`` in seconds. With them ``(u_rs - o_r) / a_r``
        is the perceived impression ``p_rs(t - l_r)``: what a benchmark needs to
        score a model that knew every receiver's perception but not their slider.
        ``target_names``, ``frame_rate``, ``DESCR``.
    (recordings, targets) : tuple if ``return_X_y`` is True.

    Examples
    --------
    >>> from sklearn_impression.datasets import make_impression
    >>> data = make_impression(n_receivers=2, n_stimuli=2, stimulus_duration=10,
    ...                        random_state=0)
    >>> len(data.recordings), data.targets[0].shape
    (4, (250, 2))
    >>> rec = data.recordings[0]
    >>> rec.modalities  # doctest: +NORMALIZE_WHITESPACE
    ('emitter.audio', 'emitter.eye', 'emitter.face',
     'receiver.eye', 'receiver.face', 'receiver.physio')
    >>> rec.streams["receiver.face"].rate, rec.streams["receiver.face"].n_samples
    (29.97, 300)
    >>> data.recordings[2].streams["emitter.audio"] is rec.streams["emitter.audio"]
    True

    Paper scale (40 receivers, 13 stimuli summing to 44,923 frames per receiver,
    412 emitter and 68 receiver channels) holds 3 GB of float32 streams and takes
    about a minute on one CPU core:

    >>> frames = [3455] * 12 + [3463]  # doctest: +SKIP
    >>> big = make_impression(40, 13, stimulus_frames=frames, emitter_channels=412,
    ...                       receiver_channels=68)  # doctest: +SKIP
    """
    frames = _resolve_frames(stimulus_duration, stimulus_frames, n_stimuli, frame_rate)
    channels = {**_resolve_channels("emitter", emitter_channels),
                **_resolve_channels("receiver", receiver_channels)}
    all_rates = dict(DEFAULT_RATES)
    for name, rate in (rates or {}).items():
        if name not in DEFAULT_RATES:
            raise ValueError(f"rates: unknown modality {name!r}; known: "
                             f"{sorted(DEFAULT_RATES)}")
        if isinstance(rate, bool) or not isinstance(rate, Real) or not rate > 0:
            raise ValueError(f"rates[{name!r}] must be a positive number, got {rate!r}")
        all_rates[name] = float(rate)
    names = {m: _channel_names(m, n) for m, n in channels.items()}
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    rng = np.random.default_rng(seed)
    noise = float(noise)
    frame_rate = float(frame_rate)
    mixing = np.array([[1.0, 0.4], [0.0, np.sqrt(1 - 0.16)]])

    def timeline(n_frames, modality):
        n = max(int(round(n_frames / frame_rate * all_rates[modality])), 1)
        return np.arange(n) / all_rates[modality]

    # how channels express the impression: one map per modality for all emitters,
    # one for all receivers (receivers differ by sensor gains and offsets)
    loadings = {m: _loadings(rng, len(names[m]), 0.25 if m.startswith("emitter.")
                             else 1.0) for m in names}

    # -- stimuli: latent impression and emitter streams, stored once -------------
    latents, emitter_streams = [], []
    for s in range(n_stimuli):
        mean = rng.standard_normal(2) @ mixing
        slow = _SlowSignal(rng, 2, 1 / 90, 1 / 8)
        nuisance = _SlowSignal(rng, 8, 1 / 20, 1 / 0.7)

        def latent(t, mean=mean, slow=slow):
            return mean + slow(t) @ mixing

        latents.append(latent)
        streams = {}
        for m in (m for m in channels if m.startswith("emitter.")):
            t = timeline(frames[s], m)
            values = _sensor(rng, names[m], _impression_basis(latent(t)),
                             nuisance(t), loadings[m], noise)
            streams[m] = Stream(values, all_rates[m], channels=names[m])
        emitter_streams.append(streams)

    # -- receivers: perception, sensors, annotation --------------------------------
    offset = rng.normal(0, 1.5, (n_receivers, 2))
    scale = rng.uniform(1.0, 2.5, (n_receivers, 2))
    lag = rng.uniform(0.5, 3.0, n_receivers)
    step = scale * rng.uniform(0.15, 0.4, (n_receivers, 2))
    gains = [{m: (np.exp(rng.normal(0, 0.3, len(names[m]))).astype(np.float32),
                  rng.normal(0, 0.3, len(names[m])).astype(np.float32))
              for m in names if m.startswith("receiver.")}
             for _ in range(n_receivers)]
    physio_load = {
        name: loadings["receiver.physio"][:, [j]]
        for j, name in enumerate(names.get("receiver.physio", ()))
    }
    people = [{"hr": rng.uniform(60, 80), "bvp": rng.uniform(0.5, 1.5),
               "gsr": rng.uniform(2, 10), "phase": rng.uniform(),
               "load": physio_load} for _ in range(n_receivers)]

    recordings, receivers, stimuli = [], [], []
    impressions = np.empty((n_receivers, n_stimuli), dtype=object)
    for r in range(n_receivers):
        for s in range(n_stimuli):
            idio = _SlowSignal(rng, 2, 1 / 90, 1 / 8)
            nuisance = _SlowSignal(rng, 4, 1 / 20, 1 / 0.7)

            def perceived(t, s=s, idio=idio):
                return latents[s](t) + 0.5 * idio(t)

            streams = dict(emitter_streams[s])
            for m in (m for m in channels if m.startswith("receiver.")):
                t = timeline(frames[s], m)
                if m == "receiver.physio":
                    values = _physio(rng, names[m], t, all_rates[m], perceived(t - 1.5),
                                     nuisance(t), noise, people[r])
                else:
                    p = perceived(t)
                    values = _sensor(rng, names[m], _impression_basis(p),
                                     nuisance(t), loadings[m], noise, gains[r][m])
                    if "gaze_duration" in names[m]:
                        values[:, names[m].index("gaze_duration")] = \
                            _gaze_duration(rng, t, p)
                streams[m] = Stream(values, all_rates[m], channels=names[m])
            recordings.append(Recording(streams, int(frames[s]), frame_rate,
                                        receiver=r, stimulus=s))
            receivers.append(r)
            stimuli.append(s)
            t_labels = np.arange(frames[s]) / frame_rate
            impressions[r, s] = offset[r] + scale[r] * perceived(t_labels - lag[r])

    targets = np.empty_like(impressions)
    for s in range(n_stimuli):
        # one slider loop per stimulus, vectorised over receivers
        u = np.stack(list(impressions[:, s]))  # (n_receivers, n_frames, 2)
        y = np.empty_like(u)
        level = step * np.rint(u[:, 0] / step)
        for k in range(u.shape[1]):
            gap = u[:, k] - level
            move = np.abs(gap) >= 0.75 * step
            level = np.where(move, level + step * np.rint(gap / step), level)
            y[:, k] = level
        for r in range(n_receivers):
            targets[r, s] = y[r]
    targets = list(targets.ravel())
    if return_X_y:
        return recordings, targets
    return Bunch(
        recordings=recordings,
        targets=targets,
        receivers=np.asarray(receivers),
        stimuli=np.asarray(stimuli),
        impression=list(impressions.ravel()),
        offsets=offset,
        scales=scale,
        lags=lag,
        target_names=TARGET_NAMES,
        frame_rate=frame_rate,
        DESCR=make_impression.__doc__.split("Parameters\n")[0],
    )
