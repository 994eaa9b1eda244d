"""The torch side of :class:`~sklearn_impression.CrossDomainRegressor`.

Tensors from flat frames, the skorch net (module, criterion, callbacks) built
from the regressor's parameters, and its raw per-frame outputs: functions of
explicit arguments, shared by ``fit``, ``predict``, ``adapt`` and
:func:`~sklearn_impression.load_model`, so a loaded model is built exactly as a
trained one.
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
    seeded_torch,
)

torch = import_torch()

__all__ = ["AUTO_PATIENCE", "build_net", "frame_dataset", "predict_standardized",
           "fit_net"]

#: Regressor parameters passed on unchanged to CrossDomainModule and CrossDomainLoss.
_MODULE_PARAMS = ("hidden_size", "num_layers", "lstm_dropout", "num_heads", "fc_size",
                  "dropout", "attention_span", "intra", "inter", "shared_attention",
                  "emitter_dropout")
_LOSS_PARAMS = ("kd_weight", "se_weight", "se_softmax_axis", "task_loss")
#: Patience of ``early_stopping="auto"`` in epochs.
AUTO_PATIENCE = 2


def frame_dataset(frames, device, *, window, hop, listener_adaptation):
    """The :class:`~sklearn_impression.nn.FrameDataset` of flat frames: windows
    ``hop`` apart (``None``: ``window // 2``) when ``window > 1``, and the
    frames' listener rows with listener adaptation."""
    windows = mask = None
    if window > 1:
        windows, mask = window_table(frames.lengths, window, hop or max(1, window // 2))
    listener = frames.listener if listener_adaptation else None
    return FrameDataset.from_frames(frames, device, windows=windows,
                                    window_mask=mask, listener=listener)


def _callbacks(params, has_validation, checkpoint):
    from skorch.callbacks import (
        EarlyStopping,
        GradientNormClipping,
        LRScheduler,
        ProgressBar,
    )

    callbacks = [
        ("lr_scheduler", LRScheduler(policy=torch.optim.lr_scheduler.StepLR,
                                     step_size=params["lr_step"],
                                     gamma=params["lr_gamma"])),
        ("loss_terms", LossTerms()),
        ("finite_loss", FiniteLossGuard()),
    ]
    if has_validation:
        callbacks.append(("valid_ccc", ValidCCC()))
    if params["grad_clip"] is not None:
        callbacks.append(("grad_clip", GradientNormClipping(params["grad_clip"])))
    patience = params["early_stopping"]
    if patience == "auto":
        patience = (AUTO_PATIENCE if has_validation and params["checkpoint_dir"] is None
                    else None)
    if patience is not None:
        monitor = "valid_loss" if has_validation else "train_loss"
        callbacks.append(("early_stopping", EarlyStopping(
            monitor=monitor, patience=patience, load_best=True)))
    if params["verbose"]:
        callbacks.append(("progress_bar", ProgressBar()))
    if checkpoint is not None:
        callbacks.append(("checkpoint", checkpoint))  # after the scheduler
    return callbacks


def build_net(params, *, n_emitter_features, n_receiver_features, n_outputs,
              n_listeners, device, seed=None, valid_ds=None, checkpoint=None):
    """The skorch net of a regressor's parameters and fitted shapes.

    Parameters
    ----------
    params : dict
        The regressor's ``get_params()``.
    n_emitter_features, n_receiver_features, n_outputs : int
    n_listeners : int
        Rows of the listener table besides the population (0 without listener
        adaptation).
    device : str
    seed : int, default=None
        Seeds the batch order (``seed + 1``).
    valid_ds : FrameDataset, default=None
        The validation set (``None``: none).
    checkpoint : EpochCheckpoint, default=None
        Resume after its finished epochs and write one after every epoch.
    """
    skip = ({"iterator_train__skip_epochs": checkpoint.epochs_done_}
            if checkpoint is not None and checkpoint.epochs_done_ else {})
    return CrossDomainNet(
        CrossDomainModule,
        module__n_emitter_features=n_emitter_features,
        module__n_receiver_features=n_receiver_features,
        module__n_outputs=n_outputs,
        **{f"module__{name}": params[name] for name in _MODULE_PARAMS},
        **{f"criterion__{name}": params[name] for name in _LOSS_PARAMS},
        module__n_listeners=n_listeners if params["listener_adaptation"] else 0,
        train_split=None if valid_ds is None else predefined_split(valid_ds),
        callbacks=_callbacks(params, valid_ds is not None, checkpoint),
        amp=params["amp"],
        device=device,
        verbose=int(params["verbose"]),
        **frame_net_params(lr=params["lr"], max_epochs=params["max_epochs"],
                           batch_size=params["batch_size"],
                           seed=None if seed is None else seed + 1),
        optimizer__weight_decay=params["weight_decay"],
        **skip,
    )


def fit_net(params, datasets, seed, *, n_emitter_features, n_receiver_features,
            n_outputs, n_listeners):
    """A skorch net built by :func:`build_net` and trained on ``datasets``
    (``(train, valid)``, ``valid`` may be ``None``) with torch seeded by
    ``seed``; with ``checkpoint_dir`` it resumes from and writes checkpoints.

    The returned net keeps neither the validation tensors nor the LR
    scheduler's optimizer.
    """
    device = str(params["device"])
    checkpoint = None
    if params["checkpoint_dir"] is not None:
        from ._checkpoint import EpochCheckpoint, fit_fingerprint

        checkpoint = EpochCheckpoint(params["checkpoint_dir"],
                                     fit_fingerprint(params, datasets))
        checkpoint.load()  # a bad checkpoint fails here, before training
    net = build_net(params, n_emitter_features=n_emitter_features,
                    n_receiver_features=n_receiver_features, n_outputs=n_outputs,
                    n_listeners=n_listeners, device=device, seed=seed,
                    valid_ds=datasets[1], checkpoint=checkpoint)
    with seeded_torch(seed, device):
        if checkpoint is None:
            net.fit(datasets[0], None)
        else:
            checkpoint.fit(net, datasets[0])
    net.train_split = None  # drop the validation tensors (not pickled)
    for _, callback in net.callbacks_:
        # The scheduler holds the optimizer; pickled there, its CUDA state would
        # bypass skorch's device mapping. It is rebuilt at the next fit anyway.
        if hasattr(callback, "lr_scheduler_"):
            callback.lr_scheduler_ = None
    return net


def predict_standardized(net, frames, *, window, hop, listener_adaptation):
    """Per-frame network outputs ``(n_frames, n_outputs)`` of standardised
    frames, in standardised units, before calibration."""
    dataset = frame_dataset(frames, net.device, window=window, hop=hop,
                            listener_adaptation=listener_adaptation)
    # Outputs stay on the device until the end: one transfer instead of one
    # synchronising copy per batch (skorch's default moves each batch to CPU).
    y_units = net.forward(dataset, training=False,
                          device=net.device).float().cpu().numpy()
    if window == 1:
        return y_units[:, 0, :].astype(np.float64)
    mask = None if dataset.window_mask is None else dataset.window_mask.cpu().numpy()
    return average_windows(y_units, dataset.windows.cpu().numpy(), mask,
                           frames.n_frames)
