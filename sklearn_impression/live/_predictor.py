"""One person, live: :class:`LivePredictor`."""

from __future__ import annotations

from ._group import LiveGroup

__all__ = ["LivePredictor"]

_ME = "person"


class LivePredictor:
    """Causal, frame-by-frame impressions of one person while the interaction
    runs.

    Push each stream's new samples as they arrive (any chunk size, streams
    arriving with different delays); every call returns the predictions of
    the frames completed since the last one, with their times. The
    predictions equal the pipeline's ``predict`` on the whole recording (up
    to float32 rounding): the causal pipeline reads nothing after a frame
    (plus its ``lookahead``). Memory stays bounded however long the stream
    runs; the object pickles mid-stream and continues where it stopped.

    Parameters
    ----------
    pipeline : Pipeline
        A fitted causal pipeline (:func:`make_live_pipeline`); any other
        raises :class:`NotCausalError` naming the step that is not causal.
    rates : dict of str to float
        Native sampling rate (Hz) of every modality the pipeline was fitted on.
    receiver, stimulus : hashable, default=None
        Who is watching and what (see :meth:`LiveGroup.join`).
    keep_seconds : float, default=60.0
        Seconds of features kept from the start for :meth:`enrol`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_impression import CrossDomainRegressor, make_impression
    >>> from sklearn_impression.live import LivePredictor, make_live_pipeline
    >>> data = make_impression(3, 1, 8, random_state=0)
    >>> pipe = make_live_pipeline(CrossDomainRegressor(
    ...     hidden_size=4, num_heads=2, max_epochs=1, random_state=0))
    >>> pipe = pipe.fit(data.recordings, data.targets)
    >>> rec = data.recordings[0]
    >>> live = LivePredictor(pipe, {m: s.rate for m, s in rec.streams.items()},
    ...                      receiver=rec.receiver)
    >>> parts = [live.push({m: s.values[i * len(s.values) // 4:
    ...                                 (i + 1) * len(s.values) // 4]
    ...                     for m, s in rec.streams.items()}) for i in range(4)]
    >>> streamed = np.concatenate([p.values for p in parts]
    ...                           + [live.flush(n_frames=rec.n_frames).values])
    >>> offline = pipe.predict([rec])[0]
    >>> bool(np.abs(streamed - offline).max() < 1e-5)
    True
    """

    def __init__(self, pipeline, rates, *, receiver=None, stimulus=None,
                 keep_seconds=60.0):
        self.group = LiveGroup(pipeline, rates, keep_seconds=keep_seconds)
        self.group.join(_ME, receiver=receiver, stimulus=stimulus)

    @property
    def frame_rate(self):
        """Label frames per second."""
        return self.group.layout.frame_rate

    def push(self, chunks):
        """Add samples ``{stream: (n, n_channels)}``; return a
        :class:`LiveOutput` ``(frames, times, values)`` of the frames finished."""
        return self.group.push({_ME: chunks})[_ME]

    def flush(self, *, n_frames=None):
        """End the streams (a stream that stopped early holds its last value up
        to ``n_frames``) and return the last frames."""
        return self.group.flush(_ME, n_frames=n_frames)

    def reset(self):
        """Back to the start of the stream (an enrolment stays in the model)."""
        self.group.reset(_ME)

    def enrol(self, y, **adapt_params):
        """Enrol this person from the labels of their first ``len(y)`` frames
        (:meth:`LiveGroup.enrol`); the stream goes on."""
        return self.group.enrol(_ME, y, **adapt_params)
