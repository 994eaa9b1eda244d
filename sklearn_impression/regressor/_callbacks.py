"""The skorch layer: :class:`CrossDomainNet` and its history callbacks.

:class:`CrossDomainNet` is a :class:`skorch.NeuralNetRegressor` whose criterion is
:class:`~sklearn_impression.nn.CrossDomainLoss` (the task, knowledge-distillation
and similarity-enhancement terms, weights reachable as ``criterion__kd_weight``
...). :class:`LossTerms` owns the per-epoch sums of the terms (kept on the device,
no extra synchronisation per batch) and writes the epoch averages ``train_task``,
``train_kd``, ``train_se`` (and ``valid_*``) into ``net.history``;
:class:`ValidCCC` adds the validation CCC of each output; :class:`FiniteLossGuard`
stops a diverging run with an error naming the epoch and the loss term.
"""

import functools
import math
from collections.abc import Mapping
from contextlib import contextmanager

from skorch import NeuralNetRegressor
from skorch.callbacks import Callback
from skorch.dataset import get_len
from skorch.utils import to_tensor

from ..nn import TERMS, BatchIterator, CrossDomainLoss, ccc_per_output
from ..nn._losses import _valid
from ..utils._torch import import_torch

torch = import_torch()

__all__ = ["CrossDomainNet", "FiniteLossGuard", "LossTerms", "ValidCCC", "TERMS",
           "frame_net_params", "seeded_torch"]


def frame_net_params(*, lr, max_epochs, batch_size, seed=None):
    """skorch parameters of every net on flat frames (the regressor, the LSTM).

    Adam at ``lr``; batches from :class:`~sklearn_impression.nn.BatchIterator`
    (index gathers), the training ones shuffled by the iterator's own generator
    seeded ``seed``.
    """
    params = {"optimizer": torch.optim.Adam, "lr": lr, "max_epochs": max_epochs,
              "batch_size": batch_size, "iterator_train": BatchIterator,
              "iterator_train__shuffle": True, "iterator_valid": BatchIterator}
    if seed is not None:
        params["iterator_train__seed"] = seed
    return params


@contextmanager
def seeded_torch(seed, device):
    """Fork torch's global random state for the block and seed it with ``seed``.

    Weight initialisation and dropout draw from it, so a fit inside the block is
    reproducible and leaves the caller's random state alone.
    """
    devices = []
    if device != "cpu":  # "cuda" without an index is the current device
        index = torch.device(device).index
        devices = [torch.cuda.current_device() if index is None else index]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield

#: SHA-256 of the source of skorch's ``NeuralNet.run_single_epoch`` that
#: :meth:`CrossDomainNet.run_single_epoch` was written against (skorch 1.4.0).
#: skorch has no hook to keep batch losses on the device (its loop calls
#: ``loss.item()`` after every batch), hence that one override; with another
#: skorch loop it steps aside and skorch's loop runs (tests/test_regressor.py).
SKORCH_EPOCH_LOOP_SHA256 = (
    "f20ccfd4d8a09fc75d128dd9c2ad31af06d56017d464c205bb794b78fbb54563"
)


@functools.cache
def _skorch_loop_matches():
    import hashlib
    import inspect

    from skorch import NeuralNet

    try:
        source = inspect.getsource(NeuralNet.run_single_epoch)
    except (OSError, TypeError):  # no source files: cannot check, do not rely
        return False
    return hashlib.sha256(source.encode()).hexdigest() == SKORCH_EPOCH_LOOP_SHA256


