"""Mixed precision on CPU runs on every x86-64 CPU (issue 13)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn_impression import CrossDomainRegressor  # noqa: E402
from sklearn_impression.nn import CrossDomainModule  # noqa: E402


def test_cpu_autocast_runs_the_lstms_in_float32():
    net = CrossDomainModule(5, 3, hidden_size=4, num_heads=2, num_layers=1)
    seen = {}
    for name in ("emitter_lstm", "receiver_lstm"):
        getattr(net, name).register_forward_hook(
            lambda m, args, out, name=name: seen.update(
                {name: (args[0].dtype, out[0].dtype)}))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y, reps = net(torch.zeros(7, 3, 5), torch.zeros(7, 3, 3))
    assert seen == {"emitter_lstm": (torch.float32, torch.float32),
                    "receiver_lstm": (torch.float32, torch.float32)}
    # autocast still applies after the LSTMs: the head runs in bfloat16
    assert y.dtype == torch.bfloat16
    assert reps[0].dtype == torch.bfloat16


def test_cpu_amp_fit_matches_float32_closely():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6)).astype(np.float32)
    y = X[:, :2] @ [1.0, -1.0] + X[:, 4]
    params = dict(hidden_size=4, num_heads=2, num_layers=1, max_epochs=2,
                  batch_size=32, random_state=0)
    fp32 = CrossDomainRegressor(**params).fit(X, y).predict(X)
    amp = CrossDomainRegressor(amp=True, **params).fit(X, y).predict(X)
    assert amp.dtype == np.float64 and np.isfinite(amp).all()
    # bfloat16 keeps ~3 significant digits; the two fits stay close
    assert np.corrcoef(fp32, amp)[0, 1] > 0.95
