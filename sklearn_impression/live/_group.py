"""Many people at once: :class:`LiveGroup`."""

from __future__ import annotations

from collections import namedtuple
from numbers import Real

import numpy as np

from ..recordings._frames import DyadicFrames
from ._person import Layout, Person
from ._pipeline import check_causal

__all__ = ["LiveGroup", "LiveOutput"]

#: What every push returns per person: the finished frames' numbers (from the
#: stream's start), their times in seconds, and the predictions
#: ``(n_frames, n_outputs)`` (competence, warmth).
LiveOutput = namedtuple("LiveOutput", ["frames", "times", "values"])


def _empty(n_outputs):
    return LiveOutput(np.empty(0, np.int64), np.empty(0), np.empty((0, n_outputs)))


def _join_outputs(parts, n_outputs):
    parts = [p for p in parts if len(p.frames)]
    if not parts:
        return _empty(n_outputs)
    return LiveOutput(*(np.concatenate(x) for x in zip(*parts, strict=True)))


def _raise_not_finite(what, keys, lengths, values):
    bad = int(np.argwhere(~np.isfinite(values))[0, 0])
    person = int(np.searchsorted(np.cumsum(lengths), bad, side="right"))
    raise ValueError(f"person {keys[person]!r}: {what} features not finite after "
                     "resampling and normalisation (a value beyond the float32 "
                     "range?); the network needs finite features")


