"""What :func:`~sklearn_impression.datasets.make_impression` generates: the
modalities' sampling rates, channel counts and channel names.
"""

from __future__ import annotations

from numbers import Integral, Real

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


def _resolve_rates(rates):
    """Sampling rate per modality: :data:`DEFAULT_RATES` updated by ``rates``."""
    all_rates = dict(DEFAULT_RATES)
    for name, rate in (rates or {}).items():
        if name not in DEFAULT_RATES:
            raise ValueError(f"rates: unknown modality {name!r}; known: "
                             f"{sorted(DEFAULT_RATES)}")
        if isinstance(rate, bool) or not isinstance(rate, Real) or not rate > 0:
            raise ValueError(f"rates[{name!r}] must be a positive number, got {rate!r}")
        all_rates[name] = float(rate)
    return all_rates
