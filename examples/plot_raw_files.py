"""
=============================================
From raw files to predicted impression traces
=============================================

New dyadic data come as raw files, not as the IMPRESSION release's label-rate
features: a WAV of the emitter, OpenFace CSVs of both faces, an eye-tracker
export and a wearable's physiology, plus an annotation trace. The
:mod:`sklearn_impression.features` subpackage (the ``features`` extra) turns such
a folder into :class:`~sklearn_impression.Recording` objects:

* audio -> openSMILE low-level descriptors (the paper's IS09 set) at 100 Hz;
* OpenFace 2 CSVs -> action units (``AUxx_r``, ``AUxx_c``) and gaze, with failed
  tracking as NaN;
* an eye tracker's irregular timestamps -> a uniform 60 Hz stream;
* BVP, ECG and GSR at the wearable's 128 Hz (raw, the paper's input, or cleaned
  by NeuroKit2);
* every stream placed on the stimulus timeline by its offset and cut to the
  annotation's span.

From there the usual pipeline takes over. Here a folder is generated with
:func:`~sklearn_impression.features.make_raw_sessions`; point
:func:`~sklearn_impression.features.load_raw_sessions` (or ``sklearn-impression
train --data FOLDER``) at your own folder with the same ``manifest.csv``.
"""

import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import Pipeline

from sklearn_impression import (
    CrossDomainRegressor,
    ModalityConcatenator,
    Resampler,
    ccc_score,
)
from sklearn_impression.features import load_raw_sessions, make_raw_sessions

FAST = os.environ.get("SKLEARN_IMPRESSION_EXAMPLE_FAST") == "1"

# %%
# A folder of raw sessions
# ------------------------
# ``manifest.csv`` has one row per recording (a receiver watching a stimulus):
# the label file, one file per modality, and optional ``<modality>.offset``
# (seconds from the file's clock to the stimulus timeline) and
# ``<modality>.rate`` columns.
root = make_raw_sessions(tempfile.mkdtemp(), n_receivers=3, n_stimuli=2,
                         duration=8.0 if FAST else 30.0, random_state=0)
print((root / "manifest.csv").read_text().splitlines()[0])
print((root / "manifest.csv").read_text().splitlines()[1])

# %%
# Load: features, alignment, annotation span
# ------------------------------------------
# Each distinct file is processed once (in parallel with ``n_jobs``); the
# emitter streams of a stimulus are shared by all its recordings. Failed face
# tracking is kept as NaN unless ``nan_policy="interpolate"`` fills it.
data = load_raw_sessions(root, physio="processed", nan_policy="interpolate")
recording = data.recordings[0]
print(recording)
for name, stream in recording.streams.items():
    print(f"{name:16s} {stream.rate:6.1f} Hz  {stream.n_channels:2d} channels, "
          f"e.g. {stream.channels[:2]}")

# %%
# ``alignment`` records, per recording and modality, where each stream came
# from and how it was cut: the wearable started 2 s before the stimulus, so
# the first 256 samples at 128 Hz were dropped.
for name in ("receiver.physio", "receiver.face", "emitter.audio"):
    print(name, data.alignment[0][name])

# %%
# Train on two receivers, predict the third
# -----------------------------------------
test = data.receivers == "p03"
X_train = [r for r, t in zip(data.recordings, test, strict=True) if not t]
y_train = [y for y, t in zip(data.targets, test, strict=True) if not t]
X_test = [r for r, t in zip(data.recordings, test, strict=True) if t]
y_test = [y for y, t in zip(data.targets, test, strict=True) if t]
pipe = Pipeline([
    ("resample", Resampler()),
    ("concat", ModalityConcatenator()),
    ("model", CrossDomainRegressor(hidden_size=16, num_heads=4, batch_size=64,
                                   max_epochs=5 if FAST else 30, random_state=0)),
])
pipe.fit(X_train, y_train)
y_pred = pipe.predict(X_test)
print("CCC (competence, warmth) on the unseen receiver:",
      np.round(ccc_score(y_test, y_pred, multioutput="raw_values"), 3))

# %%
# Raw signals and the predicted traces
# ------------------------------------
# The emitter's RMS energy (openSMILE, 100 Hz), the receiver's heart rate
# (NeuroKit2, 128 Hz) and the traces at the 25 Hz label rate, all on the
# stimulus timeline.
rec, truth, pred = X_test[0], y_test[0], y_pred[0]
fig, axes = plt.subplots(4, 1, figsize=(8, 7), sharex=True)
audio = rec.streams["emitter.audio"]
axes[0].plot(np.arange(audio.n_samples) / audio.rate, audio.values[:, 0], lw=0.8)
axes[0].set_ylabel("RMS energy")
physio = rec.streams["receiver.physio"]
axes[1].plot(np.arange(physio.n_samples) / physio.rate,
             physio.values[:, physio.channels.index("bvp_heart_rate")], lw=0.8)
axes[1].set_ylabel("heart rate\n(bpm)")
t = np.arange(rec.n_frames) / rec.frame_rate
for k, name in enumerate(data.target_names):
    axes[2 + k].plot(t, truth[:, k], color="k", lw=1.2, label="annotated")
    axes[2 + k].plot(t, pred[:, k], color="C1", lw=1, label="predicted")
    axes[2 + k].set_ylabel(name)
axes[2].legend(fontsize=8, loc="upper right")
axes[0].set_title(f"receiver {rec.receiver}, stimulus {rec.stimulus} (not seen in "
                  "training)")
axes[-1].set_xlabel("time on the stimulus timeline (s)")
fig.tight_layout()
