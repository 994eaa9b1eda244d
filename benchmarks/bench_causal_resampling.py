"""Causal resampling to the 25 Hz labels: which anti-aliasing filter (issue 25).

Candidates, all causal (frame ``k`` at ``t_k = k / 25`` reads no sample after
``t_k``; ``j_k`` is the last sample at or before ``t_k``):

* ``hold``: no filter, frame ``k`` takes sample ``j_k``;
* ``mean``: the trailing frame mean, the mean of the samples in
  ``(t_{k-1}, t_k]`` (the held value where that interval has none);
* ``butter2``, ``butter4``: Butterworth low-pass of order 2 and 4, then hold;
* ``cheby8``: the order-8 Chebyshev I (0.05 dB ripple) of
  :func:`scipy.signal.decimate`, run causally, then hold.

The IIR filters have their cutoff at 0.8 times the label Nyquist frequency
(10 Hz) and run through
:class:`sklearn_impression.preprocessing._causal_stream.CausalStreamResampler`
(the code of ``Resampler(method="causal")``); the offline ``"paper"`` and
``"polyphase"`` methods of :class:`~sklearn_impression.preprocessing.Resampler`
are the references.

Measured, per method:

* ``tones``: 1.13, 3.71 and 7.3 Hz (amplitudes 1, 1/2, 1/3, as
  ``tests/test_resampler.py``) from 100, 250, 256 Hz (40 s) and 29.97 Hz
  (100 s): relative RMS error against the true signal at the frame times,
  frames 50 from either end (``inner``) and all frames; ``aligned``: against
  the true signal at ``t_k - delay`` (the method's delay below), which leaves
  the error of the shape; ``vs_paper``: the relative RMS difference from the
  offline ``"paper"`` output (inner frames). ``single_tones``: each tone alone
  from 100 Hz (inner).
* ``alias_db``: output RMS over input RMS, in dB, of a 20 Hz and a 15 Hz tone
  (which alias to 5 and 10 Hz) from 100 Hz and of a 20 Hz tone from 256 Hz;
  frames 25 from either end, and all frames (``_all``).
* ``delay_ms``: the delay of a 0.5 Hz tone, from the phase of a least-squares
  sine fit at the frame times (filter group delay plus the hold's lag), per
  rate; for the IIR filters also ``group_delay_ms``, the filter's group delay at
  0.5 Hz alone (:func:`scipy.signal.group_delay`).
* ``slow_noise``: what ``make_impression`` streams look like, a unit-variance
  sum of eight slow sinusoids (periods 0.7 to 20 s, random phases) plus white
  noise of standard deviation ``noise`` (0.25, 0.5 -- ``make_impression``'s
  default -- and 1.0) at 100, 250, 256, 29.97 and 50 Hz, 120 s: relative RMS
  error of the frames (after the first 2 s) against the slow signal, mean over
  three seeds.

The choice (``choice``): the causal method with the smallest mean
``slow_noise`` error at noise 0.5 over the rates.

``timing``: microseconds per :meth:`push` of one frame of 100 Hz samples
(4 samples, 3 channels), median of 2000, and offline :func:`causal_frames`
throughput on one hour of 3-channel 256 Hz samples (one thread).

Run ``python benchmarks/keep.py causal_resampling -- python
benchmarks/bench_causal_resampling.py``; prints JSON. About 20 s of CPU.
"""

import json
import time

import numpy as np
from scipy import signal

from sklearn_impression import Recording, Stream
from sklearn_impression.preprocessing import Resampler
from sklearn_impression.preprocessing._causal_stream import (
    DEFAULT_DESIGN,
    DESIGNS,
    CausalStreamResampler,
    causal_frames,
    causal_frames64,
    frame_samples,
    rate_ratio,
)

FR = 25.0
CAUSAL = ["hold", "mean", *DESIGNS]
OFFLINE = ["paper", "polyphase"]
TONES = (1.13, 3.71, 7.3)
PHASES = (0.0, 0.3, 1.0)
TONE_RATES = [(100.0, 40), (250.0, 40), (256.0, 40), (29.97, 100)]
NOISE_RATES = [100.0, 250.0, 256.0, 29.97, 50.0]
NOISES = [0.25, 0.5, 1.0]


