"""
==============================
Saving and loading a pipeline
==============================

A fitted pipeline ending in a :class:`~sklearn_impression.CrossDomainRegressor`
is an ordinary scikit-learn object: :func:`joblib.dump` writes it to a file and
:func:`joblib.load` gives back a pipeline that predicts exactly the same traces.

Like any pickle, a joblib file can run code when it is loaded: only load files
you trust, with the same versions of scikit-learn, skorch and torch. To share a
model with others, :func:`~sklearn_impression.save_model` writes a pickle-free
``.safetensors`` file (weights as tensors, parameters and fitted state as JSON) that
:func:`~sklearn_impression.load_model` reads without executing anything from it.
"""

import os
import shutil
import tempfile
from pathlib import Path

import joblib
import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import Pipeline

from sklearn_impression import (
    CrossDomainRegressor,
    ModalityConcatenator,
    Resampler,
    load_model,
    make_impression,
    save_model,
)

FAST = os.environ.get("SKLEARN_IMPRESSION_EXAMPLE_FAST") == "1"

# %%
# Fit a small pipeline
# --------------------
data = make_impression(
    n_receivers=3, n_stimuli=2, stimulus_duration=6 if FAST else 30, random_state=0
)
X_train, y_train = data.recordings[:-2], data.targets[:-2]
X_new = data.recordings[-2:]
pipe = Pipeline([
    ("resample", Resampler()),
    ("concat", ModalityConcatenator()),
    ("model", CrossDomainRegressor(hidden_size=8, num_heads=2,
                                   max_epochs=1 if FAST else 10,
                                   random_state=0)),
])
pipe.fit(X_train, y_train)
before = pipe.predict(X_new)

# %%
# Dump and load with joblib
# -------------------------
folder = Path(tempfile.mkdtemp())
path = folder / "impression_model.joblib"
joblib.dump(pipe, path)
print(f"{path.name}: {path.stat().st_size / 1024:.0f} KiB")

loaded = joblib.load(path)
after = loaded.predict(X_new)
same = all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))
print("identical predictions:", same)
assert same

# %%
# The loaded model is the fitted model
# ------------------------------------
# Its parameters, fitted attributes and training history came along; the
# predicted trace of a new recording is the same to the last bit.
model = loaded.named_steps["model"]
print(model.get_params()["hidden_size"], len(model.net_.history), "epoch(s)")

t = np.arange(len(before[0])) / data.frame_rate
fig, axes = plt.subplots(2, 1, figsize=(8, 4.5), sharex=True)
for k, (ax, name) in enumerate(zip(axes, data.target_names, strict=True)):
    ax.plot(t, before[0][:, k], lw=3, color="C0", alpha=0.5, label="before saving")
    ax.plot(t, after[0][:, k], "--", lw=1, color="k", label="after joblib.load")
    ax.set_ylabel(name)
axes[0].legend(fontsize=8, loc="upper right")
axes[0].set_title(f"receiver {data.receivers[-2]}, stimulus {data.stimuli[-2]}")
axes[-1].set_xlabel("time (s)")
fig.tight_layout()

# %%
# A pickle-free file for sharing
# ------------------------------
# :func:`~sklearn_impression.save_model` stores the same pipeline without pickle:
# loading checks a SHA-256 of the contents and rebuilds only classes from an
# allowlist, so a file from a stranger cannot run code.
shared = folder / "impression_model.safetensors"
save_model(pipe, shared)
from_file = load_model(shared)
same = all(np.array_equal(a, b)
           for a, b in zip(before, from_file.predict(X_new), strict=True))
print(f"{shared.name}: {shared.stat().st_size / 1024:.0f} KiB, "
      f"identical predictions: {same}")
assert same

# %%
# Remove the temporary folder.
shutil.rmtree(folder)
