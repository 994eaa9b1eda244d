"""
=====================================================
Quickstart: from raw recordings to impression traces
=====================================================

The whole job is one scikit-learn :class:`~sklearn.pipeline.Pipeline`:

1. :class:`~sklearn_impression.Resampler` brings every stream (audio at 100 Hz,
   physiology at 256 Hz, ...) to the 25 Hz label rate;
2. :class:`~sklearn_impression.ModalityConcatenator` joins the modalities of each
   domain into an emitter block and a receiver block;
3. :class:`~sklearn_impression.CrossDomainRegressor` (a skorch network) predicts a
   competence and a warmth trace for every recording.

We fit it on synthetic IMPRESSION-shaped data, predict the traces of receivers it
has never seen, and score them with the concordance correlation coefficient.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import Pipeline

from sklearn_impression import (
    CrossDomainRegressor,
    ModalityConcatenator,
    Resampler,
    ccc_score,
    make_impression,
)

FAST = os.environ.get("SKLEARN_IMPRESSION_EXAMPLE_FAST") == "1"

# %%
# Data
# ----
# Every receiver watches every stimulus; one recording is one receiver watching
# one stimulus. ``X`` is the list of recordings, ``y`` one ``(n_frames, 2)``
# target array per recording (competence, warmth).
data = make_impression(
    n_receivers=4 if FAST else 8,
    n_stimuli=2 if FAST else 4,
    stimulus_duration=10 if FAST else 60,
    random_state=0,
)
print(f"{len(data.recordings)} recordings, "
      f"{sum(len(t) for t in data.targets)} frames at {data.frame_rate:g} Hz")
print(data.recordings[0])

# %%
# Hold out receivers, not frames
# ------------------------------
# The last receiver is the test person: none of their frames is seen in
# training (see the user guide on evaluation protocols for why a frame-level
# split would leak).
test_receiver = data.receivers.max()
train = np.flatnonzero(data.receivers != test_receiver)
test = np.flatnonzero(data.receivers == test_receiver)
X_train = [data.recordings[i] for i in train]
y_train = [data.targets[i] for i in train]
X_test = [data.recordings[i] for i in test]
y_test = [data.targets[i] for i in test]

# %%
# The pipeline
# ------------
# The network's defaults are the paper's sizes (hidden size 64, 16 heads, 40
# epochs) trained for new people (CCC loss, per-receiver normalisation, label
# delay, smoothing: see the user guide's "New people");
# this example trains a smaller one so it runs in seconds on a CPU.
pipe = Pipeline([
    ("resample", Resampler()),
    ("concat", ModalityConcatenator()),
    ("model", CrossDomainRegressor(
        hidden_size=16 if FAST else 32,
        num_heads=4,
        max_epochs=5 if FAST else 15,
        random_state=0,
    )),
])
pipe.fit(X_train, y_train)

# %%
# Predict and score
# -----------------
# ``predict`` returns one ``(n_frames, 2)`` trace per recording.
# :func:`~sklearn_impression.ccc_score` pools all test frames (as the paper
# does) or averages the CCC of each recording (``average="recording"``).
y_pred = pipe.predict(X_test)
print("trace shapes:", [p.shape for p in y_pred])
pooled = ccc_score(y_test, y_pred, multioutput="raw_values")
per_recording = ccc_score(y_test, y_pred, multioutput="raw_values",
                          average="recording")
oracle = ccc_score(y_test, [data.impression[i] for i in test],
                   multioutput="raw_values")
for k, name in enumerate(data.target_names):
    print(f"{name:10s} CCC pooled {pooled[k]:.3f}, per recording "
          f"{per_recording[k]:.3f} (noise-free impression: {oracle[k]:.3f})")

# %%
# Plot a predicted trace against the annotation
# ---------------------------------------------
# The annotation is stepwise: a receiver moves the slider only when their
# impression changes. The synthetic data also knows the noise-free impression
# behind it (dotted).
i = 0
t = np.arange(len(y_test[i])) / data.frame_rate
fig, axes = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
for k, (ax, name) in enumerate(zip(axes, data.target_names, strict=True)):
    ax.plot(t, y_test[i][:, k], color="k", lw=1.5, label="annotated")
    ax.plot(t, data.impression[test[i]][:, k], ":", color="0.5",
            label="noise-free impression")
    ax.plot(t, y_pred[i][:, k], color="C1", lw=1, label="predicted")
    ax.set_ylabel(name)
axes[0].set_title(f"receiver {data.receivers[test[i]]}, "
                  f"stimulus {data.stimuli[test[i]]} (not seen in training)")
axes[0].legend(fontsize=8, loc="upper right")
axes[-1].set_xlabel("time (s)")
fig.tight_layout()