def tones(t, freqs=TONES, phases=PHASES):
    return sum(np.sin(2 * np.pi * f * t + p) / (k + 1)
               for k, (f, p) in enumerate(zip(freqs, phases, strict=True)))


def resample(method, x, rate, n_frames):
    """``x`` (1-D) at ``rate`` -> ``n_frames`` frames at 25 Hz, float64."""
    x = np.asarray(x, dtype=np.float64)
    if method in DESIGNS:
        return causal_frames64(x[:, None], rate, FR, n_frames, design=method)[:, 0]
    ratio = rate_ratio(rate, FR)
    j = np.minimum(frame_samples(0, n_frames, ratio), x.shape[0] - 1)
    if method == "hold":
        return x[j]
    if method == "mean":  # samples j_{k-1} < j <= j_k; none: hold j_k
        c = np.concatenate([[0.0], np.cumsum(x)])
        lo = np.minimum(np.concatenate([[-1], j[:-1]]) + 1, j)
        return (c[j + 1] - c[lo]) / (j + 1 - lo)
    other = Stream(np.zeros((n_frames, 1)), rate=FR)
    rec = Recording({"emitter.x": Stream(x[:, None], rate=rate), "receiver.y": other},
                    n_frames=n_frames, frame_rate=FR)
    out = Resampler(method=method).fit_transform([rec])[0].streams["emitter.x"]
    return out.values[:, 0].astype(np.float64)


def rel(err, ref):
    return float(np.sqrt(np.mean(err**2) / np.mean(ref**2)))


def sampled(fn, rate, seconds):
    n = int(round(rate * seconds))
    return fn(np.arange(n) / rate), int(round(FR * seconds))


def delay_ms(method, rate, f=0.5, seconds=40):
    """Lag of a 0.5 Hz tone at the frame times, from a least-squares sine fit."""
    x, n_frames = sampled(lambda t: np.sin(2 * np.pi * f * t), rate, seconds)
    y = resample(method, x, rate, n_frames)[50:-50]
    t = np.arange(n_frames)[50:-50] / FR
    (a, b), *_ = np.linalg.lstsq(
        np.c_[np.sin(2 * np.pi * f * t), np.cos(2 * np.pi * f * t)], y, rcond=None)
    return float(-np.arctan2(b, a) / (2 * np.pi * f) * 1000)


def group_delay_ms(design, rate, f=0.5):
    from sklearn_impression.preprocessing._causal_stream import design_sos

    sos = design_sos(rate_ratio(rate, FR), design)
    if sos is None:
        return 0.0
    _, gd = signal.group_delay(signal.sos2tf(sos), w=[f], fs=rate)
    return float(gd[0] / rate * 1000)


def tone_errors(method, delays):
    out = {}
    for rate, seconds in TONE_RATES:
        x, n_frames = sampled(tones, rate, seconds)
        y = resample(method, x, rate, n_frames)
        t = np.arange(n_frames) / FR
        truth, inner = tones(t), slice(50, -50)
        shifted = tones(t - delays[str(rate)] / 1000)
        paper = resample("paper", x, rate, n_frames)
        out[str(rate)] = {
            "inner": rel((y - truth)[inner], truth[inner]),
            "all": rel(y - truth, truth),
            "aligned": rel((y - shifted)[inner], shifted[inner]),
            "vs_paper": rel((y - paper)[inner], paper[inner]),
        }
    return out


def single_tone_errors(method):
    out = {}
    for f in TONES:
        fn = lambda t, f=f: np.sin(2 * np.pi * f * t)  # noqa: E731
        x, n_frames = sampled(fn, 100.0, 40)
        truth = fn(np.arange(n_frames) / FR)
        y = resample(method, x, 100.0, n_frames)
        out[str(f)] = rel((y - truth)[50:-50], truth[50:-50])
    return out


