"""Bad input, end to end: every case gets an error naming what is wrong.

One table per stage (streams and recordings, targets, predict time, released-layout
files); each row is one bad input, the exception type and a message fragment. Rows
marked ``xfail(strict=True)`` are known bugs (see the reason): they flip to passing
when fixed. Property tests drive the Resampler and the CCC with random shapes, rates
and values. ``tests/test_datasets.py`` covers the malformed ``sti.csv`` variants and
the participant file's ragged/index cases; the file table here covers the others.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline

from sklearn_impression import (
    ModalityConcatenator,
    Recording,
    Resampler,
    Stream,
)
from sklearn_impression.datasets import load_impression
from sklearn_impression.metrics import ccc_score

torch = pytest.importorskip("torch")

from sklearn_impression.regressor import CrossDomainRegressor  # noqa: E402

from _builders import tiny_net  # noqa: E402

TINY = tiny_net(max_epochs=1)
N = 20  # label frames per recording


# -- tiny hand-made recordings -------------------------------------------------------
def _audio(stimulus):
    rng = np.random.default_rng(100 + stimulus)
    return Stream(rng.normal(size=(4 * N, 2)), 100, ["mfcc_1", "mfcc_2"])


AUDIO = {s: _audio(s) for s in (0, 1)}  # shared by all recordings of a stimulus


def recording(i, **streams):
    """Recording ``i``: emitter audio 100 Hz, receiver physio 50 Hz, eye 25 Hz."""
    rng = np.random.default_rng(i)
    base = {"emitter.audio": AUDIO[i % 2],
            "receiver.physio": Stream(rng.normal(size=(2 * N, 1)), 50, ["gsr"]),
            "receiver.eye": Stream(rng.normal(size=(N, 2)), 25, ["gx", "gy"])}
    base.update(streams)
    base = {k: v for k, v in base.items() if v is not None}
    return Recording(base, N, receiver=f"p{i}", stimulus=i % 2)


def recordings(n=3, **changes_of_last):
    return [recording(i) for i in range(n - 1)] + [recording(n - 1,
                                                             **changes_of_last)]


def targets(n=3):
    rng = np.random.default_rng(7)
    return [rng.normal(size=(N, 2)) for _ in range(n)]


def pipeline(nan_policy="raise", **model):
    return Pipeline([("resample", Resampler(nan_policy=nan_policy)),
                     ("concat", ModalityConcatenator()),
                     ("model", CrossDomainRegressor(**{**TINY, **model}))])


def with_values(values, rate=50, channels=("gsr",)):
    return Stream(values, rate, list(channels))


def nan_at(n, rows, cols=(0,), width=1, value=np.nan):
    x = np.random.default_rng(0).normal(size=(n, width))
    for r in rows:
        for c in cols:
            x[r, c] = value
    return x


def xfail(reason):
    return pytest.mark.xfail(strict=True, reason=reason)


def cases(rows):
    """``(id, *values)`` tuples or ``pytest.param(id, *values, marks=...)``."""
    out = []
    for row in rows:
        values, marks = (row.values, row.marks) if hasattr(row, "marks") else (row, ())
        out.append(pytest.param(*values[1:], id=values[0], marks=marks))
    return out


# -- 1. streams and recordings -------------------------------------------------------
# (id, build-and-run, exception, message fragment)
RECORDING_CASES = [
    ("nan-emitter-raise",
     lambda: pipeline().fit([recording(0), recording(1),
                             recording(2, **{"emitter.audio": Stream(
                                 nan_at(4 * N, [13], width=2), 100,
                                 ["mfcc_1", "mfcc_2"])})], targets()),
     ValueError, r"receiver='p2'.*'emitter.audio'.*'mfcc_1': NaN at sample 13.*"
                 "nan_policy='interpolate'"),
    ("nan-receiver-raise",
     lambda: pipeline().fit(recordings(**{"receiver.physio": with_values(
         nan_at(2 * N, [5, 6]))}), targets()),
     ValueError, r"receiver='p2'.*'receiver.physio'.*'gsr': NaN at sample 5"),
    ("nan-label-rate-stream-raise",  # already at 25 Hz: still checked
     lambda: pipeline().fit(recordings(**{"receiver.eye": Stream(
         nan_at(N, [3], cols=(1,), width=2), 25, ["gx", "gy"])}), targets()),
     ValueError, r"'receiver.eye', channel 'gy': NaN at sample 3"),
    ("inf-raise",
     lambda: pipeline().fit(recordings(**{"receiver.physio": with_values(
         nan_at(2 * N, [9], value=np.inf))}), targets()),
     ValueError, r"'gsr': inf at sample 9.*never interpolated"),
    ("minus-inf-interpolate",
     lambda: pipeline("interpolate").fit(recordings(**{"receiver.physio":
         with_values(nan_at(2 * N, [9], value=-np.inf))}), targets()),
     ValueError, r"'gsr': -inf at sample 9.*never interpolated"),
    ("all-nan-channel-interpolate",
     lambda: pipeline("interpolate").fit(recordings(**{"receiver.eye": Stream(
         nan_at(N, range(N), cols=(0,), width=2), 25, ["gx", "gy"])}), targets()),
     ValueError, r"receiver='p2'.*'receiver.eye', channel 'gx': every sample is NaN"),
    ("all-nan-channel-raise",
     lambda: pipeline().fit(recordings(**{"receiver.eye": Stream(
         nan_at(N, range(N), cols=(1,), width=2), 25, ["gx", "gy"])}), targets()),
     ValueError, r"'receiver.eye', channel 'gy': NaN at sample 0"),
    ("nan-skipping-resampler",  # label-rate NaN straight into concat + regressor
     lambda: Pipeline([("concat", ModalityConcatenator()),
                       ("model", CrossDomainRegressor(**TINY))]).fit(
         [Recording({"emitter.a": Stream(np.ones((N, 1)), 25),
                     "receiver.b": Stream(nan_at(N, [4]), 25)}, N, receiver="q")],
         [np.zeros((N, 2))]),
     ValueError, r"receiver features of recording 0 \(receiver='q'.*frame 4"),
    ("empty-stream",
     lambda: pipeline().fit(recordings(**{"receiver.physio": with_values(
         np.zeros((0, 1)))}), targets()),
     ValueError, r"receiver='p2'.*'receiver.physio': has no samples"),
    ("empty-1d-stream",
     lambda: pipeline().fit(recordings(**{"receiver.physio": with_values(
         np.zeros(0))}), targets()),
     ValueError, r"'receiver.physio': has no samples"),
    pytest.param(
        "zero-channel-stream",
        lambda: Resampler().fit(recordings(**{"receiver.physio": Stream(
            np.zeros((2 * N, 0)), 50)})),
        ValueError, "no channels"),
    ("zero-length-recording",
     lambda: recording(0).replace(n_frames=0), ValueError, "n_frames must be >= 1"),
    ("fractional-n-frames",
     lambda: recording(0).replace(n_frames=2.5), TypeError,
     "n_frames must be an integer, got 2.5"),
    ("string-values",
     lambda: Stream(np.array([["a"], ["b"]]), 25), TypeError,
     "values must be real numbers, got dtype <U1"),
    ("bytes-values",
     lambda: Stream(np.array([[b"a"]]), 25), TypeError, r"got dtype \|S1"),
    ("object-values",
     lambda: Stream(np.array([[1.0], [None]], dtype=object), 25), TypeError,
     "got dtype object"),
    ("complex-values",
     lambda: Stream(np.ones((4, 1)) + 1j, 25), TypeError,
     "complex values are not supported"),
    ("datetime-values",
     lambda: Stream(np.array(["2020-01-01"], dtype="datetime64[D]"), 25), TypeError,
     r"got dtype datetime64\[D\]"),
    ("ragged-values",
     lambda: Stream([[1.0, 2.0], [3.0]], 25), ValueError,
     "could not be read as an array"),
    ("3d-values",
     lambda: Stream(np.zeros((4, 2, 2)), 25), ValueError,
     r"must be 2-D \(n_samples, n_channels\), got shape \(4, 2, 2\)"),
    ("scalar-values",
     lambda: Stream(3.0, 25), ValueError, r"must be 2-D .*got shape \(\)"),
    ("channel-names-count",
     lambda: Stream(np.zeros((4, 2)), 25, ["a"]), ValueError,
     "1 channel names for 2 channels"),
    pytest.param(
        "duplicate-channel-names",
        lambda: Stream(np.zeros((4, 2)), 25, ["gx", "gx"]), ValueError,
        "duplicate channel name 'gx'"),
    ("modality-missing-in-one",
     lambda: pipeline().fit(recordings(**{"receiver.eye": None}), targets()),
     ValueError, r"receiver='p2'.*missing \['receiver.eye'\]"),
    ("modality-extra-in-one",
     lambda: pipeline().fit(recordings(**{"receiver.face": Stream(
         np.zeros((N, 1)), 25)}), targets()),
     ValueError, r"receiver='p2'.*unexpected \['receiver.face'\]"),
    ("channel-count-differs",
     lambda: pipeline().fit(recordings(**{"receiver.eye": Stream(
         np.zeros((N, 3)), 25, ["gx", "gy", "gz"])}), targets()),
     ValueError, r"receiver='p2'.*'receiver.eye': 3 channels.*differ from the 2"),
    ("no-receiver-stream",
     lambda: Recording({"emitter.a": Stream(np.zeros((4, 1)), 25)}, 4), ValueError,
     "has no receiver stream"),
    ("bad-modality-name",
     lambda: Recording({"audio": Stream(np.zeros((4, 1)), 25)}, 4), ValueError,
     "modality name 'audio' must look like"),
    ("array-instead-of-stream",
     lambda: Recording({"emitter.a": np.zeros((4, 1)),
                        "receiver.b": Stream(np.zeros((4, 1)), 25)}, 4),
     TypeError, "stream 'emitter.a' must be a Stream, got ndarray"),
    ("stream-too-short",
     lambda: pipeline().fit(recordings(**{"receiver.physio": with_values(
         np.zeros((N, 1)))}), targets()),
     ValueError, r"'receiver.physio': lasts 0.4000 s.*labels last 0.8000 s"),
    ("rate-zero", lambda: Stream(np.zeros((4, 1)), 0), ValueError,
     "rate must be finite and > 0 Hz, got 0.0"),
    ("rate-negative", lambda: Stream(np.zeros((4, 1)), -25), ValueError,
     "rate must be finite and > 0 Hz, got -25.0"),
    ("rate-nan", lambda: Stream(np.zeros((4, 1)), float("nan")), ValueError,
     "got nan"),
    ("rate-inf", lambda: Stream(np.zeros((4, 1)), np.inf), ValueError, "got inf"),
    ("rate-string", lambda: Stream(np.zeros((4, 1)), "25"), TypeError,
     "rate must be a real number in Hz, got '25'"),
    ("rate-bool", lambda: Stream(np.zeros((4, 1)), True), TypeError, "got True"),
    ("frame-rate-nan",
     lambda: recording(0).replace(frame_rate=float("nan")), ValueError,
     r"recording \(receiver='p0', stimulus=0\): rate must be finite"),
    ("frame-rate-zero",
     lambda: recording(0).replace(frame_rate=0), ValueError, "got 0.0"),
    ("x-empty-list", lambda: pipeline().fit([], []), ValueError,
     "needs at least one recording"),
    ("x-single-recording", lambda: pipeline().fit(recording(0), targets(1)[0]),
     TypeError, "sequence of Recording objects, got Recording"),
    ("x-array", lambda: pipeline().fit(np.zeros((N, 3)), targets(1)[0]), TypeError,
     "element 0 is a ndarray"),
    ("x-none-in-list", lambda: pipeline().fit([recording(0), None], targets(2)),
     TypeError, "element 1 is a NoneType"),
    pytest.param(
        "float32-overflow",  # finite float64 values beyond float32's range
        lambda: Resampler().fit_transform(recordings(**{"receiver.physio":
                                                        with_values(
            np.full((2 * N, 1), 1e39))})),
        ValueError, r"'receiver.physio'.*float32"),
]


def _run(build, error, match):
    with pytest.raises(error, match=match):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            build()


@pytest.mark.parametrize("build, error, match", cases(RECORDING_CASES))
def test_bad_recordings(build, error, match):
    _run(build, error, match)


def test_nan_interpolated_gaps_train_and_predict():
    gappy = nan_at(2 * N, [0, 7, 8, 39])  # gaps at the ends and in the middle
    X = recordings(**{"receiver.physio": with_values(gappy)})
    model = pipeline("interpolate").fit(X, targets())
    assert all(np.isfinite(p).all() for p in model.predict(X))
    assert np.isfinite(model[:1].transform(X)[2].streams["receiver.physio"]
                       .values).all()


# -- 2. targets ----------------------------------------------------------------------
def _bad_targets(edit):
    y = targets()
    edit(y)
    return y


TARGET_CASES = [
    ("fewer-target-arrays", lambda y: y.pop(), ValueError,
     "y has 2 target arrays for 3 recordings"),
    ("rows-short", lambda y: y.__setitem__(1, y[1][:-1]), ValueError,
     r"targets of recording 1 \(receiver='p1', stimulus=1\): 19 rows but the "
     "recording has 20 frames"),
    ("rows-long", lambda y: y.__setitem__(0, np.vstack([y[0], y[0][:1]])),
     ValueError, "21 rows but the recording has 20 frames"),
    ("columns-differ", lambda y: y.__setitem__(2, y[2][:, :1]), ValueError,
     r"recording 2 .*1 columns, earlier recordings have 2"),
    ("zero-columns", lambda y: [y.__setitem__(i, t[:, :0]) for i, t in
                                enumerate(list(y))],
     ValueError, "targets have no columns"),
    ("3d-targets", lambda y: y.__setitem__(0, y[0][:, :, None]), ValueError,
     r"must be \(n_frames, n_outputs\), got shape \(20, 2, 1\)"),
    ("nan-target", lambda y: y[1].__setitem__((4, 1), np.nan), ValueError,
     r"receiver='p1'.*NaN or inf at frame 4"),
    ("inf-target", lambda y: y[2].__setitem__((0, 0), -np.inf), ValueError,
     r"receiver='p2'.*NaN or inf at frame 0"),
    ("string-targets", lambda y: y.__setitem__(0, y[0].astype(str)), TypeError,
     "need real numbers, got dtype <U32"),
    ("complex-targets", lambda y: y.__setitem__(0, y[0] + 1j), TypeError,
     "got dtype complex128"),
    ("object-targets", lambda y: y.__setitem__(0, y[0].astype(object)), TypeError,
     "got dtype object"),
]


@pytest.mark.parametrize("edit, error, match", cases(TARGET_CASES))
def test_bad_targets(edit, error, match):
    y = _bad_targets(edit)
    with pytest.raises(error, match=match):
        pipeline().fit(recordings(), y)


def test_targets_none_or_stacked():
    with pytest.raises(ValueError, match="requires y to be passed"):
        pipeline().fit(recordings(), None)
    with pytest.raises(ValueError, match="list of per-recording target arrays, not "
                                         "one stacked array"):
        pipeline().fit(recordings(), np.vstack(targets()))


def test_constant_targets_train_and_score_zero():
    # Documented: a constant column gets scale 1 in the standardiser, training is
    # finite, and the CCC against a constant trace is 0.0 (1.0 only if both are the
    # same constant).
    X, y = recordings(), [np.full((N, 2), 3.0) for _ in range(3)]
    model = pipeline().fit(X, y)
    pred = model.predict(X)
    assert all(np.isfinite(p).all() for p in pred)
    assert np.isfinite(model[-1].history_[:, "train_loss"]).all()
    assert ccc_score(y, pred) == 0.0
    assert ccc_score(y, y) == 1.0


def test_overflowing_targets_named_before_training():
    with pytest.raises(ValueError, match="targets"):
        pipeline().fit(recordings(), [t * 1e300 for t in targets()])


# -- 3. predict time ---------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted():
    torch.set_num_threads(1)
    with torch.random.fork_rng():
        return pipeline().fit(recordings(), targets())


def _replace_last(**streams):
    return recordings(**streams)


PREDICT_CASES = [
    ("extra-modality", dict(**{"receiver.face": Stream(np.zeros((N, 1)), 25)}),
     ValueError, r"receiver='p2'.*differ from those seen in fit.*unexpected "
                 r"\['receiver.face'\]"),
    ("missing-modality", {"receiver.eye": None}, ValueError,
     r"receiver='p2'.*missing \['receiver.eye'\]"),
    ("renamed-channels", {"receiver.eye": Stream(np.zeros((N, 2)), 25, ["a", "b"])},
     ValueError, r"'receiver.eye': 2 channels \['a', 'b'\] differ from the 2 "
                 r"channels seen in fit \['gx', 'gy'\]"),
    ("more-channels", {"receiver.eye": Stream(np.zeros((N, 3)), 25)}, ValueError,
     "3 channels .* seen in fit"),
    ("nan-at-predict", {"receiver.eye": Stream(nan_at(N, [2], width=2), 25,
                                               ["gx", "gy"])},
     ValueError, r"'receiver.eye', channel 'gx': NaN at sample 2"),
    ("wrong-duration", {"receiver.physio": with_values(np.zeros((4 * N, 1)))},
     ValueError, "lasts 1.6000 s"),
]


@pytest.mark.parametrize("streams, error, match", cases(PREDICT_CASES))
def test_bad_input_at_predict(fitted, streams, error, match):
    with pytest.raises(error, match=match):
        fitted.predict(_replace_last(**streams))


def test_predict_other_feature_layout_and_not_fitted(fitted):
    model = fitted[-1]
    frames = fitted[:-1].transform(recordings())
    with pytest.raises(TypeError, match="fitted on DyadicFrames; predict needs "
                                        "DyadicFrames"):
        model.predict(frames.to_frames())
    with pytest.raises(ValueError, match="X has no recordings"):
        model.predict(frames[[]])
    for unfitted in (pipeline(), Resampler(), ModalityConcatenator(),
                     CrossDomainRegressor()):
        with pytest.raises(NotFittedError):
            unfitted.predict(recordings()) if hasattr(unfitted, "predict") \
                else unfitted.transform(recordings())


ARRAY_CASES = [  # the regressor on plain 2-D frames
    ("nan-X", lambda X, y: (np.where(X > 1.5, np.nan, X), y), ValueError,
     "Input X contains NaN"),
    ("inf-X", lambda X, y: (np.where(X > 1.5, np.inf, X), y), ValueError,
     "Input X contains infinity"),
    ("3d-X", lambda X, y: (X[:, :, None], y), ValueError, "Found array with dim 3"),
    ("string-X", lambda X, y: (np.full(X.shape, "a"), y), ValueError,
     "could not convert string to float"),
    ("complex-X", lambda X, y: (X + 1j, y), ValueError, "Complex data not supported"),
    ("empty-X", lambda X, y: (X[:0], y[:0]), ValueError, r"0 sample\(s\)"),
    ("one-feature", lambda X, y: (X[:, :1], y), ValueError,
     r"1 feature\(s\).*minimum of 2"),
    ("y-length", lambda X, y: (X, y[:-1]), ValueError,
     r"inconsistent numbers of samples: \[40, 39\]"),
    ("nan-y", lambda X, y: (X, np.where(y > 1, np.nan, y)), ValueError,
     "Input y contains NaN"),
]


@pytest.mark.parametrize("edit, error, match", cases(ARRAY_CASES))
def test_bad_arrays_for_the_regressor(edit, error, match):
    rng = np.random.default_rng(0)
    X, y = edit(rng.normal(size=(40, 4)), rng.normal(size=40))
    with pytest.raises(error, match=match):
        CrossDomainRegressor(**TINY).fit(X, y)


def test_bad_arrays_at_predict():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 4)), rng.normal(size=40)
    model = CrossDomainRegressor(**TINY).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but CrossDomainRegressor "
                                         "is expecting 4"):
        model.predict(X[:, :3])
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.predict(np.full((3, 4), np.nan))


# -- 4. released-layout files (cases tests/test_datasets.py lacks) --------------------
def write_csv(path, text, *, raw=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    if raw is not None:
        path.write_bytes(raw)
    else:
        path.write_text(text, newline="")


def layout(root):
    """Two participants watching sti.csv rows 0..3 (as in test_datasets)."""
    write_csv(root / "feats_stimuli" / "sti.csv",
              "a,b\n" + "".join(f"{i},{i + 0.5}\n" for i in range(4)))
    for p in (0, 1):
        write_csv(root / "feats_participant" / f"{p}.csv",
                  "x,idx\n" + "".join(f"{p + 0.25 * k},{k}\n" for k in range(4)))
        write_csv(root / "labels" / f"{p}.csv",
                  "competence,warmth\n" + "".join(f"{k},{-k}\n" for k in range(4)))


BOM = b"\xef\xbb\xbf"
FILE_CASES = [
    ("empty-participant", "feats_participant/0.csv", "", ValueError,
     r"feats_participant.0.csv, line 1: empty file"),
    ("blank-labels", "labels/0.csv", "  \n\n", ValueError,
     r"labels.0.csv, line 1: empty file"),
    ("header-only-labels", "labels/0.csv", "competence,warmth\n", ValueError,
     r"labels.0.csv, line 2: header only"),
    ("header-only-participant", "feats_participant/1.csv", "x,idx\n", ValueError,
     r"feats_participant.1.csv, line 2: header only"),
    ("labels-three-columns", "labels/0.csv",
     "competence,warmth,x\n0,0,0\n1,1,1\n2,2,2\n3,3,3\n", ValueError,
     r"labels.0.csv, line 1: expected 2 label columns .*got 3"),
    ("extra-cell-participant", "feats_participant/0.csv",
     "x,idx\n0,0\n0,1,7\n0,2\n0,3\n", ValueError,
     r"0.csv, line 3: 3 values, the header has 2"),
    ("trailing-comma-labels", "labels/0.csv",
     "competence,warmth\n0,0,\n1,1\n2,2\n3,3\n", ValueError,
     r"labels.0.csv, line 2: 3 values, the header has 2"),
    ("truncated-labels-row", "labels/1.csv",
     "competence,warmth\n0,0\n1,1\n2,2\n3\n", ValueError,
     r"labels.1.csv, line 5: 1 values.*truncated"),
    ("label-rows-extra", "labels/0.csv",
     "competence,warmth\n0,0\n1,1\n2,2\n3,3\n4,4\n", ValueError,
     r"labels.0.csv, line 6: 5 label rows but .*0.csv has 4 feature rows"),
    ("negative-index", "feats_participant/0.csv", "x,idx\n0,0\n0,-1\n0,2\n0,3\n",
     ValueError, r"0.csv, line 3: index -1 points outside .*rows 0..3"),
    ("nan-index", "feats_participant/0.csv", "x,idx\n0,0\n0,nan\n0,2\n0,3\n",
     ValueError, r"0.csv, line 3: index nan .* not an integer"),
    ("huge-index", "feats_participant/0.csv", "x,idx\n0,0\n0,1e30\n0,2\n0,3\n",
     ValueError, r"0.csv, line 3: index \d+ points outside"),
    ("index-only-participant", "feats_participant/0.csv", "idx\n0\n1\n2\n3\n",
     ValueError, r"0.csv, line 1: needs receiver features and a last index column"),
    ("NA-label", "labels/0.csv", "competence,warmth\n0,0\nNA,1\n2,2\n3,3\n",
     ValueError, r"labels.0.csv, line 3, column 1: non-numeric value 'NA'"),
    ("semicolon-labels", "labels/0.csv",
     "competence;warmth\n0;0\n1;1\n2;2\n3;3\n", ValueError,
     r"labels.0.csv, line 2, column 1: non-numeric value '0;0'"),
    ("tab-labels", "labels/1.csv",
     "competence\twarmth\n0\t0\n1\t1\n2\t2\n3\t3\n", ValueError,
     r"labels.1.csv, line 2, column 1: non-numeric value '0"),
    ("quoted-cells", "feats_participant/1.csv",
     'x,idx\n"0",0\n0,1\n0,2\n0,3\n', ValueError,
     r"1.csv, line 2, column 1: non-numeric value '\"0\"'"),
    ("sidecar-non-integer", "feats_stimuli/stimuli.csv",
     "stimulus,start_row,n_rows\n0,x,4\n", ValueError,
     "start rows must be integers"),
    ("sidecar-outside", "feats_stimuli/stimuli.csv",
     "stimulus,start_row,n_rows\n0,0,2\n1,9,2\n", ValueError,
     r"start row 9 points outside .*4 rows"),
    ("sidecar-not-from-zero", "feats_stimuli/stimuli.csv",
     "stimulus,start_row,n_rows\n0,1,3\n", ValueError, "must increase from 0"),
    ("sidecar-ragged", "feats_stimuli/stimuli.csv", "stimulus,start_row\n0,0\n",
     ValueError, "expected a header and rows 'stimulus,start_row,n_rows'"),
    pytest.param(
        "latin1-header", "feats_stimuli/sti.csv", "a\xe9,b\n0,1\n0,1\n0,1\n0,1\n",
        ValueError, r"sti.csv.*UTF-8"),
    pytest.param(
        "binary-labels", "labels/0.csv", b"\x00\xff\xfe\x00junk", ValueError,
        r"labels.0.csv.*UTF-8"),
    pytest.param(
        "duplicate-header", "feats_stimuli/sti.csv",
        "a,a\n0,1\n0,1\n0,1\n0,1\n", ValueError, r"sti.csv, line 1: .*duplicate"),
    pytest.param(
        "nan-label", "labels/0.csv", "competence,warmth\n0,0\nnan,1\n2,2\n3,3\n",
        ValueError, r"labels.0.csv, line 3.*NaN"),
]


@pytest.mark.parametrize("relative, text, error, match", cases(FILE_CASES))
def test_bad_files(tmp_path, relative, text, error, match):
    layout(tmp_path)
    path = tmp_path / relative
    if isinstance(text, bytes):
        write_csv(path, None, raw=text)
    elif not text.isascii():
        write_csv(path, None, raw=text.encode("latin-1"))
    else:
        write_csv(path, text)
    with pytest.raises(error, match=match):
        load_impression(tmp_path)


@pytest.mark.parametrize("relative", ["feats_participant/1.csv", "labels/0.csv"])
def test_files_with_bom_crlf_and_blank_lines_load(tmp_path, relative):
    layout(tmp_path)
    path = tmp_path / relative
    text = path.read_bytes().replace(b"\n", b"\r\n")
    lines = text.split(b"\r\n")
    path.write_bytes(BOM + b"\r\n".join(lines[:3] + [b""] + lines[3:]))
    data = load_impression(tmp_path)
    assert [t.shape for t in data.targets] == [(4, 2), (4, 2)]
    assert data.recordings[1].streams["receiver.features"].channels == ("x",)


def test_inf_in_file_is_named_with_file_and_line(tmp_path):
    # Caught at load time now (features are float32, where inf and overflow look
    # alike), with the file and line instead of only the stream and sample.
    layout(tmp_path)
    write_csv(tmp_path / "feats_stimuli" / "sti.csv",
              "a,b\n0,1\ninf,1\n0,1\n0,1\n")
    with pytest.raises(ValueError, match=r"sti.csv, line 3, column 1: value "
                                         r"inf is infinite"):
        load_impression(tmp_path)


# -- 5. property tests -----------------------------------------------------------
RESAMPLER_ERRORS = ("has no samples", "a stream may differ from its labels",
                    "every sample is NaN", "NaN at sample")


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(n_frames=st.integers(1, 40),
       frame_rate=st.sampled_from([10.0, 25.0, 29.97]),
       rate=st.floats(0.5, 600.0),
       extra=st.integers(-3, 3),
       n_channels=st.integers(1, 3),
       method=st.sampled_from(["paper", "polyphase", "fft"]),
       nan_policy=st.sampled_from(["raise", "interpolate"]),
       data=st.data())
def test_property_resampler(n_frames, frame_rate, rate, extra, n_channels, method,
                            nan_policy, data):
    n_samples = max(0, round(n_frames / frame_rate * rate) + extra)
    values = data.draw(hnp.arrays(
        np.float64, (n_samples, n_channels),
        elements=st.one_of(st.floats(-1e6, 1e6), st.just(np.nan))))
    rec = Recording({"emitter.x": Stream(values, rate),
                     "receiver.y": Stream(np.zeros((n_frames, 1)), frame_rate)},
                    n_frames, frame_rate)
    resampler = Resampler(method=method, nan_policy=nan_policy)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out = resampler.fit_transform([rec])[0]
    except ValueError as exc:
        assert any(fragment in str(exc) for fragment in RESAMPLER_ERRORS), exc
        assert "emitter.x" in str(exc)
        return
    stream = out.streams["emitter.x"]
    assert stream.values.shape == (n_frames, n_channels)
    assert stream.rate == frame_rate
    assert np.isfinite(stream.values).all()


finite = st.floats(-1e6, 1e6)


@settings(max_examples=60, deadline=None)
@given(lengths=st.lists(st.integers(0, 12), min_size=1, max_size=4),
       n_outputs=st.integers(1, 3),
       average=st.sampled_from(["pooled", "recording"]),
       as_sequence=st.booleans(),
       poison=st.sampled_from([None, np.nan, np.inf]),
       data=st.data())
def test_property_ccc(lengths, n_outputs, average, as_sequence, poison, data):
    def draw():
        return [data.draw(hnp.arrays(np.float64, (n, n_outputs), elements=finite))
                for n in lengths]
    y_true, y_pred = draw(), draw()
    if poison is not None and sum(lengths):
        k = next(i for i, n in enumerate(lengths) if n)
        y_pred[k][0, 0] = poison
    if not as_sequence:
        y_true, y_pred = np.concatenate(y_true), np.concatenate(y_pred)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            score = ccc_score(y_true, y_pred, average=average,
                              multioutput="raw_values")
    except ValueError as exc:
        assert any(f in str(exc) for f in ("NaN or infinity", "at least 2 frames")), \
            exc
        assert poison is not None or min(lengths) < 2 or sum(lengths) < 2
        return
    assert poison is None
    assert score.shape == (n_outputs,)
    assert np.all(np.abs(score) <= 1 + 1e-9)


@pytest.mark.parametrize("scale", [1e160, 1e200, 1e300])
def test_ccc_large_magnitudes(scale):
    t = np.array([1.0, 2.0, 3.0, 5.0]) * scale
    assert ccc_score(t, t) == pytest.approx(1.0)


def test_ccc_rejects_complex():
    with pytest.raises((TypeError, ValueError), match="[Cc]omplex"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ccc_score(np.array([1 + 1j, 2, 3]), [1.0, 2.0, 3.0])


def test_ccc_object_array_of_numbers():
    assert ccc_score(np.array([1, 2, 3], dtype=object), [1.0, 2.0, 3.0]) == 1.0


def test_ccc_bad_inputs():
    for y, match in ((["a", "b"], "y_true is not numeric"),
                     (np.zeros((2, 2, 2)), r"must be 1-D .* or 2-D"),
                     ({"a": 1}, "not numeric")):
        with pytest.raises(ValueError, match=match):
            ccc_score(y, [1.0, 2.0])
    with pytest.raises(ValueError, match="got 0 frame"):
        ccc_score([], [])
    with pytest.raises(ValueError, match="'y_true' parameter of ccc_score"):
        ccc_score(None, [1.0, 2.0])
