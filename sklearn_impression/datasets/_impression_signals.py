"""The signals of :func:`~sklearn_impression.datasets.make_impression`: slow
latent processes, sensors driven by the impression, physiology, gaze, and the
stepwise slider.
"""

from __future__ import annotations

import numpy as np


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


def _stepwise_slider(u, step):
    """Targets ``(n_receivers, n_frames, 2)`` of one stimulus from its noise-free
    impressions ``u``: each receiver's slider starts at ``u`` rounded to its step
    ``step[r]`` and moves by whole steps, only when ``u`` is 0.75 steps away."""
    y = np.empty_like(u)
    level = step * np.rint(u[:, 0] / step)
    for k in range(u.shape[1]):
        gap = u[:, k] - level
        move = np.abs(gap) >= 0.75 * step
        level = np.where(move, level + step * np.rint(gap / step), level)
        y[:, k] = level
    return y
