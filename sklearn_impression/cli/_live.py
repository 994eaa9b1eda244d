"""``sklearn-impression live``: causal predictions frame by frame, as JSON lines.

Part of :mod:`sklearn_impression.cli`. The model is a fitted causal pipeline
(:func:`~sklearn_impression.live.make_live_pipeline`, saved by ``save_model`` or
joblib); any other is refused before any data is read, with the
:class:`~sklearn_impression.live.NotCausalError` message naming the step. A
:class:`~sklearn_impression.live.LivePredictor` then takes the feature streams
chunk by chunk from one of two sources:

* ``--data FOLDER --session RECEIVER/STIMULUS``: one recording of a raw-session
  folder (``manifest.csv``, :func:`~sklearn_impression.features.load_raw_sessions`).
  A manifest row is one receiver watching one stimulus, so a session is named
  ``RECEIVER/STIMULUS`` as written in the manifest (``p01/s1``); a receiver alone
  names the only row of that receiver. Only that row's files are read. The
  feature extraction (openSMILE for audio, NeuroKit2 for physiology, the CSV
  readers) runs on the whole files first, and openSMILE's analysis windows reach
  a little past each feature's time: the live part starts from the feature
  streams. Failed tracking stays NaN and the causal Resampler holds the last
  value (the loader's interpolation would read the future). Chunk ``k`` pushes
  every stream's samples time-stamped at or before ``k * --chunk`` seconds
  (computed from the cumulative time, so streams stay aligned; default one
  label frame, 0.04 s at 25 Hz), as fast as possible, or with ``--realtime`` at
  the recording's own pace (sleeping until each chunk's time); the end flushes
  the recording's frames.
* ``--stdin``: JSON lines from a dialogue system, one object a line (blank lines
  skipped; an error names the line number):

  - first, a header: ``{"rates": {"emitter.audio": 100, ...}, "receiver": "p01",
    "stimulus": null}``, the native rate in Hz of every stream the model was
    fitted on; ``receiver``/``stimulus`` optional (ids as the loaders read them:
    all-digit text is an integer);
  - then any number of ``{"stream": NAME, "samples": [[...], ...]}`` or
    ``{"streams": {NAME: samples, ...}}``: new samples at the stream's native
    rate, each a list of channel values (a flat list for a one-channel stream),
    ``null`` for a missing value; any number of samples, streams in any order;
  - optionally ``{"end": true, "n_frames": N}``: the streams end (``n_frames``
    optional: a stream that stopped early is held to ``N`` frames); nothing may
    follow. End of input without it flushes what the streams completed.

Output: one JSON line per finished frame, ``{"frame": k, "time": t,
"competence": ..., "warmth": ..., "latency_ms": ...}``, to ``--out`` or stdout
(flushed after each push with ``--stdin`` or ``--realtime``); ``latency_ms`` is
the wall time of the push (or flush) that finished the frame, not counting the
reading and parsing of the input. Progress goes to stderr about every 5 s
unless ``--quiet``; a summary line (frames, wall time, latency p50/p95/p99 over
the frames) always ends the run, also when it is interrupted (exit status 130).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import tempfile
import time
from array import array
from contextlib import nullcontext
from pathlib import Path

import numpy as np

__all__ = ["add_live_parser", "run_live"]

_PROGRESS_SECONDS = 5.0
_DESCRIPTION = """\
Causal predictions of a live pipeline, one JSON line per finished frame:
{"frame": k, "time": t, "competence": ..., "warmth": ..., "latency_ms": ...}.
With --data the features are extracted from the whole files first (openSMILE,
NeuroKit2); the live part replays the feature streams chunk by chunk."""
_EPILOG = """\
--stdin protocol (JSON lines; an error names the line number):
  {"rates": {"emitter.audio": 100, ...}, "receiver": "p01", "stimulus": null}
  {"stream": "emitter.audio", "samples": [[...], ...]}     (any number, any order)
  {"streams": {"receiver.physio": [[...], ...], ...}}      (several at once)
  {"end": true, "n_frames": 100}                           (optional, last)