class LiveGroup:
    """Causal predictions of many people at once, one batched network step per
    :meth:`push`.

    Every person streams their own samples (the emitter's and theirs, each
    stream at its native rate, in chunks of any size); a frame is complete
    once every stream has a sample at or after its time. One push runs the
    network once on the complete frames of everyone. People join and leave
    at any time; each has their own resampling filters, running statistics,
    trailing window and enrolment. A receiver's running statistics carry over
    from one of their streams to the next (leave, then join again), as offline
    ``predict`` treats a receiver's recordings in order as one stream.

    Parameters
    ----------
    pipeline : Pipeline
        A fitted causal pipeline (:func:`make_live_pipeline`); any other
        raises :class:`NotCausalError` naming the step that is not causal.
    rates : dict of str to float
        Native sampling rate (Hz) of every modality the pipeline was fitted
        on (``"emitter.audio"``, ``"receiver.physio"``, ...).
    keep_seconds : float, default=60.0
        Seconds of each person's features kept from their start, for
        :meth:`enrol`.

    Examples
    --------
    >>> from sklearn_impression import CrossDomainRegressor, make_impression
    >>> from sklearn_impression.live import LiveGroup, make_live_pipeline
    >>> data = make_impression(3, 1, 8, random_state=0)
    >>> pipe = make_live_pipeline(CrossDomainRegressor(
    ...     hidden_size=4, num_heads=2, max_epochs=1, random_state=0))
    >>> pipe = pipe.fit(data.recordings, data.targets)
    >>> rec = data.recordings[0]
    >>> group = LiveGroup(pipe, {m: s.rate for m, s in rec.streams.items()})
    >>> group.join("a", receiver=rec.receiver)
    >>> half = {m: s.values[: len(s.values) // 2] for m, s in rec.streams.items()}
    >>> out = group.push({"a": half})["a"]
    >>> out.values.shape[1], bool(out.times[-1] < 4.0)
    (2, True)
    """

    def __init__(self, pipeline, rates, *, keep_seconds=60.0):
        resampler, concatenator, model = check_causal(pipeline)
        self.model = model
        self.layout = Layout.of(resampler, concatenator, model)
        self.rates = self._check_rates(rates)
        if not isinstance(keep_seconds, Real) or keep_seconds < 0:
            raise ValueError(f"keep_seconds must be a number >= 0, got "
                             f"{keep_seconds!r}")
        self.keep_frames = int(round(keep_seconds * self.layout.frame_rate))
        self.people = {}
        #: receiver -> running statistics carried from one of their streams to
        #: the next (leave, then join again: one stream, as offline)
        self.carried = {}

    def _check_rates(self, rates):
        if not isinstance(rates, dict):
            raise TypeError(f"rates must map each modality to its rate in Hz, got "
                            f"{type(rates).__name__}")
        missing = sorted(set(self.layout.modalities) - set(rates))
        extra = sorted(set(rates) - set(self.layout.modalities))
        if missing or extra:
            raise ValueError(f"rates must name exactly the modalities the pipeline "
                             f"was fitted on {list(self.layout.modalities)}; missing "
                             f"{missing}, unknown {extra}")
        for name, rate in rates.items():
            if (isinstance(rate, bool) or not isinstance(rate, Real)
                    or not np.isfinite(rate) or rate <= 0):
                raise ValueError(f"rate of {name!r} must be a positive number of Hz, "
                                 f"got {rate!r}")
        return {name: float(rate) for name, rate in rates.items()}

    @property
    def n_outputs(self):
        return self.model.regressor_.n_outputs_

    # -- people -------------------------------------------------------------------
    def join(self, key, *, receiver=None, stimulus=None):
        """Start streaming person ``key`` (any hashable) from time 0.

        ``receiver``: their id (kept statistics and an enrolment apply to it);
        ``stimulus``: what they watch (its training trace, for an enrolled
        receiver's stimulus term).
        """
        if key in self.people:
            raise ValueError(f"person {key!r} has already joined; leave first")
        for other, person in self.people.items():
            if receiver is not None and person.receiver == receiver:
                raise ValueError(f"receiver {receiver!r} is already streaming as "
                                 f"person {other!r}; one stream per receiver")
        person = Person(self.layout, self.rates, receiver, stimulus, self.keep_frames)
        person.configure(self.model.regressor_, self.model.steps_, self.carried)
        self.people[key] = person

    def leave(self, key, *, n_frames=None):
        """End person ``key``'s streams and return their last predictions
        (:meth:`flush`); their state is dropped."""
        out = self.flush(key, n_frames=n_frames)
        del self.people[key]
        return out

    def _person(self, key):
        if key not in self.people:
            raise KeyError(f"person {key!r} has not joined (joined: "
                           f"{list(self.people)})")
        return self.people[key]

    # -- streaming ------------------------------------------------------------------
    def _check_chunks(self, key, chunks):
        if not isinstance(chunks, dict):
            raise TypeError(f"person {key!r}: chunks must map stream names to "
                            f"samples, got {type(chunks).__name__}")
        checked = {}
        for name, samples in chunks.items():
            if name not in self.layout.channels:
                raise ValueError(f"person {key!r}: unknown stream {name!r}; the "
                                 f"pipeline's are {list(self.layout.modalities)}")
            values = np.asarray(samples, dtype=np.float64)
            width = len(self.layout.channels[name])
            if values.ndim == 1 and width == 1:
                values = values[:, None]
            if values.ndim != 2 or values.shape[1] != width:
                raise ValueError(f"person {key!r}, stream {name!r}: samples must "
                                 f"have shape (n, {width}), got {values.shape}")
            if np.isinf(values).any():
                raise ValueError(f"person {key!r}, stream {name!r}: infinite "
                                 "sample values")
            checked[name] = values
        return checked

    def push(self, chunks):
        """Add samples and return every frame finished since the last call.

        Parameters
        ----------
        chunks : dict
            ``{person: {stream: samples}}``; ``samples`` of shape
            ``(n, n_channels)`` at the stream's native rate (any ``n``,
            also 0); streams and people may be missing from a call.

        Returns
        -------
        dict
            ``{person: LiveOutput(frames, times, values)}`` for every person
            in ``chunks``.
        """
        checked = {key: self._check_chunks(key, c) for key, c in chunks.items()}
        for key, person_chunks in checked.items():
            self._person(key).push(person_chunks)
        return self._advance(list(checked))

    def flush(self, key=None, *, n_frames=None):
        """End the streams of ``key`` (``None``: everyone): frames of a stream
        that stopped early up to ``n_frames`` (holding its last value, when
        given), then the frames a lookahead held back. Returns ``{person:
        LiveOutput}`` (``key`` given: its LiveOutput)."""
        keys = list(self.people) if key is None else [key]
        for k in keys:
            if n_frames is not None:
                self._person(k).flush_streams(n_frames)
        out = self._advance(keys)
        for k in keys:
            rest = self.people[k].flush_finisher(self.layout.frame_rate)
            out[k] = _join_outputs([out[k], LiveOutput(*rest)], self.n_outputs)
        return out[key] if key is not None else out

    def _advance(self, keys):
        """One network step on the complete frames of ``keys``."""
        ready = []
        for key in keys:
            blocks = self._person(key).take(self.layout)
            if blocks is not None:
                ready.append((key, *blocks))
        out = {key: _empty(self.n_outputs) for key in keys}
        if not ready:
            return out
        outputs = self._network(ready)
        for (key, _, _), values in zip(ready, outputs, strict=True):
            out[key] = LiveOutput(*self.people[key].finish(values,
                                                           self.layout.frame_rate))
        return out

    def _network(self, ready):
        """The outputs (target units) of everyone's complete frames: their
        receiver features standardised causally, then one network step."""
        from ..recordings._flat import Frames
        from ..regressor._causal import normalize_blocks
        from ..regressor._predict import frame_outputs, listener_rows

        regressor = self.model.regressor_
        keys = [key for key, _, _ in ready]
        people = [self.people[key] for key in keys]
        receivers = [p.receiver for p in people]
        blocks = normalize_blocks([r for _, _, r in ready], receivers,
                                  regressor.normalize_by,
                                  regressor.listeners_.statistics,
                                  self.model.steps_.halflife,
                                  running=[p.running for p in people])
        emitter = np.concatenate([e for _, e, _ in ready])
        receiver = np.concatenate(blocks)
        for what, values in (("emitter", emitter), ("receiver", receiver)):
            if not np.isfinite(values).all():
                _raise_not_finite(what, keys, [len(b) for b in blocks], values)
        lengths = np.array([len(b) for b in blocks], dtype=np.int64)
        stimuli = [p.stimulus for p in people]
        frames = Frames(emitter, receiver, np.arange(len(emitter), dtype=np.int64),
                        lengths, receivers=receivers, stimuli=stimuli)
        rows, traced = listener_rows(regressor, receivers, stimuli, warn=False)
        y = frame_outputs(regressor, frames, rows, traced)
        return np.split(y, np.cumsum(lengths)[:-1])

    def reset(self, key=None):
        """Back to the start of the streams of ``key`` (``None``: everyone),
        keeping who they are (enrolments stay in the model; the running
        statistics start again)."""
        for k in (list(self.people) if key is None else [key]):
            old = self._person(k)
            self.people.pop(k)
            self.carried.pop(old.receiver, None)
            self.join(k, receiver=old.receiver, stimulus=old.stimulus)

    # -- enrolment --------------------------------------------------------------------
    def enrol(self, key, y, **adapt_params):
        """Enrol person ``key`` from the labels ``y`` of their first frames,
        without stopping anyone's stream.

        ``y`` (``(n, n_outputs)``) labels the first ``n`` frames of their
        stream (at most ``keep_seconds``, all of them already streamed). The
        model's :meth:`CausalRegressor.adapt` fits their parameters (other
        people are unaffected); their next frames use them (the trailing
        window restarts). Returns the frames a lookahead held back.
        """
        person = self._person(key)
        if person.receiver is None:
            raise ValueError(f"person {key!r} joined without a receiver id; "
                             "enrolment needs one")
        y = np.asarray(y, dtype=np.float64)
        kept = sum(len(b) for b in person.kept[0])
        if y.ndim != 2 or y.shape[1] != self.n_outputs or not 0 < len(y) <= kept:
            raise ValueError(f"person {key!r}: y must have shape (n, "
                             f"{self.n_outputs}) with 0 < n <= {kept} (the frames "
                             f"kept so far), got {y.shape}")
        emitter = np.concatenate(person.kept[0])[:len(y)]
        receiver = np.concatenate(person.kept[1])[:len(y)]
        X = DyadicFrames([emitter], [receiver], [0], self.layout.emitter_names,
                         self.layout.receiver_names,
                         receivers=[person.receiver], stimuli=[person.stimulus],
                         label_rate=self.layout.frame_rate)
        self.model.adapt(X, [y], **adapt_params)
        held = LiveOutput(*person.flush_finisher(self.layout.frame_rate))
        person.configure(self.model.regressor_, self.model.steps_, self.carried)
        return held
