"""Tensor data path: flattened frames, index-gathered batches, windows.

No per-sample Python: the receiver frames of all recordings are one ``(N, n_r)``
tensor, the distinct emitter rows one ``(M, n_e)`` tensor and ``emitter_row`` an
``(N,)`` int64 index into it, so a batch is a handful of tensor gathers. With
``window > 1`` a training/prediction *unit* is a window of ``window`` consecutive
frames of one recording, stored as an ``(U, window)`` frame-index table.
"""

import math
from dataclasses import dataclass

import numpy as np

from ..utils._torch import import_torch

torch = import_torch()

__all__ = ["BatchIterator", "FrameDataset", "average_windows", "window_table"]


def window_table(lengths, window, hop):
    """Frame indices and mask of the windows cut from consecutive recordings.

    Recording ``i`` occupies flat frames ``offset_i .. offset_i + lengths[i] - 1``.
    Windows start every ``hop`` frames; one more window aligned to the end covers a
    tail the hop grid misses, so every frame is in at least one window. A recording
    shorter than ``window`` gets one window padded by repeating its last frame; the
    mask is ``False`` on padding.

    Returns
    -------
    index : int64 ndarray of shape (n_windows, window)
    mask : bool ndarray of shape (n_windows, window), or None if nothing is padded

    Examples
    --------
    >>> index, mask = window_table([5, 2], window=3, hop=2)
    >>> index.tolist()
    [[0, 1, 2], [2, 3, 4], [5, 6, 6]]
    >>> mask.tolist()
    [[True, True, True], [True, True, True], [True, True, False]]
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    starts, ends = [], []
    for offset, n in zip(offsets, lengths, strict=True):
        if n == 0:
            continue
        s = np.arange(0, max(n - window, 0) + 1, hop, dtype=np.int64)
        if s[-1] + window < n:
            s = np.append(s, n - window)
        starts.append(offset + s)
        ends.append(np.full(s.shape, offset + n - 1))
    if not starts:
        return np.empty((0, window), np.int64), None
    starts, ends = np.concatenate(starts), np.concatenate(ends)
    raw = starts[:, None] + np.arange(window, dtype=np.int64)
    mask = raw <= ends[:, None]
    index = np.minimum(raw, ends[:, None])
    return index, (None if mask.all() else mask)


def average_windows(y_windows, index, mask, n_frames):
    """Average per-window predictions ``(U, T, k)`` into per-frame ``(N, k)``.

    Every frame is the mean of the predictions of all windows covering it; padded
    positions are ignored.
    """
    k = y_windows.shape[-1]
    flat_index = index.reshape(-1)
    flat_y = y_windows.reshape(-1, k)
    if mask is not None:
        keep = mask.reshape(-1)
        flat_index, flat_y = flat_index[keep], flat_y[keep]
    # np.bincount per output column is much faster than np.add.at.
    sums = np.empty((n_frames, k), dtype=np.float64)
    for j in range(k):
        sums[:, j] = np.bincount(flat_index, weights=flat_y[:, j], minlength=n_frames)
    counts = np.bincount(flat_index, minlength=n_frames)
    return sums / np.maximum(counts, 1)[:, None]


@dataclass(eq=False)
class FrameDataset(torch.utils.data.Dataset):
    """Frames of many recordings as flat tensors; batches are gathers.

    Parameters
    ----------
    emitter : float32 tensor of shape (M, n_emitter_features)
        Distinct emitter rows.
    receiver : float32 tensor of shape (N, n_receiver_features)
    emitter_row : int64 tensor of shape (N,)
        Frame ``j`` pairs ``receiver[j]`` with ``emitter[emitter_row[j]]``.
    y : float32 tensor of shape (N, n_outputs), default=None
    windows : int64 tensor of shape (U, window), default=None
        Frame indices of each unit; ``None`` means every frame is a unit of one
        frame (``window=1``).
    window_mask : bool tensor of shape (U, window), default=None
        ``False`` on padded positions; ``None`` when nothing is padded.
    listener : int64 tensor of shape (N,), default=None
        Listener-table row of every frame (listener adaptation); batches then
        carry ``X["listener"]`` of shape ``(B, T)``.

    A batch is ``(X, y)`` with ``X = {"emitter": (B, T, n_e), "receiver":
    (B, T, n_r)[, "mask": (B, T)][, "listener": (B, T)]}`` and ``y`` of shape
    ``(B, T, n_outputs)`` (or ``None`` without targets), on the device of the
    tensors.
    """

    emitter: torch.Tensor
    receiver: torch.Tensor
    emitter_row: torch.Tensor
    y: torch.Tensor = None
    windows: torch.Tensor = None
    window_mask: torch.Tensor = None
    listener: torch.Tensor = None

    @classmethod
    def from_frames(cls, frames, device, *, windows=None, window_mask=None,
                    listener=None):
        """The tensors of flat frames, on ``device``.

        Parameters
        ----------
        frames : Frames
            Flat frames (:mod:`sklearn_impression.recordings._flat`): distinct
            emitter rows, receiver rows, the emitter row of every frame and the
            targets (or ``None``).
        device : str or torch.device
        windows, window_mask : ndarray, default=None
            The units' frame indices and padding mask (:func:`window_table`);
            ``None``: every frame is a unit.
        listener : int ndarray of shape (n_frames,), default=None
            Listener-table row of every frame.

        Returns
        -------
        FrameDataset

        Examples
        --------
        >>> import numpy as np
        >>> from types import SimpleNamespace
        >>> frames = SimpleNamespace(emitter=np.zeros((1, 2)),
        ...                          receiver=np.ones((3, 4)),
        ...                          emitter_row=np.zeros(3, dtype=int), y=None)
        >>> data = FrameDataset.from_frames(frames, "cpu")
        >>> len(data), data.receiver.dtype, data.emitter_row.dtype
        (3, torch.float32, torch.int64)
        """
        def tensor(values, dtype=torch.float32):
            return torch.as_tensor(np.ascontiguousarray(values)).to(device, dtype)

        def optional(values, dtype=torch.float32):
            return None if values is None else tensor(values, dtype)

        return cls(tensor(frames.emitter), tensor(frames.receiver),
                   tensor(frames.emitter_row, torch.int64), optional(frames.y),
                   optional(windows, torch.int64), optional(window_mask, torch.bool),
                   optional(listener, torch.int64))

    def __len__(self):
        if self.windows is None:
            return self.receiver.shape[0]
        return self.windows.shape[0]

    @property
    def device(self):
        return self.receiver.device

    def batch(self, units):
        """The batch of ``units`` (a slice or an int64 index tensor)."""
        if self.windows is None:
            frames = units
            rows = self.emitter_row[frames]
            x = {"emitter": self.emitter[rows].unsqueeze(1),
                 "receiver": self.receiver[frames].unsqueeze(1)}
            y = None if self.y is None else self.y[frames].unsqueeze(1)
            if self.listener is not None:
                x["listener"] = self.listener[frames].unsqueeze(1)
            return x, y
        frames = self.windows[units]
        x = {"emitter": self.emitter[self.emitter_row[frames]],
             "receiver": self.receiver[frames]}
        if self.window_mask is not None:
            x["mask"] = self.window_mask[units]
        if self.listener is not None:
            x["listener"] = self.listener[frames]
        y = None if self.y is None else self.y[frames]
        return x, y

    def __getitem__(self, i):
        # Only for tools that want single items; training uses BatchIterator.
        x, y = self.batch(torch.as_tensor([i], device=self.device))
        x = {key: value[0] for key, value in x.items()}
        return x, (None if y is None else y[0])


class BatchIterator:
    """Iterate over a :class:`FrameDataset` in ready-made batches.

    Used as skorch's ``iterator_train`` / ``iterator_valid``: skorch calls
    ``BatchIterator(dataset, batch_size=..., **iterator_params)`` once per fit and
    iterates it once per epoch.

    Parameters
    ----------
    dataset : FrameDataset
    batch_size : int, default=1024
    shuffle : bool, default=False
        A new permutation every epoch, drawn from the iterator's own generator.
    seed : int, default=None
        Seed of that generator (``None`` draws one from torch's global generator).
        Without ``shuffle`` there is no generator, so iterating in order (as
        ``predict`` does) leaves torch's global random state alone.
    skip_epochs : int, default=0
        Permutations drawn and discarded at the start: a fit resumed from a
        checkpoint after ``skip_epochs`` epochs shuffles its next epochs exactly
        as the uninterrupted fit would.
    """

    def __init__(self, dataset, batch_size=1024, shuffle=False, seed=None,
                 skip_epochs=0):
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.generator = None
        if shuffle:
            if seed is None:
                seed = int(torch.randint(0, 2**62, (1,)).item())
            self.generator = torch.Generator().manual_seed(int(seed))
            for _ in range(int(skip_epochs)):
                torch.randperm(len(dataset), generator=self.generator)

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        order = None
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(self.dataset.device)
        for start in range(0, n, self.batch_size):
            stop = min(start + self.batch_size, n)
            units = slice(start, stop) if order is None else order[start:stop]
            yield self.dataset.batch(units)
