"""Per-person state of :class:`~sklearn_impression.CrossDomainRegressor`.

:class:`ListenerTable` is its one owner. Row 0 is the population, rows
``1..n`` the receivers in ``ids`` (``ids[k]`` owns row ``k + 1``, also in the
network's listener embedding). Per row:

* an **output calibration** ``y = gain * y_net + offset`` per output, in
  standardised target units (gain 1 and offset 0 unless ``adapt`` fitted
  them), and a second one (``trace_gain``, ``trace_offset``) with a weight of
  the stimulus's training trace (``stimulus``, in target units) for recordings
  whose stimulus has one;
* an extra reaction **delay** in label frames.

Beside the rows, the table keeps each known receiver's feature
**normalisation statistics** (``normalize_by="receiver"``): those of the
training receivers from ``fit``, those of enrolled receivers from ``adapt``.
The regressor's documented fitted attributes (``listener_ids_``,
``listener_gain_``, ``normalization_means_``, ...) read the table. Torch-free.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..preprocessing._statistics import merge_statistics

__all__ = ["ATTRIBUTES", "MIN_ENROLMENT_FRAMES", "ListenerTable",
           "UnknownReceiverWarning"]

#: Fewest labelled frames per receiver that :meth:`CrossDomainRegressor.adapt`
#: accepts (1 s at 25 Hz).
MIN_ENROLMENT_FRAMES = 25

#: The regressor's fitted attribute for each field of the table.
ATTRIBUTES = {
    "listener_ids_": "ids", "n_fitted_listeners_": "n_fitted",
    "listener_gain_": "gain", "listener_offset_": "offset",
    "listener_delay_": "delay", "listener_stimulus_": "stimulus",
    "listener_trace_gain_": "trace_gain", "listener_trace_offset_": "trace_offset",
    "normalization_receivers_": "statistics_ids",
    "normalization_means_": "statistics_means",
    "normalization_scales_": "statistics_scales",
}
#: Per-row fields and the value of a row without parameters.
_ROW_FIELDS = {"gain": 1.0, "offset": 0.0, "stimulus": 0.0, "trace_gain": 1.0,
               "trace_offset": 0.0}


class UnknownReceiverWarning(UserWarning):
    """``predict`` met receivers without per-receiver parameters.

    They get the population parameters: the population listener vector and no
    output calibration. Filter it with :func:`warnings.filterwarnings` when that is
    expected (for example under leave-receivers-out without enrolment).
    """


class ListenerTable:
    """The per-person state of a fitted regressor (see the module docstring).

    Parameters
    ----------
    ids : list
        Receivers with a row, in row order (row ``k + 1`` for ``ids[k]``).
    n_fitted : int
        How many of ``ids`` come from ``fit``.
    n_outputs : int
    statistics : tuple (ids, means, scales), default=None
        Kept normalisation statistics, row ``k`` of ``means`` and ``scales``
        for ``ids[k]``; ``None``: none.

    Examples
    --------
    >>> table = ListenerTable(["a", "b"], 2, n_outputs=1)
    >>> table.rows_for(["b", "c", "a"], warn=False).tolist()
    [2, 0, 1]
    >>> table.grow(["c", "a"]).tolist()
    [3, 1]
    >>> table.ids, table.gain.shape
    (['a', 'b', 'c'], (4, 1))
    """

    def __init__(self, ids, n_fitted, n_outputs, statistics=None):
        self.ids = list(ids)
        self.n_fitted = int(n_fitted)
        n = len(self.ids) + 1
        for name, value in _ROW_FIELDS.items():
            setattr(self, name, np.full((n, n_outputs), value))
        self.delay = np.zeros(n, dtype=np.int64)
        if statistics is None:
            statistics = ([], np.zeros((0, 0)), np.zeros((0, 0)))
        self.keep_statistics(statistics, reset=True)

    # -- persisted form: the regressor's documented attributes ---------------
    def attributes(self):
        """The fields as the regressor's fitted attributes (name to value)."""
        return {name: getattr(self, field) for name, field in ATTRIBUTES.items()}

    @classmethod
    def from_attributes(cls, attributes):
        """The table of :meth:`attributes`' output (every key required)."""
        table = cls.__new__(cls)
        for name, field in ATTRIBUTES.items():
            setattr(table, field, attributes[name])
        table.ids = list(table.ids)
        table.statistics_ids = list(table.statistics_ids)
        return table

    # -- rows ------------------------------------------------------------------
    def rows_for(self, receivers, *, warn):
        """Row of each receiver in ``receivers`` (0 for one without a row);
        with ``warn`` one :class:`UnknownReceiverWarning` lists those."""
        index = {r: k + 1 for k, r in enumerate(self.ids)}
        rows = np.array([index.get(r, 0) for r in receivers], dtype=np.int64)
        unknown = list(dict.fromkeys(r for r, k in zip(receivers, rows, strict=True)
                                     if k == 0))
        if unknown and warn:
            warnings.warn(
                f"receivers {unknown} have no per-receiver parameters in this model "
                "(not seen in fit, not enrolled with adapt); they get the population "
                "listener vector and no output calibration", UnknownReceiverWarning,
                stacklevel=6)  # predict -> predict_traces -> ... -> here
        return rows

    def grow(self, receivers):
        """Rows of ``receivers``, appending rows without parameters for those
        not in the table yet."""
        new = [r for r in dict.fromkeys(receivers) if r not in set(self.ids)]
        self.ids += new
        for name, value in _ROW_FIELDS.items():
            old = getattr(self, name)
            setattr(self, name, np.vstack([old, np.full((len(new), old.shape[1]),
                                                        value)]))
        self.delay = np.concatenate([self.delay, np.zeros(len(new), np.int64)])
        return self.rows_for(receivers, warn=False)

    def reset(self, rows):
        """Rows ``rows`` back to no parameters (identity, no delay)."""
        for name, value in _ROW_FIELDS.items():
            getattr(self, name)[rows] = value
        self.delay[rows] = 0

    def set_row(self, row, *, delay, gain, offset, trace_gain, trace_offset,
                stimulus):
        """The enrolment parameters of one row."""
        self.delay[row] = delay
        self.gain[row], self.offset[row] = gain, offset
        self.trace_gain[row], self.trace_offset[row] = trace_gain, trace_offset
        self.stimulus[row] = stimulus

    # -- outputs ----------------------------------------------------------------
    def traced(self, rows, stimuli, known_stimuli):
        """Per recording: does its receiver's stimulus term apply (a weight
        fitted at enrolment, and its stimulus among ``known_stimuli``)?"""
        known = set(known_stimuli)
        return np.array([bool(np.any(w != 0)) and s in known
                         for w, s in zip(self.stimulus[rows], stimuli, strict=True)],
                        dtype=bool)

    def calibrate(self, y, rows, traced, lengths):
        """Standardised outputs ``y`` (all recordings' frames) with each row's
        calibration: the stimulus-term one for ``traced`` recordings, the other
        otherwise."""
        frame_rows = np.repeat(rows, lengths)
        gain, offset = self.gain[frame_rows], self.offset[frame_rows]
        if traced.any():
            frames = np.repeat(traced, lengths)[:, None]
            gain = np.where(frames, self.trace_gain[frame_rows], gain)
            offset = np.where(frames, self.trace_offset[frame_rows], offset)
        return y * gain + offset

    def add_stimulus_terms(self, traces, rows, used, deviation):
        """``traces`` (one per recording, target units) with the recordings
        ``used`` given their receiver's weight (row ``rows[i]``) times
        ``deviation`` (one per used recording: its stimulus trace minus the
        target mean)."""
        traces = list(traces)
        for k, i in enumerate(used):
            traces[i] = traces[i] + self.stimulus[rows[i]] * deviation[k]
        return traces

    # -- normalisation statistics ------------------------------------------------
    @property
    def statistics(self):
        """``(ids, means, scales)`` kept per receiver, or ``None`` if none."""
        if not self.statistics_ids:
            return None
        return self.statistics_ids, self.statistics_means, self.statistics_scales

    def keep_statistics(self, new, *, reset):
        """Keep ``new`` statistics ``(ids, means, scales)``: with ``reset``
        instead of all kept ones, else adding or replacing those receivers'."""
        if not reset and self.statistics is not None:
            new = merge_statistics(self.statistics, new)
        ids, means, scales = new
        self.statistics_ids, self.statistics_means, self.statistics_scales = (
            list(ids), means, scales)
