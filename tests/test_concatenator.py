"""Tests for :class:`sklearn_impression.preprocessing.ModalityConcatenator`."""

import pickle

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline

from sklearn_impression import DyadicFrames, Recording, Stream
from sklearn_impression.preprocessing import ModalityConcatenator, Resampler

from _builders import SKLEARN_API_CHECKS

FRAME_RATE = 25.0
CHANNELS = {
    "emitter.audio": ["mfcc_1", "mfcc_2", "rms"],
    "emitter.eye": ["gaze_x"],
    "emitter.face": ["au01", "au02"],
    "receiver.eye": ["gaze_x", "gaze_y"],
    "receiver.face": ["au01"],
    "receiver.physio": ["bvp", "ecg", "gsr"],
}
ALL_NAMES = [f"{m}.{c}" for m, chs in CHANNELS.items() for c in chs]


def _label_rate_stream(rng, modality, n_frames, rate=FRAME_RATE):
    n = int(round(n_frames / FRAME_RATE * rate))
    values = rng.standard_normal((n, len(CHANNELS[modality])))
    return Stream(values, rate=rate, channels=CHANNELS[modality])


def _recordings(rng, n_receivers=2, n_stimuli=2, n_frames=(20, 30), rates=None):
    """Recordings whose emitter streams are shared by stimulus (the contract)."""
    rates = rates or {}
    emitters = [
        {
            m: _label_rate_stream(rng, m, n_frames[s], rates.get(m, FRAME_RATE))
            for m in CHANNELS
            if m.startswith("emitter.")
        }
        for s in range(n_stimuli)
    ]
    recs = []
    for r in range(n_receivers):
        for s in range(n_stimuli):
            streams = dict(emitters[s])
            streams.update(
                {
                    m: _label_rate_stream(rng, m, n_frames[s], rates.get(m, FRAME_RATE))
                    for m in CHANNELS
                    if m.startswith("receiver.")
                }
            )
            recs.append(
                Recording(
                    streams, n_frames[s], FRAME_RATE, receiver=f"p{r}", stimulus=f"s{s}"
                )
            )
    return recs


def test_concatenator_blocks_values_and_names(rng):
    recs = _recordings(rng)
    concat = ModalityConcatenator()
    frames = concat.fit_transform(recs)
    assert isinstance(frames, DyadicFrames) and len(frames) == 4
    assert concat.emitter_modalities_ == (
        "emitter.audio",
        "emitter.eye",
        "emitter.face",
    )
    assert list(concat.get_feature_names_out()) == ALL_NAMES
    assert frames.feature_names == tuple(ALL_NAMES)
    assert frames.receivers == ("p0", "p0", "p1", "p1")
    assert frames.stimuli == ("s0", "s1", "s0", "s1")
    for i, rec in enumerate(recs):
        emitter, receiver = frames[i]
        assert emitter.dtype == receiver.dtype == np.float32
        expected_e = np.hstack(
            [
                rec.streams[m].values
                for m in ("emitter.audio", "emitter.eye", "emitter.face")
            ]
        )
        expected_r = np.hstack(
            [
                rec.streams[m].values
                for m in ("receiver.eye", "receiver.face", "receiver.physio")
            ]
        )
        np.testing.assert_array_equal(emitter, expected_e.astype(np.float32))
        np.testing.assert_array_equal(receiver, expected_r.astype(np.float32))
        assert receiver.shape[0] == rec.n_frames


def test_concatenator_emitter_block_stored_once_per_stimulus(rng):
    recs = _recordings(rng, n_receivers=3, n_stimuli=2)
    frames = ModalityConcatenator().fit_transform(recs)
    assert len(frames.emitter_blocks) == 2
    assert frames.emitter_index.tolist() == [0, 1, 0, 1, 0, 1]
    assert frames[0][0] is frames[2][0] is frames[4][0]