class CrossDomainNet(NeuralNetRegressor):
    """skorch regressor for :class:`~sklearn_impression.nn.CrossDomainModule`.

    The module returns ``(y_pred, representations)``; the criterion (by default
    :class:`~sklearn_impression.nn.CrossDomainLoss`, paper eq. 11) turns them and
    the padding mask of the batch into the loss. Prediction
    (``forward``/``predict``) returns ``y_pred`` only.

    Parameters
    ----------
    module : torch module class or instance
    criterion : torch module class, default=CrossDomainLoss
        Called as ``criterion(y_pred, y_true, mask)``; its parameters are set with
        ``criterion__kd_weight``, ``criterion__se_weight``,
        ``criterion__se_softmax_axis`` and ``criterion__task_loss``.
    amp : bool, default=False
        Run the forward pass under ``torch.autocast`` with bfloat16.
    **kwargs
        Everything :class:`skorch.NeuralNetRegressor` accepts.
    """

    #: Keep batch losses on the device until the epoch ends (None: on CUDA only).
    _sync_free_epochs = None

    def __init__(self, module, *args, criterion=CrossDomainLoss, amp=False,
                 **kwargs):
        super().__init__(module, *args, criterion=criterion, **kwargs)
        self.amp = amp

    def infer(self, x, **fit_params):
        if not self.amp:
            return super().infer(x, **fit_params)
        device_type = torch.device(self.device).type
        with torch.autocast(device_type, dtype=torch.bfloat16):
            return super().infer(x, **fit_params)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """skorch's epoch loop, without a host-device sync per batch on CUDA.

        skorch calls ``loss.item()`` after every batch, which makes the CPU wait for
        the GPU. On a CUDA device (without progress bar) the batch losses stay on
        the device and are written to the history in one transfer at the end of the
        epoch; :class:`FiniteLossGuard` then checks them per epoch. On CPU, or with
        a skorch loop other than the one this was checked against
        (:data:`SKORCH_EPOCH_LOOP_SHA256`), skorch's loop runs unchanged.
        """
        sync_free = self._sync_free_epochs
        if sync_free is None:
            sync_free = torch.device(self.device).type != "cpu"
        if (iterator is None or not sync_free or self.verbose
                or not _skorch_loop_matches()):
            return super().run_single_epoch(iterator, training, prefix, step_fn,
                                            **fit_params)
        pending = []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            loss = step["loss"].detach()
            self.history.record_batch(prefix + "_loss", loss)
            pending.append((self.history[-1]["batches"][-1], loss))
            self.history.record_batch(prefix + "_batch_size", get_len(batch[0]))
            self.notify("on_batch_end", batch=batch, training=training, **step)
        if pending:
            values = torch.stack([loss for _, loss in pending]).tolist()
            for (row, _), value in zip(pending, values, strict=True):
                row[prefix + "_loss"] = value
        self.history.record(prefix + "_batch_count", len(pending))

    def evaluation_step(self, batch, training=False):
        return super().evaluation_step(batch, training=training)[0]

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The criterion of ``y_pred`` against ``y_true``, padding masked out."""
        mask = X.get("mask") if isinstance(X, Mapping) else None
        return self.criterion_(y_pred, to_tensor(y_true, device=self.device), mask)


def _criterion_terms(net):
    return getattr(getattr(net, "criterion_", None), "terms_", None)


class LossTerms(Callback):
    """Record the epoch mean of each loss term: ``train_task``, ``valid_kd``, ...

    Means are weighted by batch size, like skorch's ``train_loss``. The sums are
    this callback's own state, accumulated on the device from the criterion's
    ``terms_`` after every batch.
    """

    def initialize(self):
        self.sums_ = {}
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.sums_ = {}

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        terms = _criterion_terms(net)
        if terms is None or y_pred is None:
            return
        n = y_pred[0].shape[0]
        key = "train" if training else "valid"
        total, count = self.sums_.get(key, (0.0, 0))
        self.sums_[key] = (terms * n + total, count + n)

    def on_epoch_end(self, net, **kwargs):
        for prefix, (total, count) in self.sums_.items():
            values = (total / max(count, 1)).tolist()
            for name, value in zip(TERMS, values, strict=True):
                net.history.record(f"{prefix}_{name}", value)
        self.sums_ = {}

    def on_train_end(self, net, **kwargs):
        self.sums_ = {}


class ValidCCC(Callback):
    """Record the validation CCC of each output (``valid_ccc_0``, ...) and its mean.

    Computed over all validation frames of the epoch (padding excluded); CCC is
    unchanged by the internal target standardisation.
    """

    def initialize(self):
        self.preds_, self.trues_ = [], []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.preds_, self.trues_ = [], []

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        if training or y_pred is None or batch is None or batch[1] is None:
            return
        x, y_true = batch
        mask = x.get("mask") if isinstance(x, Mapping) else None
        # float64, like ccc_score: the history and the metric agree.
        self.preds_.append(_valid(y_pred[0].detach().double(), mask))
        self.trues_.append(_valid(torch.as_tensor(y_true).double(), mask))

    def on_epoch_end(self, net, **kwargs):
        if not self.preds_:
            return
        ccc = ccc_per_output(torch.cat(self.preds_), torch.cat(self.trues_)).tolist()
        for i, value in enumerate(ccc):
            net.history.record(f"valid_ccc_{i}", value)
        net.history.record("valid_ccc", sum(ccc) / len(ccc))
        self.preds_, self.trues_ = [], []

    def on_train_end(self, net, **kwargs):
        self.preds_, self.trues_ = [], []


class FiniteLossGuard(Callback):
    """Stop training when a loss is NaN or infinite.

    Raises :class:`FloatingPointError` naming the epoch and the non-finite loss
    term(s), instead of letting a diverged run return NaN predictions. On CPU the
    check runs after every batch (and names it); on CUDA, where batch losses are
    read once per epoch, after every epoch.
    """

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        prefix = "train" if training else "valid"
        loss = net.history[-1, "batches", -1, f"{prefix}_loss"]
        if not isinstance(loss, float) or math.isfinite(loss):
            return
        terms = _criterion_terms(net)
        values = terms.tolist() if terms is not None else [loss] * len(TERMS)
        batch_no = len(net.history[-1, "batches"])
        self._raise(net, prefix, dict(zip(TERMS, values, strict=True)),
                    f", batch {batch_no}")

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        for prefix in ("train", "valid"):
            loss = row.get(f"{prefix}_loss")
            if loss is None or math.isfinite(loss):
                continue
            values = {name: row.get(f"{prefix}_{name}", loss) for name in TERMS}
            self._raise(net, prefix, values, "")

    @staticmethod
    def _raise(net, prefix, values, where):
        bad = [f"{name}={value}" for name, value in values.items()
               if not math.isfinite(value)]
        detail = ", ".join(bad) if bad else "loss"
        raise FloatingPointError(
            f"{prefix} loss diverged in epoch {len(net.history)}{where}: non-finite "
            f"{detail}. Lower lr, set grad_clip, or check the input scaling."
        )
