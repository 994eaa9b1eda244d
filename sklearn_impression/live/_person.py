"""One person's stream state: resamplers, frames waiting for the other streams,
running statistics, the trailing window and the enrolment buffer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..preprocessing._causal_stream import CausalStreamResampler
from ..regressor._causal import (
    RunningStatistics,
    TrailingFinisher,
    causal_shift,
    running_needed,
)

__all__ = ["Layout", "Person"]


@dataclass(frozen=True)
class Layout:
    """What a fitted causal pipeline expects of every person's streams."""

    modalities: tuple          # every modality the Resampler was fitted on
    channels: dict             # modality -> channel names
    emitter: tuple             # the concatenator's emitter modalities, in order
    receiver: tuple            # and receiver modalities
    frame_rate: float
    nan_policy: str
    emitter_names: tuple       # the feature names of the two blocks
    receiver_names: tuple

    @classmethod
    def of(cls, resampler, concatenator, model):
        """The layout of a checked causal pipeline's steps."""
        return cls(tuple(resampler.modalities_), dict(resampler.channels_),
                   tuple(concatenator.emitter_modalities_),
                   tuple(concatenator.receiver_modalities_),
                   float(model.label_rate_), resampler.nan_policy,
                   tuple(concatenator.emitter_feature_names_),
                   tuple(concatenator.receiver_feature_names_))


class Person:
    """The streaming state of one person (one receiver watching one emitter).

    Parameters
    ----------
    layout : Layout
    rates : dict
        Native rate (Hz) of every modality of ``layout``.
    receiver, stimulus : hashable or None
        Ids: a receiver with kept statistics is normalised by them, an
        enrolled one calibrated; a stimulus with a training trace gets the
        receiver's stimulus term.
    keep_frames : int
        Frames of features kept from the start for enrolment.
    """

    def __init__(self, layout, rates, receiver, stimulus, keep_frames):
        self.receiver, self.stimulus = receiver, stimulus
        self.keep_frames = int(keep_frames)
        self.resamplers = {
            m: CausalStreamResampler(rates[m], layout.frame_rate,
                                     len(layout.channels[m]), layout.nan_policy)
            for m in layout.modalities}
        self.waiting = {m: [] for m in layout.modalities}
        self.n_frames = 0   # frames assembled (fed to the network)
        self.n_done = 0     # frames finished (returned)
        self.kept = ([], [])
        self.n_kept = 0     # frames in kept
        self.running = self.finisher = None
        self.deviation, self.weight = None, None

    # -- model-dependent parts: at join and after an enrolment ------------------
    def configure(self, model, steps, carried):
        """Running statistics, trailing window and stimulus term for the model's
        current per-person state (a fresh window: it restarts after enrolment).

        ``carried`` maps receiver ids to running statistics that go on from one
        of their streams to the next (as one stream, like offline ``predict``
        of a receiver's recordings in order); it gets this receiver's.
        """
        table = model.listeners_
        self.running = None
        if running_needed(model.normalize_by, table.statistics, self.receiver):
            def fresh():
                return RunningStatistics(model.n_receiver_features_, steps.halflife,
                                         steps.prior)
            if model.normalize_by == "receiver" and self.receiver is not None:
                if self.receiver not in carried:
                    carried[self.receiver] = fresh()
                self.running = carried[self.receiver]
            else:
                self.running = fresh()
        row = int(table.rows_for([self.receiver], warn=False)[0])
        delay = model.label_delay_frames_ + int(table.delay[row])
        self.finisher = TrailingFinisher(
            causal_shift(delay, model.smoothing_frames_, steps.lookahead),
            model.smoothing_frames_)
        self.deviation, self.weight = None, None
        traced = table.traced(np.array([row]), [self.stimulus], model.stimulus_ids_)
        if traced[0]:
            trace = model.stimulus_traces_[model.stimulus_ids_.index(self.stimulus)]
            self.deviation = trace - model.scaler_.target_mean
            self.weight = table.stimulus[row]

    # -- input ------------------------------------------------------------------
    def push(self, chunks):
        """Resample each stream's new samples; frames wait for the others."""
        for name, samples in chunks.items():
            frames = self.resamplers[name].push(samples)
            if len(frames):
                self.waiting[name].append(frames)

    def flush_streams(self, n_frames):
        """End every stream at ``n_frames`` frames (holding a short stream's
        last value)."""
        for name, resampler in self.resamplers.items():
            frames = resampler.flush(n_frames)
            if len(frames):
                self.waiting[name].append(frames)

    def take(self, layout):
        """``(emitter, receiver)`` float32 blocks of the frames every stream has
        completed, or ``None``."""
        n = min((sum(len(f) for f in self.waiting[m]) for m in layout.modalities),
                default=0)
        if n == 0:
            return None
        taken = {}
        for m in layout.modalities:
            waiting = self.waiting[m]
            rows = np.concatenate(waiting) if len(waiting) > 1 else waiting[0]
            taken[m] = rows[:n]
            self.waiting[m] = [rows[n:]] if len(rows) > n else []
        emitter = np.concatenate([taken[m] for m in layout.emitter], axis=1,
                                 dtype=np.float32)
        receiver = np.concatenate([taken[m] for m in layout.receiver], axis=1,
                                  dtype=np.float32)
        room = self.keep_frames - self.n_kept
        if room > 0:
            self.kept[0].append(emitter[:room])
            self.kept[1].append(receiver[:room])
            self.n_kept += min(room, n)
        self.n_frames += n
        return emitter, receiver

    # -- output -----------------------------------------------------------------
    def finish(self, outputs, frame_rate):
        """Finished ``(frames, times, values)`` of the network outputs of the
        next frames (target units)."""
        return self._done(self.finisher.push(outputs), frame_rate)

    def flush_finisher(self, frame_rate):
        """The frames a lookahead held back."""
        return self._done(self.finisher.flush(), frame_rate)

    def _done(self, values, frame_rate):
        frames = np.arange(self.n_done, self.n_done + len(values))
        self.n_done += len(values)
        if self.deviation is not None and len(values):
            at = self.deviation[np.minimum(frames, len(self.deviation) - 1)]
            values = values + self.weight * at
        return frames, frames / frame_rate, values