def test_concatenator_unshared_emitter_streams_get_own_blocks(rng):
    recs = _recordings(rng, n_receivers=2, n_stimuli=1)
    copy = recs[1].replace(
        streams={
            m: (
                Stream(np.array(s.values), s.rate, s.channels)
                if m.startswith("emitter.")
                else s
            )
            for m, s in recs[1].streams.items()
        }
    )
    frames = ModalityConcatenator().fit_transform([recs[0], copy])
    assert len(frames.emitter_blocks) == 2
    np.testing.assert_array_equal(frames.emitter_blocks[0], frames.emitter_blocks[1])


def test_concatenator_single_float32_stream_not_copied(rng):
    recs = _recordings(rng, n_receivers=1, n_stimuli=1)
    audio = Stream(
        np.ones((20, 3), dtype=np.float32), FRAME_RATE, CHANNELS["emitter.audio"]
    )
    rec = recs[0].replace(streams={**recs[0].streams, "emitter.audio": audio})
    concat = ModalityConcatenator(include=["emitter.audio", "receiver.eye"])
    frames = concat.fit_transform([rec])
    assert np.shares_memory(frames.emitter_blocks[0], audio.values)
    assert not frames.emitter_blocks[0].flags.writeable


@pytest.mark.parametrize(
    "params, emitter, receiver",
    [
        ({"exclude": ("receiver.physio",)}, 6, 3),
        ({"exclude": ["emitter.audio", "emitter.face"]}, 1, 6),
        ({"exclude": "emitter.eye"}, 5, 6),
        ({"include": ("emitter.face", "receiver.physio")}, 2, 3),
        (
            {
                "include": ["emitter.audio", "emitter.eye", "receiver.eye"],
                "exclude": ["receiver.physio"],
            },
            4,
            2,
        ),
    ],
)
def test_concatenator_include_exclude(rng, params, emitter, receiver):
    recs = _recordings(rng)
    concat = ModalityConcatenator(**params)
    frames = concat.fit_transform(recs)
    assert (frames.n_emitter_features, frames.n_receiver_features) == (
        emitter,
        receiver,
    )
    names = concat.get_feature_names_out()
    assert len(names) == emitter + receiver
    assert all(n.startswith("emitter.") for n in names[:emitter])
    assert all(n.startswith("receiver.") for n in names[emitter:])
    assert tuple(names) == frames.feature_names


@pytest.mark.parametrize(
    "params, match",
    [
        (
            {"exclude": ["receiver.audio"]},
            r"exclude names unknown modalities \['receiver\.audio'\].*'emitter\.audio'",
        ),
        (
            {"include": ["emitter.voice", "emitter.eye"]},
            r"include names unknown modalities \['emitter\.voice'\]",
        ),
        (
            {"include": ["emitter.eye", "receiver.eye"], "exclude": ["receiver.eye"]},
            r"\['receiver\.eye'\] are both included and excluded",
        ),
        (
            {"exclude": ["receiver.eye", "receiver.face", "receiver.physio"]},
            r"no receiver modality left.*'receiver\.eye'",
        ),
        ({"include": ["receiver.eye"]}, r"no emitter modality left"),
    ],
)
def test_concatenator_bad_selection_raises(rng, params, match):
    with pytest.raises(ValueError, match=match):
        ModalityConcatenator(**params).fit(_recordings(rng))


def test_concatenator_bad_param_types(rng):
    with pytest.raises(ValueError, match="exclude"):
        ModalityConcatenator(exclude={"emitter.audio"}).fit(_recordings(rng))
    with pytest.raises(TypeError, match="modality names"):
        ModalityConcatenator(exclude=[1]).fit(_recordings(rng))


def test_concatenator_requires_label_rate(rng):
    recs = _recordings(rng, rates={"receiver.physio": 256.0})
    with pytest.raises(
        ValueError,
        match=r"receiver='p0'.*'receiver\.physio': 205 "
        r"samples at 256 Hz.*Run the Resampler",
    ):
        ModalityConcatenator().fit_transform(recs)
    # Excluding the offending modality is fine.
    ModalityConcatenator(exclude=["receiver.physio"]).fit_transform(recs)