Samples at the stream's native rate, each a list of channel values (null:
missing). The summary line (latency p50/p95/p99) goes to stderr."""


def add_live_parser(sub, positive_int, positive_float):
    """The ``live`` subcommand's parser."""
    live = sub.add_parser(
        "live", help="stream a causal model's predictions frame by frame (JSON "
                     "lines) from a raw session replayed or from stdin",
        description=_DESCRIPTION, epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    live.add_argument("--model", required=True,
                      help="a fitted causal pipeline (make_live_pipeline) saved "
                           "by save_model (.safetensors) or joblib")
    source = live.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", default=None, metavar="FOLDER",
                        help="a raw-session folder (manifest.csv; the 'features' "
                             "extra): its features are extracted from the whole "
                             "files, then replayed chunk by chunk")
    source.add_argument("--stdin", action="store_true",
                        help="read feature samples as JSON lines from stdin (the "
                             "protocol below)")
    live.add_argument("--session", default=None, metavar="RECEIVER/STIMULUS",
                      help="with --data: the manifest row, e.g. p01/s1 (a "
                           "receiver alone if it has one row)")
    live.add_argument("--realtime", action="store_true",
                      help="with --data: replay at the recording's own pace "
                           "(default: as fast as possible)")
    live.add_argument("--chunk", type=positive_float, default=None,
                      metavar="SECONDS",
                      help="with --data: seconds per push (default one label "
                           "frame, 0.04 s at 25 Hz)")
    live.add_argument("--out", default=None, metavar="FILE",
                      help="write the JSON lines to FILE (default stdout)")
    live.add_argument("--quiet", action="store_true",
                      help="no progress lines (the summary line still comes)")
    live.add_argument("--threads", type=positive_int, default=1,
                      help="torch CPU threads (default 1: a step of a few frames "
                           "is small)")
    return live


# -- the raw session ---------------------------------------------------------------
def _session_row(root, session):
    """Header, the manifest line number and the row named ``session``."""
    from ..features._sessions import MANIFEST

    path = root / MANIFEST
    if not path.is_file():
        raise ValueError(f"--data {root}: no {MANIFEST}; live replays a raw-session "
                         "folder (see load_raw_sessions)")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = [(k, [c.strip() for c in r]) for k, r in
                enumerate(csv.reader(handle), 1) if any(c.strip() for c in r)]
    if not rows or not {"receiver", "stimulus"} <= set(rows[0][1]):
        raise ValueError(f"{path}, line 1: no 'receiver' and 'stimulus' columns")
    header = rows[0][1]
    r, s = header.index("receiver"), header.index("stimulus")
    body = [(k, cells) for k, cells in rows[1:] if len(cells) > max(r, s)]
    names = [f"{cells[r]}/{cells[s]}" for _, cells in body]
    hits = [i for i, name in enumerate(names) if name == session]
    if not hits:
        hits = [i for i, (_, cells) in enumerate(body) if cells[r] == session]
        if len(hits) > 1:
            raise ValueError(f"--session {session}: the receiver has {len(hits)} "
                             f"sessions ({', '.join(names[i] for i in hits)}); "
                             "name one as RECEIVER/STIMULUS")
    if not hits:
        shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        raise ValueError(f"--session {session}: no such session in {path} (sessions "
                         f"are RECEIVER/STIMULUS: {shown or 'none'})")
    line, cells = body[hits[0]]
    if len(cells) != len(header):
        raise ValueError(f"{path}, line {line}: {len(cells)} cells, the header has "
                         f"{len(header)}")
    return header, line, cells


