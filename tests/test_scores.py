"""Public per-dimension and per-receiver CCC."""

import numpy as np
import pytest

from sklearn_impression.metrics import ccc_score
from sklearn_impression.model_selection import ccc_by_dimension, ccc_by_receiver


@pytest.fixture
def traces():
    rng = np.random.default_rng(0)
    y_true = [rng.normal(size=(n, 2)) for n in (30, 20, 25)]
    y_pred = [t + rng.normal(size=t.shape) for t in y_true]
    return y_true, y_pred, ["p0", "p1", "p0"]


def test_ccc_by_receiver_pools_each_receivers_recordings(traces):
    y_true, y_pred, receivers = traces
    scores = ccc_by_receiver(y_true, y_pred, receivers)
    assert list(scores) == ["p0", "p1"]
    expected = ccc_score([y_true[0], y_true[2]], [y_pred[0], y_pred[2]],
                         multioutput="raw_values")
    assert scores["p0"]["competence"] == pytest.approx(expected[0])
    assert scores["p0"]["warmth"] == pytest.approx(expected[1])
    assert scores["p0"]["n_frames"] == 55 and scores["p1"]["n_frames"] == 20
    with pytest.raises(ValueError, match="2 receiver ids, 3 target"):
        ccc_by_receiver(y_true, y_pred, receivers[:2])
    with pytest.raises(ValueError, match="1 target names for 2 outputs"):
        ccc_by_dimension(y_true, y_pred, ["warmth"])