def alias_db(method):
    out = {}
    for f, rate in [(20.0, 100.0), (15.0, 100.0), (20.0, 256.0)]:
        x, n_frames = sampled(lambda t, f=f: np.sin(2 * np.pi * f * t), rate, 40)
        y = resample(method, x, rate, n_frames)
        db = lambda v: float(20 * np.log10(  # noqa: E731
            max(np.sqrt(np.mean(v**2)), 1e-300) / np.sqrt(0.5)))
        out[f"{f:g}Hz_from_{rate:g}Hz"] = round(db(y[25:-25]), 2)
        out[f"{f:g}Hz_from_{rate:g}Hz_all"] = round(db(y), 2)
    return out


def slow_signal(seed):
    rng = np.random.default_rng(1000 + seed)
    periods = np.geomspace(0.7, 20, 8)
    phases = rng.uniform(0, 2 * np.pi, 8)
    return lambda t: sum(np.sin(2 * np.pi * t / p + q)
                         for p, q in zip(periods, phases, strict=True)) / 2.0


def slow_noise_errors(method, seconds=120, seeds=(0, 1, 2)):
    out = {}
    for noise in NOISES:
        per_rate = {}
        for rate in NOISE_RATES:
            errors = []
            for seed in seeds:
                fn = slow_signal(seed)
                s, n_frames = sampled(fn, rate, seconds)
                x = s + noise * np.random.default_rng(seed).standard_normal(s.shape)
                truth = fn(np.arange(n_frames) / FR)
                y = resample(method, x, rate, n_frames)
                errors.append(rel((y - truth)[50:], truth[50:]))
            per_rate[f"{rate:g}"] = round(float(np.mean(errors)), 4)
        per_rate["mean"] = round(float(np.mean(list(per_rate.values()))), 4)
        out[f"noise_{noise:g}"] = per_rate
    return out


def timing():
    rng = np.random.default_rng(0)
    r = CausalStreamResampler(100.0, FR, 3)
    chunks = rng.standard_normal((2000, 4, 3))
    times = []
    for chunk in chunks:
        start = time.perf_counter()
        r.push(chunk)
        times.append(time.perf_counter() - start)
    x = rng.standard_normal((256 * 3600, 3))
    start = time.perf_counter()
    causal_frames(x, 256.0, FR, 25 * 3600)
    seconds = time.perf_counter() - start
    return {"push_one_frame_us_median": round(float(np.median(times)) * 1e6, 1),
            "push_one_frame_us_p99": round(float(np.percentile(times, 99)) * 1e6, 1),
            "offline_hour_256hz_3ch_s": round(seconds, 3),
            "offline_x_realtime": round(3600 / seconds, 1)}


def rounded(tree, digits=4):
    if isinstance(tree, dict):
        return {k: rounded(v, digits) for k, v in tree.items()}
    return round(tree, digits) if isinstance(tree, float) else tree


def main():
    methods = {}
    for method in CAUSAL + OFFLINE:
        delays = {str(rate): delay_ms(method, rate) for rate, _ in TONE_RATES}
        delays.update({f"{rate}": delay_ms(method, rate) for rate in (50.0,)})
        row = {"causal": method in CAUSAL, "delay_ms": delays,
               "tones": tone_errors(method, delays),
               "single_tones_100Hz": single_tone_errors(method),
               "alias_db": alias_db(method),
               "slow_noise": slow_noise_errors(method)}
        if method in DESIGNS:
            row["group_delay_ms"] = {str(rate): group_delay_ms(method, rate)
                                     for rate, _ in TONE_RATES}
        methods[method] = rounded(row)
    scores = {m: methods[m]["slow_noise"]["noise_0.5"]["mean"] for m in CAUSAL}
    choice = min(scores, key=scores.get)
    print(json.dumps({
        "settings": {"frame_rate": FR, "cutoff": "0.8 x label Nyquist (10 Hz)",
                     "tone_rates": TONE_RATES, "tones_hz": TONES,
                     "noise_rates": NOISE_RATES, "noises": NOISES,
                     "slow_noise_seconds": 120, "seeds": [0, 1, 2]},
        "methods": methods,
        "choice": {"rule": "smallest mean slow_noise error at noise 0.5 over the "
                           "rates, among the causal methods",
                   "scores": scores, "chosen": choice,
                   "default_design": DEFAULT_DESIGN},
        "timing": timing(),
    }, indent=1))


if __name__ == "__main__":
    main()