def load_session(folder, session):
    """The :class:`Recording` of one manifest row (NaN kept for the causal
    Resampler to hold), read through a one-row manifest of absolute paths."""
    from ..features import load_raw_sessions
    from ..features._sessions import _ID_COLUMNS, _SUFFIXES, MANIFEST

    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"--data {folder}: no such folder")
    header, line, cells = _session_row(root, session)
    files = [c == "labels" or (c not in _ID_COLUMNS and not c.endswith(_SUFFIXES))
             for c in header]
    row = [str((root / cell).resolve()) if is_file and cell else cell
           for is_file, cell in zip(files, cells, strict=True)]
    with tempfile.TemporaryDirectory(prefix="sklearn-impression-live-") as tmp:
        with open(Path(tmp) / MANIFEST, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([header, row])
        try:
            data = load_raw_sessions(tmp, nan_policy="keep")
        except ValueError as exc:
            text = str(exc).replace(f"{MANIFEST}, line 2", f"{MANIFEST}, line {line}"
                                    ).replace(tmp, str(root))
            raise ValueError(f"--data {folder}: {text}") from None
    return data.recordings[0]


# -- output ------------------------------------------------------------------------
class _Frames:
    """Writes the finished frames as JSON lines; keeps their latencies."""

    def __init__(self, handle, names, frame_rate, progress, flush):
        self.handle, self.names, self.frame_rate = handle, names, frame_rate
        self.progress, self.flush = progress, flush
        self.latencies = array("d")  # ms per frame: 8 bytes a frame
        self.n_pushes = 0
        self.start = self.reported = time.perf_counter()

    def timed(self, call, *args, **kwargs):
        """Run a push or flush, write its frames; return its output."""
        begin = time.perf_counter()
        out = call(*args, **kwargs)
        latency = (time.perf_counter() - begin) * 1000.0
        self.n_pushes += 1
        self.write(out, latency)
        return out

    def write(self, out, latency):
        lines = []
        for k, t, row in zip(out.frames, out.times, out.values, strict=True):
            record = {"frame": int(k), "time": float(t)}
            record.update(zip(self.names, map(float, row), strict=True))
            record["latency_ms"] = round(latency, 4)
            lines.append(json.dumps(record) + "\n")
        if lines:
            self.handle.write("".join(lines))
            if self.flush:
                self.handle.flush()
            self.latencies.extend([latency] * len(lines))
        now = time.perf_counter()
        if now - self.reported >= _PROGRESS_SECONDS:
            self.reported = now
            self.progress(f"{len(self.latencies)} frames "
                          f"({len(self.latencies) / self.frame_rate:.1f} s of "
                          f"stream) in {now - self.start:.1f} s; "
                          f"{self._percentiles()}")

    def _percentiles(self):
        if not len(self.latencies):
            return "no frames yet"
        p50, p95, p99 = np.percentile(np.frombuffer(self.latencies), [50, 95, 99])
        return f"latency p50 {p50:.2f} ms, p95 {p95:.2f} ms, p99 {p99:.2f} ms"

    def summary(self, interrupted=False):
        n = len(self.latencies)
        return (f"[live] {'interrupted: ' if interrupted else ''}{n} frames "
                f"({n / self.frame_rate:.2f} s of stream, {self.n_pushes} pushes) in "
                f"{time.perf_counter() - self.start:.2f} s wall; "
                f"{self._percentiles()} (per frame: its push's wall time)")


def _output_names(n_outputs):
    from ..recordings._constants import TARGET_NAMES

    if n_outputs == len(TARGET_NAMES):
        return list(TARGET_NAMES)
    return [f"output_{j}" for j in range(n_outputs)]


# -- the two sources -----------------------------------------------------------------
def _replay(predictor, rec, modalities, chunk, realtime, frames):
    """Push the recording's streams chunk by chunk, then flush its frames."""
    streams = {m: np.asarray(rec.streams[m].values) for m in modalities}
    rates = {m: rec.streams[m].rate for m in modalities}
    sent = dict.fromkeys(modalities, 0)
    start = time.perf_counter()
    k = 0
    while any(sent[m] < len(streams[m]) for m in modalities):
        t = k * chunk
        if realtime:
            time.sleep(max(0.0, start + t - time.perf_counter()))
        part = {}
        for m, values in streams.items():
            stop = min(len(values), math.floor(t * rates[m] + 1e-6) + 1)
            if stop > sent[m]:
                part[m], sent[m] = values[sent[m]:stop], stop
        if part:
            frames.timed(predictor.push, part)
        k += 1
    frames.timed(predictor.flush, n_frames=rec.n_frames)


def _as_id(value, what):
    from ..recordings._csv import _as_id as from_text

    if value is None or isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        return from_text(value)
    raise ValueError(f"{what} must be a string, an integer or null, got "
                     f"{json.dumps(value)}")


def _check_keys(message, allowed, what):
    unknown = sorted(set(message) - set(allowed))
    if unknown:
        raise ValueError(f"{what}: unknown keys {unknown} (allowed: "
                         f"{sorted(allowed)})")


class _StdinSession:
    """The protocol of ``--stdin``, one parsed line at a time."""

    def __init__(self, pipeline, make_frames, progress):
        self.pipeline, self.make_frames, self.progress = pipeline, make_frames, progress
        self.predictor = self.frames = None
        self.ended = False

    def header(self, message):
        from ..live import LivePredictor

        if not isinstance(message, dict) or "rates" not in message:
            raise ValueError('the first line must be a header {"rates": {stream: Hz, '
                             '...}, "receiver": ..., "stimulus": ...}')
        _check_keys(message, ("rates", "receiver", "stimulus"), "header")
        self.predictor = LivePredictor(
            self.pipeline, message["rates"],
            receiver=_as_id(message.get("receiver"), "receiver"),
            stimulus=_as_id(message.get("stimulus"), "stimulus"))
        self.frames = self.make_frames(self.predictor.frame_rate)
        self.progress(f"header read: {len(message['rates'])} streams, receiver "
                      f"{message.get('receiver')!r}")

    def handle(self, message):
        if self.predictor is None:
            return self.header(message)
        if self.ended:
            raise ValueError('a line after the end line {"end": true}')
        if not isinstance(message, dict):
            raise ValueError(f"expected a JSON object, got {type(message).__name__}")
        if "end" in message:
            _check_keys(message, ("end", "n_frames"), "end line")
            n = message.get("n_frames")
            if message["end"] is not True or not (
                    n is None or isinstance(n, int) and not isinstance(n, bool)
                    and n >= 1):
                raise ValueError('an end line is {"end": true} or {"end": true, '
                                 f'"n_frames": N >= 1}}, got {json.dumps(message)}')
            self.ended = True
            return self.frames.timed(self.predictor.flush, n_frames=n)
        if "streams" in message:
            _check_keys(message, ("streams",), "a streams line")
            chunks = message["streams"]
            if not isinstance(chunks, dict):
                raise ValueError('"streams" must map stream names to samples')
        elif "stream" in message:
            _check_keys(message, ("stream", "samples"), "a stream line")
            if "samples" not in message:
                raise ValueError('a stream line needs "samples"')
            chunks = {message["stream"]: message["samples"]}
        else:
            raise ValueError('expected {"stream": NAME, "samples": [...]}, {"streams":'
                             ' {...}} or {"end": true}, got keys '
                             f"{sorted(message)}")
        rates = self.predictor.group.rates
        for name, samples in chunks.items():
            if name not in rates:
                raise ValueError(f"unknown stream {name!r}; the header's are "
                                 f"{sorted(rates)}")
            try:
                chunks[name] = np.asarray(samples, dtype=np.float64)
            except (ValueError, TypeError):
                raise ValueError(f"stream {name!r}: samples must be a list of "
                                 "samples, each a list of numbers (null for a "
                                 "missing value)") from None
        return self.frames.timed(self.predictor.push, chunks)

    def finish(self):
        if self.predictor is None:
            raise ValueError('stdin: no header line {"rates": {...}} before the end '
                             "of input")
        if not self.ended:
            self.frames.timed(self.predictor.flush)


def _read_stdin(session, lines):
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text:
            continue
        try:
            message = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"stdin line {number}: not JSON ({exc.msg}, column "
                             f"{exc.colno})") from None
        try:
            session.handle(message)
        except (ValueError, TypeError, KeyError) as exc:
            text = str(exc).replace("person 'person', ", "").replace(
                "person 'person': ", "")
            raise ValueError(f"stdin line {number}: {text}") from None
    session.finish()


