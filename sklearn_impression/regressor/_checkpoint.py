"""Training that survives a crash: :class:`EpochCheckpoint`.

With ``CrossDomainRegressor(checkpoint_dir=DIR)`` the fit writes, after every
epoch, one file ``DIR/checkpoint.pt`` holding everything the next epoch depends
on: the module weights, the optimizer and LR-scheduler states, the history, the
global torch random state (dropout) and the number of finished epochs (the batch
iterator redraws its shuffling state from its seed and that number). The file is
written to a temporary file and renamed (:func:`os.replace`), so a process killed
at any moment leaves the previous checkpoint or the new one, never half of one.

A new fit with the same directory, the same parameters and the same data resumes
after the last finished epoch; on CPU with a fixed ``random_state`` the final
weights equal those of an uninterrupted fit. A file that cannot be read, or one
written for other parameters or data, is a :class:`CheckpointError` (a
ValueError), never a silent restart from scratch. The file is read with
``torch.load(weights_only=True)``: no pickle code runs.
"""

import hashlib
import json
import os
import tempfile
from pathlib import Path

from skorch.callbacks import Callback

from ..utils._torch import import_torch

torch = import_torch()

__all__ = ["CheckpointError", "EpochCheckpoint"]

#: Value of the ``format`` entry of a checkpoint file.
FORMAT = "sklearn-impression-checkpoint"
FORMAT_VERSION = 1
FILENAME = "checkpoint.pt"
#: Regressor parameters that may differ between the interrupted and the resumed fit.
_FREE_PARAMS = ("checkpoint_dir", "verbose", "device")


class CheckpointError(ValueError):
    """A checkpoint file that is corrupt or belongs to another fit."""


def fit_fingerprint(params, datasets):
    """Parameters and a digest of the training data, as written in the checkpoint.

    Parameters
    ----------
    params : dict
        The regressor's ``get_params()``.
    datasets : sequence of FrameDataset or None
        The training and validation sets (``None`` entries are skipped).
    """
    params = {k: v for k, v in params.items() if k not in _FREE_PARAMS}
    params = json.loads(json.dumps(params, default=repr))
    digest = hashlib.sha256()
    shapes = []
    for dataset in datasets:
        if dataset is None:
            shapes.append(None)
            continue
        part = []
        for name in ("emitter", "receiver", "emitter_row", "y", "windows", "listener"):
            tensor = getattr(dataset, name)
            if tensor is None:
                part.append(None)
                continue
            array = tensor.detach().cpu().contiguous().numpy()
            digest.update(name.encode() + str(array.shape).encode())
            digest.update(array.tobytes())
            part.append(list(array.shape))
        shapes.append(part)
    return {"params": params, "shapes": shapes, "data_sha256": digest.hexdigest()}


class EpochCheckpoint(Callback):
    """skorch callback: an atomic checkpoint after every epoch, and resuming.

    Used by :class:`~sklearn_impression.CrossDomainRegressor` when its
    ``checkpoint_dir`` is set; it must come after the LR scheduler among the
    net's callbacks, so that it saves the stepped scheduler and restores its
    state after skorch rebuilt it.

    Parameters
    ----------
    directory : str or path-like
        Folder of ``checkpoint.pt`` (created if missing).
    fingerprint : dict
        :func:`fit_fingerprint` of the fit; a saved checkpoint must match it.

    Attributes
    ----------
    state_ : dict or None
        The checkpoint read by :meth:`load`, restored at the start of training.
    epochs_done_ : int
        Finished epochs in that checkpoint (0 without one).
    """

    def __init__(self, directory, fingerprint):
        self.directory = directory
        self.fingerprint = fingerprint
        self.state_, self.epochs_done_ = None, 0  # until load() reads a file

    @property
    def path(self):
        return Path(self.directory) / FILENAME

    def load(self):
        """Read and check the checkpoint, if any; return the finished epochs."""
        self.state_, self.epochs_done_ = None, 0
        path = self.path
        if not path.exists():
            return 0
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many types for a damaged file
            raise CheckpointError(f"checkpoint {path} cannot be read ({exc}); "
                                  "delete it to start again") from None
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise CheckpointError(f"checkpoint {path} is not a sklearn-impression "
                                  "checkpoint; delete it to start again")
        if state.get("format_version") != FORMAT_VERSION:
            raise CheckpointError(f"checkpoint {path} has format version "
                                  f"{state.get('format_version')!r}, expected "
                                  f"{FORMAT_VERSION}")
        self._check_fingerprint(path, json.loads(state["fingerprint"]))
        self.state_, self.epochs_done_ = state, int(state["epoch"])
        return self.epochs_done_

    def _check_fingerprint(self, path, saved):
        mine = self.fingerprint
        differ = sorted(k for k in set(saved["params"]) | set(mine["params"])
                        if saved["params"].get(k) != mine["params"].get(k))
        if differ:
            detail = ", ".join(f"{k}={saved['params'].get(k)!r} there, "
                               f"{mine['params'].get(k)!r} now" for k in differ)
            raise CheckpointError(f"checkpoint {path} was written by a fit with other "
                                  f"parameters ({detail}); use another "
                                  "checkpoint_dir or delete the file")
        if saved["shapes"] != mine["shapes"]:
            raise CheckpointError(f"checkpoint {path} was written for data of other "
                                  f"shapes ({saved['shapes']} there, "
                                  f"{mine['shapes']} now)")
        if saved["data_sha256"] != mine["data_sha256"]:
            raise CheckpointError(f"checkpoint {path} was written for other data "
                                  "(same shapes, different values)")

    def fit(self, net, dataset):
        """Train ``net`` on ``dataset``, resuming after :meth:`load`'s epochs."""
        net.initialize()
        net.partial_fit(dataset, None, epochs=max(net.max_epochs - self.epochs_done_,
                                                  0))
        return net

    def on_train_begin(self, net, **kwargs):
        state = self.state_
        if state is None:
            return
        from skorch.history import History

        net.module_.load_state_dict(state["module"])
        net.optimizer_.load_state_dict(state["optimizer"])
        net.history = History(json.loads(state["history"]))
        for _, callback in net.callbacks_:
            scheduler = getattr(callback, "lr_scheduler_", None)
            if scheduler is not None and state.get("lr_scheduler") is not None:
                scheduler.load_state_dict(state["lr_scheduler"])
        torch.set_rng_state(state["torch_rng"])
        if "cuda_rng" in state and torch.device(net.device).type == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng"], net.device)
        self.state_ = None

    def on_epoch_end(self, net, **kwargs):
        scheduler = None
        for _, callback in net.callbacks_:
            if getattr(callback, "lr_scheduler_", None) is not None:
                scheduler = callback.lr_scheduler_.state_dict()
        state = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "fingerprint": json.dumps(self.fingerprint),
            "epoch": len(net.history),
            "module": {k: v.detach().cpu()
                       for k, v in net.module_.state_dict().items()},
            "optimizer": _to_cpu(net.optimizer_.state_dict()),
            "lr_scheduler": scheduler,
            "history": json.dumps(net.history.to_list(), default=float),
            "torch_rng": torch.get_rng_state(),
        }
        if torch.device(net.device).type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(net.device)
        directory = Path(self.directory)
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".checkpoint-",
                                   suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                torch.save(state, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _to_cpu(value):
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_cpu(v) for v in value)
    return value
