"""Tests of the torch building blocks: network, losses, data path."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn_impression.nn import (  # noqa: E402
    REPRESENTATIONS,
    BatchIterator,
    CrossDomainModule,
    FrameDataset,
    average_windows,
    ccc_per_output,
    kd_loss,
    se_loss,
    task_loss,
    window_table,
)

F = torch.nn.functional


@pytest.fixture(autouse=True)
def _one_thread():
    # Tiny ops on a shared 2-core machine run far faster on one thread.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(before)


def _module(**kwargs):
    params = dict(hidden_size=4, num_layers=2, num_heads=2, fc_size=4)
    params.update(kwargs)
    return CrossDomainModule(5, 3, 2, **params)


@pytest.mark.parametrize("time_steps", [1, 6])
@pytest.mark.parametrize("shared", [True, False])
def test_module_shapes(time_steps, shared):
    net = _module(shared_attention=shared)
    y, reps = net(torch.randn(7, time_steps, 5), torch.randn(7, time_steps, 3))
    assert y.shape == (7, time_steps, 2)
    assert [tuple(r.shape) for r in reps] == [(7, time_steps, 8)] * 4


@pytest.mark.parametrize("intra, inter, width", [(True, True, 32), (True, False, 16),
                                                  (False, True, 16)])
def test_module_ablation_changes_concatenation_only(intra, inter, width):
    net = _module(intra=intra, inter=inter)
    assert net.head[0].in_features == width
    _, reps = net(torch.randn(3, 1, 5), torch.randn(3, 1, 3))
    assert len(reps) == 4


def test_module_rejects_bad_heads_and_no_fusion():
    with pytest.raises(ValueError, match="must divide the attention width"):
        CrossDomainModule(5, 3, hidden_size=4, num_heads=3)
    with pytest.raises(ValueError, match="at least one of intra and inter"):
        CrossDomainModule(5, 3, hidden_size=4, num_heads=2, intra=False, inter=False)


def test_single_step_shortcut_is_exact_attention():
    fast = _module(dropout=0.0, lstm_dropout=0.0)
    slow = _module(dropout=0.0, lstm_dropout=0.0, single_step_shortcut=False)
    slow.load_state_dict(fast.state_dict())
    e, r = torch.randn(9, 1, 5), torch.randn(9, 1, 3)
    y_fast, reps_fast = fast(e, r)
    y_slow, reps_slow = slow(e, r)
    torch.testing.assert_close(y_fast, y_slow)
    for a, b in zip(reps_fast, reps_slow, strict=True):
        torch.testing.assert_close(a, b)
    y_fast.sum().backward()
    y_slow.sum().backward()
    for (name, p), q in zip(fast.named_parameters(), slow.parameters(), strict=True):
        g_fast = torch.zeros_like(p) if p.grad is None else p.grad
        torch.testing.assert_close(g_fast, q.grad, atol=1e-6, rtol=1e-5, msg=name)


def test_task_loss_mse_sums_columns_and_respects_mask():
    y_true = torch.zeros(2, 3, 2)
    y_pred = torch.ones(2, 3, 2)
    y_pred[1, 2] = 100.0
    mask = torch.ones(2, 3, dtype=torch.bool)
    mask[1, 2] = False
    assert float(task_loss(y_pred, y_true, mask)) == pytest.approx(2.0)


def test_task_loss_ccc_is_one_minus_ccc():
    y = torch.randn(50, 1, 2)
    assert float(task_loss(y, y, kind="ccc")) == pytest.approx(0.0, abs=1e-6)
    assert float(task_loss(-y, y, kind="ccc")) > 3.0
    with pytest.raises(ValueError, match="task loss"):
        task_loss(y, y, kind="mae")


def test_ccc_per_output_matches_formula_and_same_constant_is_one():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(100, 1)), rng.normal(size=(100, 1)) + 0.5 * rng.normal()
    expected = 2 * np.cov(a[:, 0], b[:, 0], bias=True)[0, 1] / (
        a.var() + b.var() + (a.mean() - b.mean()) ** 2)
    got = ccc_per_output(torch.tensor(a), torch.tensor(b))
    assert float(got[0]) == pytest.approx(expected)
    zero = torch.zeros(10, 1)
    # One rule with ccc_score (sklearn_impression.metrics._concordance): the same
    # constant is perfect agreement, 1.0; a constant facing another constant 0.0.
    assert float(ccc_per_output(zero, zero)[0]) == 1.0
    assert float(ccc_per_output(zero, zero + 1.0)[0]) == 0.0


def test_kd_loss_is_twice_mse():
    a, b = torch.randn(4, 2, 3), torch.randn(4, 2, 3)
    assert float(kd_loss(a, b)) == pytest.approx(2 * float(F.mse_loss(a, b)))


def test_se_loss_batch_axis_reproduces_released_code():
    h_e, h_r, h_er, h_re = (torch.randn(16, 1, 8) for _ in range(4))

    def released(inter, intra):
        return F.kl_div(F.log_softmax(inter[:, 0], dim=0),
                        F.softmax(intra[:, 0], dim=0), reduction="batchmean")

    expected = released(h_er, h_e) + released(h_re, h_r)
    got = se_loss(h_e, h_r, h_er, h_re, axis="batch")
    assert float(got) == pytest.approx(float(expected), rel=1e-5)


def test_se_loss_feature_axis_is_kl_inter_to_intra_per_vector():
    h_e, h_r, h_er, h_re = (torch.randn(16, 2, 8) for _ in range(4))

    def kl(p, q):
        p, q = F.softmax(p.reshape(-1, 8), 1), F.softmax(q.reshape(-1, 8), 1)
        return (p * (p.log() - q.log())).sum(1).mean()

    expected = kl(h_er, h_e) + kl(h_re, h_r)
    got = se_loss(h_e, h_r, h_er, h_re, axis="feature")
    assert float(got) == pytest.approx(float(expected), rel=1e-5)
    assert float(se_loss(h_e, h_r, h_e, h_r)) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="softmax axis"):
        se_loss(h_e, h_r, h_er, h_re, axis="time")


def test_window_table_covers_every_frame():
    lengths = [10, 3, 7]
    index, mask = window_table(lengths, window=4, hop=3)
    covered = np.unique(index if mask is None else index[mask])
    np.testing.assert_array_equal(covered, np.arange(sum(lengths)))
    # windows never cross recordings
    rec = np.repeat(np.arange(3), lengths)
    assert all(len(set(rec[row])) == 1 for row in index)
    assert mask is not None and (~mask).sum() == 1  # the 3-frame recording


def test_average_windows_averages_overlaps():
    index, mask = window_table([5], window=3, hop=1)
    y = np.stack([np.full((3, 1), float(i)) for i in range(len(index))])
    out = average_windows(y, index, mask, 5)
    np.testing.assert_allclose(out[:, 0], [0.0, 0.5, 1.0, 1.5, 2.0])


def test_frame_dataset_gathers_shared_emitter_rows():
    emitter = torch.arange(12.0).reshape(4, 3)
    receiver = torch.randn(6, 2)
    rows = torch.tensor([0, 1, 2, 0, 1, 3])
    y = torch.randn(6, 2)
    ds = FrameDataset(emitter, receiver, rows, y)
    x, yb = ds.batch(torch.tensor([5, 0]))
    torch.testing.assert_close(x["emitter"][:, 0], emitter[[3, 0]])
    torch.testing.assert_close(x["receiver"][:, 0], receiver[[5, 0]])
    torch.testing.assert_close(yb[:, 0], y[[5, 0]])
    assert len(ds) == 6 and ds[1][0]["emitter"].shape == (1, 3)
    index, mask = window_table([4, 2], window=3, hop=3)
    wds = FrameDataset(emitter, receiver, rows, y, torch.as_tensor(index),
                       torch.as_tensor(mask))
    xw, yw = wds.batch(slice(0, len(wds)))
    assert xw["emitter"].shape == (len(index), 3, 3) and "mask" in xw
    assert yw.shape == (len(index), 3, 2)


def test_batch_iterator_epochs_are_permutations_and_seeded():
    ds = FrameDataset(torch.zeros(1, 1), torch.arange(10.0)[:, None],
                      torch.zeros(10, dtype=torch.int64), torch.zeros(10, 1))

    def epoch(it):
        return torch.cat([x["receiver"][:, 0, 0] for x, _ in it]).tolist()

    it = BatchIterator(ds, batch_size=4, shuffle=True, seed=3)
    first, second = epoch(it), epoch(it)
    assert sorted(first) == sorted(second) == list(range(10))
    assert first != second
    assert epoch(BatchIterator(ds, batch_size=4, shuffle=True, seed=3)) == first
    assert len(it) == 3
    assert epoch(BatchIterator(ds, batch_size=4)) == list(range(10))


def test_average_windows_multi_output_with_padding_matches_loop():
    index, mask = window_table([6, 2], window=4, hop=2)
    rng = np.random.default_rng(0)
    y = rng.normal(size=index.shape + (3,))
    out = average_windows(y, index, mask, 8)
    expected = np.zeros((8, 3))
    counts = np.zeros(8)
    for u, t in zip(*np.nonzero(mask), strict=True):
        expected[index[u, t]] += y[u, t]
        counts[index[u, t]] += 1
    np.testing.assert_allclose(out, expected / counts[:, None])


def test_unshuffled_batch_iterator_leaves_global_rng_alone():
    ds = FrameDataset(torch.zeros(1, 1), torch.zeros(5, 1),
                      torch.zeros(5, dtype=torch.int64))
    state = torch.get_rng_state()
    list(BatchIterator(ds, batch_size=2))
    torch.testing.assert_close(torch.get_rng_state(), state)


@pytest.mark.parametrize("shared", [True, False])
def test_attention_span_attends_within_blocks(shared):
    """attention_span=s over T steps equals attention over each block on its own,
    padding included; a span >= T is plain attention."""
    params = dict(dropout=0.0, lstm_dropout=0.0, shared_attention=shared)
    whole = _module(**params)
    blocks = _module(attention_span=4, **params)
    blocks.load_state_dict(whole.state_dict())
    e, r = torch.randn(3, 10, 5), torch.randn(3, 10, 3)
    mask = torch.ones(3, 10, dtype=torch.bool)
    mask[1, 7:] = False  # recording padded at its end
    _, reps = blocks(e, r, mask)
    z = {"emitter": whole.emitter_lstm(e)[0], "receiver": whole.receiver_lstm(r)[0]}
    pairs = (("emitter", "emitter"), ("receiver", "receiver"),
             ("emitter", "receiver"), ("receiver", "emitter"))
    for rep, name, (query, value) in zip(reps, REPRESENTATIONS, pairs, strict=True):
        attention = whole.attention if shared else whole.attention[name]
        for start, stop in ((0, 4), (4, 8), (8, 10)):
            pad = ~mask[:, start:stop]
            real = ~pad.all(dim=1)  # a block of padding only is ignored downstream
            q, v = z[query][real, start:stop], z[value][real, start:stop]
            want = attention(q, v, v, key_padding_mask=pad[real])[0]
            torch.testing.assert_close(rep[real, start:stop], want, atol=1e-5,
                                       rtol=1e-4)
    wide = _module(attention_span=10, **params)
    wide.load_state_dict(whole.state_dict())
    torch.testing.assert_close(wide(e, r, mask)[0], whole(e, r, mask)[0])
    with pytest.raises(ValueError, match="attention_span must be >= 1"):
        _module(attention_span=0)