# -- the command ---------------------------------------------------------------------
def run_live(args, load_model_file, progress):
    """Run ``sklearn-impression live``; return the summary line."""
    from ..live import LivePredictor, check_causal

    if args.data is not None and args.session is None:
        raise ValueError("--data needs --session RECEIVER/STIMULUS (a row of its "
                         "manifest.csv)")
    if args.stdin:
        given = [o for o, v in (("--session", args.session is not None),
                                ("--realtime", args.realtime),
                                ("--chunk", args.chunk is not None)) if v]
        if given:
            raise ValueError(f"{', '.join(given)}: only with --data (with --stdin "
                             "the input's lines are the chunks)")
    model, kind = load_model_file(args.model)
    try:
        resampler, _, regressor = check_causal(model)
    except (ValueError, TypeError) as exc:  # NotCausalError is a ValueError
        raise ValueError(f"--model {args.model}: {exc}") from None
    names = _output_names(regressor.regressor_.n_outputs_)
    progress(f"loaded causal model {args.model} ({kind})")
    rec = None
    if args.data is not None:
        start = time.perf_counter()
        rec = load_session(args.data, args.session)
        missing = sorted(set(resampler.modalities_) - set(rec.streams))
        if missing:
            raise ValueError(f"--session {args.session}: no {missing} streams, which "
                             "the model was fitted on")
        progress(f"session {args.session}: {rec.n_frames} frames "
                 f"({rec.n_frames / rec.frame_rate:.1f} s); features extracted from "
                 f"the whole files in {time.perf_counter() - start:.1f} s; replaying "
                 + ("at the recording's pace" if args.realtime else "as fast as "
                    "possible"))
    context = (open(args.out, "w", encoding="utf-8") if args.out  # noqa: SIM115
               else nullcontext(sys.stdout))
    flush = args.stdin or args.realtime

    made = []

    def make_frames(frame_rate):
        made.append(_Frames(handle, names, frame_rate, progress, flush))
        return made[-1]

    with context as handle:
        try:
            if rec is None:
                _read_stdin(_StdinSession(model, make_frames, progress), sys.stdin)
            else:
                modalities = list(resampler.modalities_)
                predictor = LivePredictor(
                    model, {m: rec.streams[m].rate for m in modalities},
                    receiver=rec.receiver, stimulus=rec.stimulus)
                frames = make_frames(predictor.frame_rate)
                chunk = args.chunk or 1.0 / predictor.frame_rate
                _replay(predictor, rec, modalities, chunk, args.realtime, frames)
        except KeyboardInterrupt:
            if made:
                print(made[-1].summary(interrupted=True), file=sys.stderr, flush=True)
            raise SystemExit(130) from None
    summary = made[-1].summary()
    print(summary, file=sys.stderr, flush=True)
    return summary
