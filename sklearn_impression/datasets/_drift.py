"""A second synthetic generator with another structure: :func:`make_dyadic_drift`.

:func:`~sklearn_impression.datasets.make_impression` links everything linearly
(up to a fixed basis), gives each receiver one constant reaction lag and a
stepwise slider, and never loses a sample. This generator differs on each of
those points, so that a model or a default tuned on one process can be checked
on another.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils._param_validation import validate_params

from ..recordings._bunch import recordings_bunch
from ..recordings._recording import Recording, Stream
from ._generator_base import (
    _GENERATOR_CONSTRAINTS,
    _resolve_frames,
    _sample_times,
    _seeded_rng,
)

__all__ = ["make_dyadic_drift", "DRIFT_RATES", "DRIFT_CHANNELS"]

#: Sampling rate in Hz of each modality of :func:`make_dyadic_drift`.
DRIFT_RATES = {
    "emitter.audio": 50.0,
    "emitter.eye": 60.0,
    "emitter.face": 30.0,
    "receiver.eye": 120.0,
    "receiver.face": 25.0,
    "receiver.physio": 128.0,
}

#: Channel count of each modality of :func:`make_dyadic_drift`.
DRIFT_CHANNELS = {
    "emitter.audio": 10,
    "emitter.eye": 4,
    "emitter.face": 17,
    "receiver.eye": 6,
    "receiver.face": 17,
    "receiver.physio": 4,
}

_PHYSIO = ("bvp", "gsr", "resp", "skin_temp")
_GRID_STEP = 0.1  # s: latent processes live on this grid, interpolated elsewhere


class _GridSignal:
    """A process sampled on a regular grid, linearly interpolated at any time."""

    def __init__(self, start, values):
        self.start, self.values = start, values

    def __call__(self, t):
        pos = np.clip((np.asarray(t) - self.start) / _GRID_STEP, 0,
                      self.values.shape[0] - 1)
        low = np.minimum(pos.astype(np.intp), self.values.shape[0] - 2)
        frac = (pos - low)[:, np.newaxis]
        return (1 - frac) * self.values[low] + frac * self.values[low + 1]


def _ou_with_jumps(rng, start, stop, n_dims, tau, jump_rate):
    """Unit-variance Ornstein-Uhlenbeck process plus Poisson-timed level jumps."""
    n = int(np.ceil((stop - start) / _GRID_STEP)) + 2
    a = np.exp(-_GRID_STEP / tau)
    shocks = rng.standard_normal((n, n_dims)) * np.sqrt(1 - a * a)
    x = np.empty((n, n_dims))
    x[0] = rng.standard_normal(n_dims)
    for k in range(1, n):
        x[k] = a * x[k - 1] + shocks[k]
    jumps = rng.random(n) < jump_rate * _GRID_STEP
    levels = np.cumsum(jumps[:, np.newaxis] * rng.normal(0, 1, (n, n_dims)), axis=0)
    # Meant as a decay back (time constant 4 tau), but the recursion reads the
    # already updated levels[k - 1]: it settles at about levels / (2 - b), so
    # jumps persist (a random walk of jumps). Kept as is: the documented
    # figures were measured on this process (see the docstring).
    b = np.exp(-_GRID_STEP / (4 * tau))
    for k in range(1, n):
        levels[k] = b * levels[k - 1] + (levels[k] - levels[k - 1])
    x = (x + levels) / np.sqrt(1 + jump_rate * 2 * tau)
    return _GridSignal(start, x)


def _links(rng, n_channels):
    """Per channel: a projection of the 2-D latent, a threshold and a link kind."""
    return {"w": rng.normal(0, 1, (2, n_channels)),
            "theta": rng.uniform(-0.5, 0.5, n_channels),
            "kind": rng.integers(0, 4, n_channels)}


def _apply_links(z, links, strength):
    """Drives ``(n, n_channels)``: saturating, rectified, signed square, step."""
    x = z @ links["w"] - links["theta"]
    kind = links["kind"]
    out = np.where(kind == 0, np.tanh(1.5 * x),
                   np.where(kind == 1, np.maximum(x, 0) - 0.4,
                            np.where(kind == 2, 0.5 * x * np.abs(x),
                                     np.tanh(4 * x))))
    return strength * out


def _random_walk(rng, start, stop, n_dims, sd_per_minute):
    """Slow Brownian drift on a 1 s grid, linearly interpolated."""
    n = int(np.ceil(stop - start)) + 2
    steps = rng.normal(0, sd_per_minute / np.sqrt(60.0), (n, n_dims))
    steps[0] = 0
    values = np.cumsum(steps, axis=0)
    return lambda t: np.column_stack(
        [np.interp(t, start + np.arange(n), values[:, d]) for d in range(n_dims)])


def _gaps(rng, n, rate, mean_every, low, high):
    """Boolean mask of short NaN gaps: about one per ``mean_every`` seconds."""
    mask = np.zeros(n, dtype=bool)
    for _ in range(rng.poisson(n / rate / mean_every)):
        start = rng.integers(0, n)
        mask[start:start + max(int(rng.uniform(low, high) * rate), 1)] = True
    mask[0] = False  # a channel is never all NaN: interpolation needs an anchor
    return mask


def _physio(rng, t, rate, arousal, drift, person):
    """BVP pulse, GSR with drifting tonic level, respiration, skin temperature."""
    heart = person["hr"] + 6.0 * np.tanh(arousal) + 3.0 * drift[:, 0]
    phase = person["phase"] + np.cumsum(heart / 60.0) / rate
    cycle = phase % 1.0
    bvp = person["bvp"] * np.exp(-0.5 * ((cycle - 0.3) / 0.1) ** 2)
    gsr = np.maximum(person["gsr"] + 2.0 * drift[:, 1]
                     + 1.2 * np.maximum(arousal - 0.3, 0), 0.05)
    breath = person["breath"] * (1 + 0.15 * np.tanh(arousal))
    resp = np.sin(2 * np.pi * np.cumsum(breath) / rate)
    temp = person["temp"] + 0.5 * drift[:, 2] - 0.1 * arousal
    out = np.column_stack([bvp, gsr, resp, temp])
    out += rng.normal(0, 0.03, out.shape)
    return out.astype(np.float32)


@validate_params(
    {**_GENERATOR_CONSTRAINTS, "missing": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def make_dyadic_drift(n_receivers=4, n_stimuli=3, stimulus_duration=None, *,
                      frame_rate=25.0, noise=0.5, missing=True, return_X_y=False,
                      random_state=None):
    """Generate dyadic data with nonlinear links, drifting sensors and varying lags.

    A second synthetic process, built to differ from
    :func:`~sklearn_impression.datasets.make_impression` wherever a model could
    come to rely on it: latent dynamics, links, reaction lags, slider, sensor
    drift, missing samples, rates and channel counts (:data:`DRIFT_RATES`,
    :data:`DRIFT_CHANNELS`). Every receiver watches every stimulus; recordings
    come receiver by receiver.

    Generative process (times in seconds from the stimulus start):

    1. **Latent impression** of stimulus ``s``: ``z_s(t)``, two dimensions, a
       unit-variance Ornstein-Uhlenbeck process (time constant 5 s) plus level
       jumps at Poisson times (one per 20 s on average, N(0, 1) each) that
       persist (about 99 % of each jump stays; the recursion below was meant to
       let them decay over 20 s but does not, and every figure measured with
       this generator used it as it is), so impressions change both smoothly
       and abruptly and drift in level over a stimulus.
    2. **Emitter signals**: each channel is a nonlinear link of a random
       projection of ``z_s``: ``tanh``, a rectifier above a threshold, a signed
       square or a near-step (one kind per channel), with strength 0.6, plus
       three stimulus nuisance processes and white noise of sd ``noise``.
    3. **Perception**: ``p_rs(t) = z_s(t) + 0.4 d_rs(t)``, ``d_rs`` an
       idiosyncratic process like ``z_s``.
    4. **Receiver signals**: face and eye channels are nonlinear links (the same
       kinds, strength 1.0) of ``p_rs``, plus nuisance, plus a slow random-walk
       **drift** per channel (sd 0.5 per minute) and a **session offset** per
       recording and channel (sd 0.5), plus white noise. Physiology (BVP pulse,
       GSR, respiration, skin temperature at 128 Hz) follows the arousal
       ``0.7 c + 0.3 w`` of ``p_rs`` 2 s late, on drifting baselines (heart rate,
       skin conductance and temperature wander as random walks).
    5. **Missing samples** (``missing=True``): the receiver eye tracker loses
       the gaze about every 3 s for 0.1-0.4 s; the emitter face tracker loses the
       face about every 10 s for 0.2-1 s; and in each recording, with
       probability 0.3, the physiology sensors drop out for one contiguous
       segment of 10-30 % of its duration. Lost samples are NaN: use
       :class:`~sklearn_impression.preprocessing.Resampler` with
       ``nan_policy="interpolate"``.
    6. **Annotation**: the noise-free impression is saturating and lagged,
       ``u_rs(t) = o_r + a_r tanh(p_rs(t - l_r(t)) / k_r)`` per dimension, with
       offset ``o_r ~ N(0, 1)``, gain ``a_r ~ U(1, 3)``, saturation
       ``k_r ~ U(0.7, 2)`` and a reaction lag that **varies over time**,
       ``l_r(t) = L_r + 0.5 sin(2 pi t / T_r + phi_r)`` with mean
       ``L_r ~ U(1, 4)`` s and period ``T_r ~ U(30, 90)`` s. The slider follows
       ``u`` with a dead zone and inertia: it moves only while ``|u - y|``
       exceeds ``d_r = a_r U(0.05, 0.15)``, then towards ``u`` at rate
       ``1 / tau_r`` with ``tau_r ~ U(0.2, 0.8)`` s, and is clipped to
       ``o_r +- a_r`` (the slider's range); the targets are continuous, not
       stepwise.

    ``impression`` holds ``u_rs`` at the label frames; ``latent`` the stimulus
    latents ``z_s`` and ``lags`` the mean lags ``L_r``, so a test can recover
    each receiver's lag from them.

    Parameters
    ----------
    n_receivers : int, default=4
        Number of receivers; ids ``0 .. n_receivers - 1``.
    n_stimuli : int, default=3
        Number of stimuli; ids ``0 .. n_stimuli - 1``.
    stimulus_duration : float or sequence of float, default=None
        Seconds per stimulus (one for all or one each), rounded to label frames;
        ``None`` means 30 s.
    frame_rate : float, default=25.0
        Label rate in Hz.
    noise : float, default=0.5
        Standard deviation of the white sensor noise relative to unit drives.
    missing : bool, default=True
        Whether streams lose samples (NaN) as described in step 5.
    return_X_y : bool, default=False
        Return ``(recordings, targets)`` instead of a Bunch.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible data.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        The fields of :func:`~sklearn_impression.datasets.make_impression`
        (``recordings``, ``targets``, ``receivers``, ``stimuli``, ``impression``,
        ``offsets`` and ``scales``, here each receiver's slider offset ``o_r`` and
        gain ``a_r`` of shape ``(n_receivers, 2)``, ``lags``, here the mean lag
        ``L_r`` per receiver in seconds, ``target_names``, ``frame_rate``,
        ``DESCR``) plus ``latent`` (one ``(n_frames, 2)`` array per stimulus).
    (recordings, targets) : tuple if ``return_X_y`` is True.

    See Also
    --------
    make_impression : The first generator (linear links, stepwise slider).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_impression.datasets import make_dyadic_drift
    >>> data = make_dyadic_drift(n_receivers=2, n_stimuli=2, stimulus_duration=20,
    ...                          random_state=0)
    >>> len(data.recordings), data.targets[0].shape
    (4, (500, 2))
    >>> rec = data.recordings[0]
    >>> rec.streams["receiver.physio"].channels
    ('bvp', 'gsr', 'resp', 'skin_temp')
    >>> bool(np.isnan(rec.streams["receiver.eye"].values).any())
    True
    """
    seconds = 30.0 if stimulus_duration is None else stimulus_duration
    frames = _resolve_frames(seconds, None, n_stimuli, frame_rate)
    rng = _seeded_rng(random_state)
    noise, frame_rate = float(noise), float(frame_rate)
    names = {m: (list(_PHYSIO) if m == "receiver.physio"
                 else [f"{m.split('.')[1]}_{k}" for k in range(n)])
             for m, n in DRIFT_CHANNELS.items()}
    links = {m: _links(rng, n) for m, n in DRIFT_CHANNELS.items()}
    nuisance_maps = {m: rng.normal(0, 1 / np.sqrt(3), (3, n))
                     for m, n in DRIFT_CHANNELS.items()}
    mixing = np.array([[1.0, 0.3], [0.0, np.sqrt(1 - 0.09)]])

    def timeline(n_frames, modality):
        return _sample_times(n_frames, frame_rate, DRIFT_RATES[modality], 2)

    def sensor(m, drive, nuisance, n):
        values = drive + nuisance @ nuisance_maps[m]
        return values + noise * rng.standard_normal(values.shape)

    latents, emitter_streams = [], []
    for s in range(n_stimuli):
        duration = frames[s] / frame_rate
        z = _ou_with_jumps(rng, -10.0, duration + 10.0, 2, 5.0, 1 / 20)
        latents.append(lambda t, z=z: z(t) @ mixing)
        nuis = _ou_with_jumps(rng, -1.0, duration + 1.0, 3, 0.5, 0.0)
        streams = {}
        for m in (m for m in DRIFT_CHANNELS if m.startswith("emitter.")):
            t = timeline(frames[s], m)
            values = sensor(m, _apply_links(latents[s](t), links[m], 0.6), nuis(t),
                            t.size)
            if missing and m == "emitter.face":
                values[_gaps(rng, t.size, DRIFT_RATES[m], 10.0, 0.2, 1.0)] = np.nan
            streams[m] = Stream(values.astype(np.float32), DRIFT_RATES[m],
                                channels=names[m])
        emitter_streams.append(streams)

    offset = rng.normal(0, 1.0, (n_receivers, 2))
    gain = rng.uniform(1.0, 3.0, (n_receivers, 2))
    saturation = rng.uniform(0.7, 2.0, (n_receivers, 2))
    mean_lag = rng.uniform(1.0, 4.0, n_receivers)
    lag_period = rng.uniform(30.0, 90.0, n_receivers)
    lag_phase = rng.uniform(0, 2 * np.pi, n_receivers)
    dead_zone = gain * rng.uniform(0.05, 0.15, (n_receivers, 2))
    inertia = rng.uniform(0.2, 0.8, n_receivers)
    people = [{"hr": rng.uniform(55, 85), "bvp": rng.uniform(0.5, 1.5),
               "gsr": rng.uniform(2, 10), "phase": rng.uniform(),
               "breath": rng.uniform(0.2, 0.33), "temp": rng.uniform(32, 35)}
              for _ in range(n_receivers)]

    recordings, targets, impressions = [], [], []
    for r in range(n_receivers):
        for s in range(n_stimuli):
            duration = frames[s] / frame_rate
            idio = _ou_with_jumps(rng, -10.0, duration + 10.0, 2, 5.0, 0.0)

            def perceived(t, s=s, idio=idio):
                return latents[s](t) + 0.4 * idio(t)

            nuis = _ou_with_jumps(rng, -1.0, duration + 1.0, 3, 0.5, 0.0)
            streams = dict(emitter_streams[s])
            for m in ("receiver.eye", "receiver.face"):
                t = timeline(frames[s], m)
                n_ch = DRIFT_CHANNELS[m]
                drift = _random_walk(rng, 0.0, duration + 1.0, n_ch, 0.5)
                values = sensor(m, _apply_links(perceived(t), links[m], 1.0),
                                nuis(t), t.size)
                values += drift(t) + rng.normal(0, 0.5, n_ch)
                if missing and m == "receiver.eye":
                    values[_gaps(rng, t.size, DRIFT_RATES[m], 3.0, 0.1, 0.4)] = np.nan
                streams[m] = Stream(values.astype(np.float32), DRIFT_RATES[m],
                                    channels=names[m])
            m = "receiver.physio"
            t = timeline(frames[s], m)
            arousal = perceived(t - 2.0) @ np.array([0.7, 0.3])
            drift = _random_walk(rng, 0.0, duration + 1.0, 3, 0.5)
            values = _physio(rng, t, DRIFT_RATES[m], arousal, drift(t), people[r])
            if missing and rng.random() < 0.3:
                length = int(rng.uniform(0.1, 0.3) * t.size)
                start = rng.integers(1, t.size - length)
                values[start:start + length] = np.nan
            streams[m] = Stream(values, DRIFT_RATES[m], channels=names[m])
            recordings.append(Recording(streams, int(frames[s]), frame_rate,
                                        receiver=r, stimulus=s))

            t_labels = np.arange(frames[s]) / frame_rate
            lag = mean_lag[r] + 0.5 * np.sin(2 * np.pi * t_labels / lag_period[r]
                                             + lag_phase[r])
            u = offset[r] + gain[r] * np.tanh(perceived(t_labels - lag)
                                              / saturation[r])
            impressions.append(u)
            targets.append(_slider(u, offset[r], gain[r], dead_zone[r],
                                   inertia[r], frame_rate))

    return recordings_bunch(
        recordings,
        targets,
        np.repeat(np.arange(n_receivers), n_stimuli),
        np.tile(np.arange(n_stimuli), n_receivers),
        impression=impressions,
        latent=[latents[s](np.arange(frames[s]) / frame_rate)
                for s in range(n_stimuli)],
        offsets=offset,
        scales=gain,
        lags=mean_lag,
        frame_rate=frame_rate,
        descr=make_dyadic_drift.__doc__.split("Parameters\n")[0],
        return_X_y=return_X_y,
    )


def _slider(u, offset, gain, dead_zone, inertia, frame_rate):
    """The hand on the slider: dead zone, first-order inertia, bounded range."""
    y = np.empty_like(u)
    level = u[0].copy()
    alpha = 1 - np.exp(-1.0 / (inertia * frame_rate))
    for k in range(u.shape[0]):
        gap = u[k] - level
        level = np.where(np.abs(gap) > dead_zone, level + alpha * gap, level)
        y[k] = level
    return np.clip(y, offset - gain, offset + gain)
