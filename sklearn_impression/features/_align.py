"""One timeline for streams that start and stop at different times.

A :class:`TimedStream` is a :class:`~sklearn_impression.Stream` plus the time of its
first sample on the session timeline (the stimulus video's clock, on which the
annotation is timed). :func:`align_streams` cuts every timed stream to the
annotation's span, so that all streams of a recording start at the first label frame
and last as long as the labels.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..recordings._recording import FrozenSlots, Stream

__all__ = ["TimedStream", "align_streams"]


class TimedStream(FrozenSlots):
    """A :class:`~sklearn_impression.Stream` placed on a session timeline.

    Parameters
    ----------
    stream : Stream
        The samples, at ``stream.rate`` Hz.
    start : float
        Time in seconds, on the session timeline, of the first sample.
    source : str, default=""
        Where the samples came from (a file name), used in error messages.

    Attributes
    ----------
    stream : Stream
    start : float
    source : str

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_impression import Stream
    >>> ts = TimedStream(Stream(np.zeros((50, 1)), rate=100), start=-0.25)
    >>> ts.stop
    0.25
    """

    __slots__ = ("stream", "start", "source")

    def __init__(self, stream, start=0.0, source=""):
        if not isinstance(stream, Stream):
            raise TypeError(f"TimedStream needs a Stream, got {type(stream).__name__}")
        if isinstance(start, bool) or not isinstance(start, numbers.Real) or \
                not math.isfinite(start):
            raise ValueError(f"{source or 'stream'}: start time must be a finite "
                             f"number of seconds, got {start!r}")
        object.__setattr__(self, "stream", stream)
        object.__setattr__(self, "start", float(start))
        object.__setattr__(self, "source", str(source))

    @property
    def stop(self):
        """Time in seconds just after the last sample, ``start + duration``."""
        return self.start + self.stream.duration

    def __repr__(self):
        return (f"TimedStream({self.stream!r}, start={self.start:g}, "
                f"source={self.source!r})")


def align_streams(streams, span, *, tolerance):
    """Cut timed streams to a span of the session timeline.

    Sample ``k`` of a stream is at time ``start + k / rate``. The samples kept are
    those nearest the span's start, for the span's duration; the cut is at most
    half a sample away from the span's start (``shift`` in the returned record).
    A stream that misses at most ``tolerance`` seconds at either end of the span is
    padded by repeating its first or last sample, and the padding is recorded; one
    that misses more raises.

    Parameters
    ----------
    streams : mapping of str to TimedStream
        Modality name to timed stream.
    span : tuple of (float, float)
        ``(start, stop)`` in seconds on the session timeline, e.g. the annotation's.
    tolerance : float
        Seconds a stream may miss at either end (one label frame is the usual
        choice: the :class:`~sklearn_impression.Resampler` allows the same).

    Returns
    -------
    aligned : dict of str to Stream
        The cut streams, each ``round((stop - start) * rate)`` samples long.
    record : dict of str to dict
        Per modality: ``source``, ``rate``, the stream's own ``start`` and ``stop``
        on the timeline, ``first_sample`` (index of the first sample kept, negative
        when padded), ``shift`` (time of the first kept sample minus the span's
        start, below half a sample), ``padded_start`` and ``padded_stop`` (seconds
        of repeated samples added).

    Raises
    ------
    ValueError
        Naming the modality, its source and the times, when a stream does not cover
        the span to within ``tolerance``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_impression import Stream
    >>> physio = TimedStream(Stream(np.arange(1000.0), rate=100), start=-3.0)
    >>> aligned, record = align_streams({"receiver.physio": physio}, (0.0, 4.0),
    ...                                 tolerance=0.04)
    >>> aligned["receiver.physio"].values[:2, 0], record["receiver.physio"]["shift"]
    (array([300., 301.]), 0.0)
    """
    start, stop = (float(t) for t in span)
    if not stop > start:
        raise ValueError(f"span must have stop > start, got {span!r}")
    aligned, record = {}, {}
    for name, timed in streams.items():
        if not isinstance(timed, TimedStream):
            raise TypeError(f"stream {name!r} must be a TimedStream, got "
                            f"{type(timed).__name__}")
        stream = timed.stream
        where = f"{name!r} ({timed.source})" if timed.source else repr(name)
        missing_start = timed.start - start
        missing_stop = stop - timed.stop
        if missing_start > tolerance + 1e-9 or missing_stop > tolerance + 1e-9:
            raise ValueError(
                f"stream {where} covers t = {timed.start:.3f} .. {timed.stop:.3f} s "
                f"but the annotation spans t = {start:.3f} .. {stop:.3f} s: it misses "
                f"{max(missing_start, missing_stop):.3f} s at the "
                f"{'start' if missing_start > missing_stop else 'end'}, more than "
                f"the tolerance of {tolerance:g} s"
            )
        rate = stream.rate
        first = int(round((start - timed.start) * rate))
        n = int(round((stop - start) * rate))
        idx = np.clip(np.arange(first, first + n), 0, stream.n_samples - 1)
        values = np.asarray(stream.values)
        if first >= 0 and first + n <= stream.n_samples:
            cut = values[first:first + n]  # a view: no copy when nothing is padded
        else:
            cut = values[idx]
        aligned[name] = Stream(cut, rate, stream.channels)
        record[name] = {
            "source": timed.source, "rate": rate, "start": timed.start,
            "stop": timed.stop, "first_sample": first,
            "shift": round(timed.start + first / rate - start, 9),
            "padded_start": max(0, -first) / rate,
            "padded_stop": max(0, first + n - stream.n_samples) / rate,
        }
    return aligned, record
