"""One CCC: the metric, the training loss and the validation history agree."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from skorch.history import History  # noqa: E402

from sklearn_impression.metrics import ccc_score  # noqa: E402
from sklearn_impression.nn import ccc_per_output, task_loss  # noqa: E402
from sklearn_impression.regressor._callbacks import ValidCCC  # noqa: E402

CASES = {
    "two-equal-constants": ([[2.0], [2.0], [2.0]], [[2.0], [2.0], [2.0]]),
    "tenths": ([[0.1]] * 7, [[0.1]] * 7),  # their mean is not exactly 0.1
    "two-constants": ([[2.0], [2.0], [2.0]], [[1.0], [1.0], [1.0]]),
    "constant-vs-ramp": ([[2.0], [2.0], [2.0]], [[1.0], [2.0], [3.0]]),
    "two-frames": ([[0.0], [1.0]], [[1.0], [0.5]]),
    "huge": ([[1e200], [-3e200], [2e200]], [[2e200], [-1e200], [1e200]]),
    "huge-equal": ([[1e300], [-1e300]], [[1e300], [-1e300]]),
    "random": (np.random.default_rng(0).normal(size=(50, 2)),
               np.random.default_rng(1).normal(size=(50, 2))),
}


def _history_ccc(y_true, y_pred):
    """What the ValidCCC callback records for one validation batch."""
    net = type("Net", (), {})()
    net.history = History()
    net.history.new_epoch()
    callback = ValidCCC()
    callback.on_epoch_begin(net)
    y_true = torch.as_tensor(y_true)[:, None, :]  # (batch, time=1, outputs)
    y_pred = torch.as_tensor(y_pred)[:, None, :]
    callback.on_batch_end(net, batch=({"receiver": y_true}, y_true),
                          training=False, y_pred=(y_pred, None))
    callback.on_epoch_end(net)
    k = y_true.shape[-1]
    return np.array([net.history[-1, f"valid_ccc_{i}"] for i in range(k)])


@pytest.mark.parametrize("name", list(CASES))
def test_metric_loss_and_history_agree(name):
    y_true, y_pred = (np.asarray(a, dtype=np.float64) for a in CASES[name])
    metric = np.asarray(ccc_score(y_true, y_pred, multioutput="raw_values"))
    tensor = ccc_per_output(torch.as_tensor(y_pred), torch.as_tensor(y_true))
    loss = task_loss(torch.as_tensor(y_pred)[:, None], torch.as_tensor(y_true)[:, None],
                     kind="ccc")
    np.testing.assert_allclose(tensor.numpy(), metric, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(float(loss), np.sum(1.0 - metric), atol=1e-12)
    np.testing.assert_allclose(_history_ccc(y_true, y_pred), metric, atol=1e-12)
    assert np.all(np.isfinite(metric)) and np.all(np.abs(metric) <= 1.0)


def test_documented_constant_values():
    ones, twos = np.ones((4, 1)), np.full((4, 1), 2.0)
    assert ccc_score(ones, ones) == 1.0
    assert float(ccc_per_output(torch.ones(4, 1), torch.ones(4, 1))[0]) == 1.0
    assert ccc_score(ones, twos) == 0.0
    assert float(ccc_per_output(torch.ones(4, 1), 2 * torch.ones(4, 1))[0]) == 0.0


def test_one_frame_and_float32_huge_values_in_the_loss():
    # One frame is a constant column: same value 1.0, different values 0.0 (the
    # metric refuses fewer than 2 frames; the loss sees such batches).
    one = torch.tensor([[3.0]])
    assert float(ccc_per_output(one, one)[0]) == 1.0
    assert float(ccc_per_output(one, one + 1)[0]) == 0.0
    # float32 squares of 1e30 overflow; the power-of-two scaling keeps them finite.
    y = torch.tensor([[1e30], [-2e30], [3e30]], dtype=torch.float32)
    expected = ccc_score(y.double().numpy(), (0.5 * y).double().numpy())
    got = ccc_per_output(0.5 * y, y)
    assert torch.isfinite(got).all()
    assert float(got[0]) == pytest.approx(expected, rel=1e-6)


def test_loss_gradient_flows_through_the_shared_definition():
    y_pred = torch.randn(20, 1, 2, requires_grad=True)
    y_true = torch.randn(20, 1, 2)
    task_loss(y_pred, y_true, kind="ccc").backward()
    assert torch.isfinite(y_pred.grad).all() and y_pred.grad.abs().sum() > 0