def test_concatenator_differing_frame_counts_raise(rng):
    recs = _recordings(rng, n_receivers=1, n_stimuli=1)
    short = Stream(np.zeros((19, 1)), FRAME_RATE, CHANNELS["receiver.face"])
    bad = recs[0].replace(streams={**recs[0].streams, "receiver.face": short})
    with pytest.raises(
        ValueError,
        match=r"'receiver\.face': 19 samples.*20 label "
        r"frames.*label frame count",
    ):
        ModalityConcatenator().fit_transform([bad])


def test_concatenator_transform_checks_layout_from_fit(rng):
    recs = _recordings(rng)
    concat = ModalityConcatenator().fit(recs)
    rec = recs[0]
    fewer = rec.replace(
        streams={m: s for m, s in rec.streams.items() if m != "emitter.face"}
    )
    with pytest.raises(ValueError, match=r"receiver='p0'.*missing \['emitter\.face'\]"):
        concat.transform([fewer])
    wider = Stream(np.zeros((20, 2)), FRAME_RATE, ["bvp", "ecg"])
    other = rec.replace(streams={**rec.streams, "receiver.physio": wider})
    with pytest.raises(
        ValueError,
        match=r"'receiver\.physio': 2 channels.*3 "
        r"channels seen in fit",
    ):
        concat.transform([other])
    with pytest.raises(ValueError, match="differ"):
        ModalityConcatenator().fit([rec, other])


def test_concatenator_rejects_non_recordings_and_unfitted(rng):
    with pytest.raises(TypeError, match="Recording"):
        ModalityConcatenator().fit(np.zeros((4, 3)))
    with pytest.raises(NotFittedError):
        ModalityConcatenator().transform(_recordings(rng))
    with pytest.raises(NotFittedError):
        ModalityConcatenator().get_feature_names_out()


def test_concatenator_does_not_mutate_input_or_params(rng):
    recs = _recordings(rng)
    exclude = ["receiver.physio"]
    concat = ModalityConcatenator(exclude=exclude)
    streams = [dict(r.streams) for r in recs]
    concat.fit_transform(recs)
    assert concat.exclude is exclude and exclude == ["receiver.physio"]
    assert [dict(r.streams) for r in recs] == streams


# -- scikit-learn API ------------------------------------------------------------------
@pytest.mark.parametrize("check", SKLEARN_API_CHECKS)
def test_concatenator_sklearn_api_checks(check):
    check(
        "ModalityConcatenator",
        ModalityConcatenator(include=None, exclude=("emitter.eye",)),
    )


def test_concatenator_tags():
    tags = ModalityConcatenator().__sklearn_tags__()
    assert tags.input_tags.two_d_array is False
    assert tags.transformer_tags is not None
    assert tags.target_tags.required is False


def test_concatenator_clone_and_pickle(rng):
    recs = _recordings(rng)
    concat = ModalityConcatenator(exclude=("emitter.eye",))
    assert concat.fit(recs) is concat
    copy = clone(concat)
    assert copy.get_params() == {"include": None, "exclude": ("emitter.eye",)}
    assert not hasattr(copy, "emitter_modalities_")
    restored = pickle.loads(pickle.dumps(concat))
    a = concat.transform(recs)
    b = restored.transform(pickle.loads(pickle.dumps(recs)))
    assert len(b.emitter_blocks) == 2  # pickle keeps shared streams shared
    np.testing.assert_array_equal(a.to_frames(), b.to_frames())


class _FeatureCounter(RegressorMixin, BaseEstimator):
    """Predicts zeros; scores higher with fewer features (to test grid search)."""

    def fit(self, X, y):
        self.n_features_ = X.n_features
        return self

    def predict(self, X):
        return [np.zeros((n, 2)) for n in X.frame_counts]

    def score(self, X, y):
        return -float(X.n_features)


