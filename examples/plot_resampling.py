"""
===========================
Resampling a raw recording
===========================

The streams of one recording come at their devices' rates: emitter audio
descriptors at 100 Hz, a receiver's physiology at 256 Hz, a webcam at 29.97 fps.
The labels (competence and warmth) come at 25 Hz. The
:class:`~sklearn_impression.Resampler` brings every stream to the label rate and
frame count, so the modalities can be joined frame by frame.

This example takes one synthetic recording, resamples it with the three methods
and plots a raw stream next to its resampled versions.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

from sklearn_impression import Resampler, Stream, make_impression

FAST = os.environ.get("SKLEARN_IMPRESSION_EXAMPLE_FAST") == "1"

# %%
# One raw recording
# -----------------
# :func:`~sklearn_impression.make_impression` generates IMPRESSION-shaped data.
# Every recording holds six streams at their own rates; ``n_frames`` is the
# number of 25 Hz label frames.
data = make_impression(
    n_receivers=1, n_stimuli=1, stimulus_duration=8 if FAST else 30, random_state=0
)
recording = data.recordings[0]
print(recording)
for name, stream in recording.streams.items():
    print(f"{name:17s} {stream.rate:7.2f} Hz  {stream.values.shape}")

# %%
# Resample with each method
# -------------------------
# ``"paper"`` follows the paper's section 3.2 (decimation where the rate ratio is
# an integer, an FFT resample otherwise), ``"polyphase"`` uses
# :func:`scipy.signal.resample_poly` and ``"fft"`` a single
# :func:`scipy.signal.resample`. After any of them, every stream has
# ``rate == frame_rate`` and exactly ``n_frames`` samples.
methods = ("paper", "polyphase", "fft")
resampled = {m: Resampler(method=m).fit_transform([recording])[0] for m in methods}
for stream in resampled["paper"].streams.values():
    assert stream.rate == recording.frame_rate
    assert stream.n_samples == recording.n_frames
print(resampled["paper"].streams["receiver.physio"])

# %%
# A raw stream and its resampled versions
# ---------------------------------------
# The receiver's skin conductance and ECG (256 Hz) and the emitter's first MFCC
# (100 Hz), over the first seconds. The resampled traces follow the slow part
# of each signal; what is faster than the label rate's Nyquist frequency
# (12.5 Hz), such as the sharp QRS complexes of the ECG, is filtered out instead
# of folding back as aliasing. The FFT-based methods treat a stream as periodic,
# which is why they ring a little at its first and last samples.
seconds = 4.0
panels = [("receiver.physio", "gsr"), ("receiver.physio", "ecg"),
          ("emitter.audio", "mfcc_1")]
fig, axes = plt.subplots(len(panels), 1, figsize=(8, 7), sharex=True)
for ax, (name, channel) in zip(axes, panels, strict=True):
    raw = recording.streams[name]
    j = raw.channels.index(channel)
    t_raw = np.arange(raw.n_samples) / raw.rate
    keep = t_raw < seconds
    ax.plot(t_raw[keep], raw.values[keep, j], color="0.7", lw=1,
            label=f"raw, {raw.rate:g} Hz")
    for method, style in zip(methods, ("-o", "--", ":"), strict=True):
        out = resampled[method].streams[name]
        t_out = np.arange(out.n_samples) / out.rate
        keep_out = t_out < seconds
        ax.plot(t_out[keep_out], out.values[keep_out, j], style, ms=3, lw=1.2,
                label=f"{method}, {out.rate:g} Hz")
    ax.set_title(f"{name}: {channel}", fontsize=10)
axes[0].legend(fontsize=8, ncol=2, loc="upper right")
axes[-1].set_xlabel("time (s)")
fig.tight_layout()

# %%
# Missing samples
# ---------------
# Eye trackers lose the gaze during blinks. By default a NaN is an error that
# names the recording, the stream, the channel and the first bad sample; with
# ``nan_policy="interpolate"`` the gaps are filled linearly before resampling.
eye = recording.streams["receiver.eye"]
values = np.array(eye.values)
values[100:160, 1] = np.nan  # a 0.24 s gap at 250 Hz
blinking = recording.replace(
    streams={**recording.streams,
             "receiver.eye": Stream(values, rate=eye.rate, channels=eye.channels)}
)
try:
    Resampler().fit_transform([blinking])
except ValueError as exc:
    print(f"ValueError: {exc}")

filled = Resampler(nan_policy="interpolate").fit_transform([blinking])[0]
print("NaN left after interpolation:",
      int(np.isnan(filled.streams["receiver.eye"].values).sum()))

# %%
# Shared emitter streams stay shared
# ----------------------------------
# All recordings of one stimulus hold the same emitter
# :class:`~sklearn_impression.Stream` objects. The resampler processes such a
# stream once and shares the result, so the concatenator can store one emitter
# block per stimulus however many receivers watched it.
two = make_impression(n_receivers=2, n_stimuli=1, stimulus_duration=4,
                      random_state=0).recordings
out = Resampler().fit_transform(two)
print(out[0].streams["emitter.audio"] is out[1].streams["emitter.audio"])
