"""The torch side of :class:`~sklearn_impression.CrossDomainRegressor`.

Tensors from flat frames, the skorch net (module, criterion, callbacks) built
from the regressor's parameters, and its raw per-frame outputs. Shared by
``fit``, ``predict``, ``adapt`` and :func:`~sklearn_impression.load_model`, so a
loaded model is built exactly as a trained one.
"""

import numpy as np
from skorch.helper import predefined_split

from ..nn import CrossDomainModule, FrameDataset, average_windows, window_table
from ..utils._torch import import_torch
from ._callbacks import (
    CrossDomainNet,
    FiniteLossGuard,
    LossTerms,
    ValidCCC,
    frame_net_params,
)

torch = import_torch()

__all__ = ["NetBuilderMixin"]

#: Regressor parameters passed on unchanged to CrossDomainModule and CrossDomainLoss.
_MODULE_PARAMS = ("hidden_size", "num_layers", "lstm_dropout", "num_heads", "fc_size",
                  "dropout", "attention_span", "intra", "inter", "shared_attention",
                  "emitter_dropout")
_LOSS_PARAMS = ("kd_weight", "se_weight", "se_softmax_axis", "task_loss")
#: Patience of ``early_stopping="auto"`` in epochs.
AUTO_PATIENCE = 2


class NetBuilderMixin:
    """Builds and runs the regressor's skorch net (uses its parameters)."""

    def _dataset(self, frames, device):
        def tensor(a, dtype=torch.float32):
            return torch.as_tensor(np.ascontiguousarray(a)).to(device, dtype)
        windows = mask = None
        if self.window > 1:
            hop = self.hop or max(1, self.window // 2)
            index, mask = window_table(frames.lengths, self.window, hop)
            windows = tensor(index, torch.int64)
            mask = None if mask is None else tensor(mask, torch.bool)
        listener = None
        if frames.listener is not None and self.listener_adaptation:
            listener = tensor(frames.listener, torch.int64)
        return FrameDataset(tensor(frames.emitter), tensor(frames.receiver),
                            tensor(frames.emitter_row, torch.int64),
                            None if frames.y is None else tensor(frames.y),
                            windows, mask, listener)

    def _callbacks(self, has_validation):
        from skorch.callbacks import (
            EarlyStopping,
            GradientNormClipping,
            LRScheduler,
            ProgressBar,
        )

        callbacks = [
            ("lr_scheduler", LRScheduler(policy=torch.optim.lr_scheduler.StepLR,
                                         step_size=self.lr_step, gamma=self.lr_gamma)),
            ("loss_terms", LossTerms()),
            ("finite_loss", FiniteLossGuard()),
        ]
        if has_validation:
            callbacks.append(("valid_ccc", ValidCCC()))
        if self.grad_clip is not None:
            callbacks.append(("grad_clip", GradientNormClipping(self.grad_clip)))
        patience = self.early_stopping
        if patience == "auto":
            patience = (AUTO_PATIENCE if has_validation and self.checkpoint_dir is None
                        else None)
        if patience is not None:
            monitor = "valid_loss" if has_validation else "train_loss"
            callbacks.append(("early_stopping", EarlyStopping(
                monitor=monitor, patience=patience, load_best=True)))
        if self.verbose:
            callbacks.append(("progress_bar", ProgressBar()))
        if getattr(self, "_checkpoint", None) is not None:
            callbacks.append(("checkpoint", self._checkpoint))  # after the scheduler
        return callbacks

    def _make_net(self, device, *, seed=None, valid_ds=None):
        """The skorch net for the current hyperparameters and fitted shapes.

        Used by :meth:`fit` and by :func:`~sklearn_impression.load_model`, so a
        loaded model is built exactly as a trained one.
        """
        checkpoint = getattr(self, "_checkpoint", None)
        skip = ({"iterator_train__skip_epochs": checkpoint.epochs_done_}
                if checkpoint is not None and checkpoint.epochs_done_ else {})
        return CrossDomainNet(
            CrossDomainModule,
            module__n_emitter_features=self.n_emitter_features_,
            module__n_receiver_features=self.n_receiver_features_,
            module__n_outputs=self.n_outputs_,
            **{f"module__{name}": getattr(self, name) for name in _MODULE_PARAMS},
            **{f"criterion__{name}": getattr(self, name) for name in _LOSS_PARAMS},
            module__n_listeners=(len(self.listener_ids_)
                                 if self.listener_adaptation else 0),
            train_split=None if valid_ds is None else predefined_split(valid_ds),
            callbacks=self._callbacks(valid_ds is not None),
            amp=self.amp,
            device=device,
            verbose=int(self.verbose),
            **frame_net_params(lr=self.lr, max_epochs=self.max_epochs,
                               batch_size=self.batch_size,
                               seed=None if seed is None else seed + 1),
            optimizer__weight_decay=self.weight_decay,
            **skip,
        )

    def _predict_standardized(self, frames):
        """Per-frame network outputs ``(n_frames, n_outputs)`` of standardised
        frames, in standardised units, before calibration."""
        dataset = self._dataset(frames, self.net_.device)
        # Outputs stay on the device until the end: one transfer instead of one
        # synchronising copy per batch (skorch's default moves each batch to CPU).
        y_units = self.net_.forward(dataset, training=False,
                                    device=self.net_.device).float().cpu().numpy()
        if self.window == 1:
            return y_units[:, 0, :].astype(np.float64)
        mask = None if dataset.window_mask is None else \
            dataset.window_mask.cpu().numpy()
        return average_windows(y_units, dataset.windows.cpu().numpy(), mask,
                               frames.n_frames)