def test_concatenator_exclude_grid_searchable(rng):
    recs = _recordings(rng, n_receivers=3, n_stimuli=2)
    y = [np.zeros((r.n_frames, 2)) for r in recs]
    pipe = Pipeline(
        [
            ("resample", Resampler()),
            ("concat", ModalityConcatenator()),
            ("model", _FeatureCounter()),
        ]
    )
    grid = [(), ("emitter.audio",), ["emitter.audio", "receiver.physio"]]
    search = GridSearchCV(pipe, {"concat__exclude": grid}, cv=KFold(2)).fit(recs, y)
    assert search.best_params_ == {"concat__exclude": grid[2]}
    assert search.best_estimator_.named_steps["model"].n_features_ == 12 - 3 - 3
    assert grid[2] == ["emitter.audio", "receiver.physio"]


def test_pipeline_resample_then_concat_multi_rate(rng):
    rates = {
        "emitter.audio": 100.0,
        "emitter.eye": 50.0,
        "emitter.face": 29.97,
        "receiver.eye": 250.0,
        "receiver.face": 30.0,
        "receiver.physio": 256.0,
    }
    recs = _recordings(rng, n_receivers=3, n_stimuli=2, n_frames=(50, 60), rates=rates)
    pipe = Pipeline([("resample", Resampler()), ("concat", ModalityConcatenator())])
    frames = pipe.fit_transform(recs)
    assert frames.frame_counts.tolist() == [50, 60] * 3
    assert len(frames.emitter_blocks) == 2  # the shared streams stayed shared
    assert list(pipe.get_feature_names_out()) == ALL_NAMES
    assert list(pipe[:1].get_feature_names_out()) == ALL_NAMES


def test_pipeline_make_impression_frame_counts_match_targets():
    datasets = pytest.importorskip("sklearn_impression.datasets")
    data = datasets.make_impression(n_receivers=3, n_stimuli=2, random_state=0)
    pipe = Pipeline([("resample", Resampler()), ("concat", ModalityConcatenator())])
    frames = pipe.fit_transform(data.recordings)
    assert frames.frame_counts.tolist() == [len(t) for t in data.targets]
    assert len(frames.emitter_blocks) == 2
    assert frames.receivers == tuple(data.receivers)
    assert frames.stimuli == tuple(data.stimuli)
    assert all(np.isfinite(b).all() for b in frames.emitter_blocks)
    assert all(np.isfinite(b).all() for b in frames.receiver_blocks)


def test_concatenator_fit_transform_equals_fit_then_transform(rng):
    recs = _recordings(rng)
    concat = ModalityConcatenator(exclude="receiver.face")
    once = concat.fit_transform(recs)
    twice = ModalityConcatenator(exclude="receiver.face").fit(recs).transform(recs)
    assert once.feature_names == twice.feature_names
    np.testing.assert_array_equal(once.emitter_index, twice.emitter_index)
    np.testing.assert_array_equal(once.to_frames(), twice.to_frames())
    assert concat.receiver_modalities_ == ("receiver.eye", "receiver.physio")


def test_concatenator_fit_transform_checks_inputs(rng):
    recs = _recordings(rng)
    rec = recs[0]
    wider = Stream(np.zeros((20, 2)), FRAME_RATE, ["bvp", "ecg"])
    other = rec.replace(streams={**rec.streams, "receiver.physio": wider})
    with pytest.raises(ValueError, match="differ"):
        ModalityConcatenator().fit_transform([rec, other])
    with pytest.raises(TypeError, match="Recording"):
        ModalityConcatenator().fit_transform(np.zeros((4, 3)))
    slow = _recordings(rng, rates={"receiver.eye": 50.0})
    with pytest.raises(ValueError, match="Run the Resampler first"):
        ModalityConcatenator().fit_transform(slow)
