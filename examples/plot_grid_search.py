"""
==============================================
Grid search with receivers as groups
==============================================

Tune the number of attention heads and the dropout of the head with
:class:`~sklearn.model_selection.GridSearchCV`. Two things make the search
honest:

* the cross-validation is :class:`~sklearn.model_selection.GroupKFold` with the
  receiver id as group, so every validation fold holds people the candidate never
  saw in training;
* the score is :data:`~sklearn_impression.ccc_scorer`, the concordance
  correlation coefficient pooled over the validation frames (greater is better).

Because ``X`` is a list of recordings, scikit-learn splits whole recordings and
passes them through the pipeline unchanged.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline

from sklearn_impression import (
    CrossDomainRegressor,
    ModalityConcatenator,
    Resampler,
    ccc_scorer,
    make_impression,
)

FAST = os.environ.get("SKLEARN_IMPRESSION_EXAMPLE_FAST") == "1"

# %%
# Data and pipeline
# -----------------
data = make_impression(
    n_receivers=3 if FAST else 6,
    n_stimuli=2 if FAST else 3,
    stimulus_duration=6 if FAST else 40,
    random_state=0,
)
pipe = Pipeline([
    ("resample", Resampler()),
    ("concat", ModalityConcatenator()),
    ("model", CrossDomainRegressor(
        hidden_size=8 if FAST else 32,
        max_epochs=3 if FAST else 10,
        random_state=0,
    )),
])

# %%
# The search
# ----------
# ``num_heads`` must divide the attention width ``2 * hidden_size``.
param_grid = {
    "model__num_heads": [2, 4] if FAST else [4, 8],
    "model__dropout": [0.1, 0.3],
}
search = GridSearchCV(
    pipe,
    param_grid,
    scoring=ccc_scorer,
    cv=GroupKFold(n_splits=3),
)
search.fit(data.recordings, data.targets, groups=data.receivers)
print("best parameters:", search.best_params_)
print(f"best mean CCC over the folds: {search.best_score_:.3f}")

# %%
# Every candidate
# ---------------
# Mean and standard deviation of the CCC over the three leave-receivers-out
# folds. With few receivers the folds differ a lot: look at the spread before
# trusting a difference between candidates.
results = search.cv_results_
labels = [f"heads={p['model__num_heads']}\ndropout={p['model__dropout']}"
          for p in results["params"]]
order = np.argsort(results["rank_test_score"])
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.bar(np.arange(len(labels)), results["mean_test_score"][order],
       yerr=results["std_test_score"][order], color="C0", capsize=4)
ax.set_xticks(np.arange(len(labels)), [labels[i] for i in order], fontsize=8)
ax.set_ylabel("CCC (mean over folds)")
ax.axhline(0, color="k", lw=0.8)
ax.set_title("GridSearchCV, GroupKFold by receiver")
fig.tight_layout()

# %%
# The refitted model
# ------------------
# ``refit=True`` (the default) retrains the best candidate on all recordings;
# ``search.predict`` returns one trace per recording.
traces = search.predict(data.recordings[:2])
print([trace.shape for trace in traces])
