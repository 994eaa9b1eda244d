"""Protocols: the paper's frame split, leave-receivers-out, leave-stimuli-out."""

import json

import numpy as np
import pytest
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import Pipeline

from sklearn_impression import (
    DyadicFrames,
    ModalityConcatenator,
    Resampler,
    make_impression,
)
from sklearn_impression.experiments import ConstantPredictor, RidgeBaseline
from sklearn_impression.model_selection import (
    PROTOCOLS,
    PaperFrameSplit,
    RecordingGroupKFold,
    describe_data,
    evaluate_protocol,
    get_protocol,
    paper_split,
)

from _builders import label_rate_frames


@pytest.fixture(scope="module")
def data():
    return make_impression(4, 3, 8, random_state=0)


@pytest.fixture(scope="module")
def frames(data):
    return label_rate_frames(data.recordings)


def _indexed(n_receivers=3, n_stimuli=2, n_frames=40):
    """DyadicFrames whose receiver feature and targets encode (recording, frame)."""
    emitters = [np.full((n_frames, 1), s, dtype=float) for s in range(n_stimuli)]
    blocks, targets, receivers, stimuli, index = [], [], [], [], []
    for r in range(n_receivers):
        for s in range(n_stimuli):
            i = len(blocks)
            code = 1000.0 * i + np.arange(n_frames)
            blocks.append(code[:, None])
            targets.append(np.c_[code, -code])
            receivers.append(f"r{r}")
            stimuli.append(s)
            index.append(s)
    X = DyadicFrames(emitters, blocks, index, ["e"], ["code"], receivers, stimuli)
    return X, targets


def test_paper_split_sizes_disjoint_and_aligned():
    X, y = _indexed()
    train, valid, test = paper_split(X, y, random_state=0)
    total = X.n_frames
    assert (train[0].n_frames, valid[0].n_frames, test[0].n_frames) == (
        total - 2 * round(0.1 * total), round(0.1 * total), round(0.1 * total))
    codes = []
    for part_X, part_y in (train, valid, test):
        for i in range(len(part_X)):
            emitter, receiver = part_X[i]
            np.testing.assert_array_equal(receiver[:, 0], part_y[i][:, 0])
            np.testing.assert_array_equal(part_y[i][:, 1], -part_y[i][:, 0])
            # emitter rows still point at the stimulus' block
            assert set(emitter[:, 0]) == {part_X.stimuli[i]}
            codes.append(receiver[:, 0])
    codes = np.concatenate(codes)
    assert len(codes) == total == len(np.unique(codes))


def test_paper_split_shares_emitter_blocks_and_is_seeded():
    X, y = _indexed()
    train, _, test = paper_split(X, y, random_state=3)
    assert all(any(np.shares_memory(b, e) for e in X.emitter_blocks)
               for b in train[0].emitter_blocks)
    again = paper_split(X, y, random_state=3)[2]
    other = paper_split(X, y, random_state=4)[2]
    np.testing.assert_array_equal(np.concatenate(test[1]), np.concatenate(again[1]))
    assert not np.array_equal(np.concatenate(test[1]), np.concatenate(other[1]))


def test_paper_split_leaks_recordings_into_train():
    """Every tested recording also has frames in training: the documented leak."""
    X, y = _indexed()
    train, _, test = paper_split(X, y, random_state=0)
    train_recordings = {int(t[0, 0] // 1000) for t in train[1]}
    test_recordings = {int(t[0, 0] // 1000) for t in test[1]}
    assert test_recordings <= train_recordings


def test_paper_split_errors():
    X, y = _indexed()
    with pytest.raises(TypeError, match="DyadicFrames"):
        paper_split(list(range(3)), y)
    with pytest.raises(ValueError, match="39 rows but the recording has 40 frames"):
        paper_split(X, [t[:-1] for t in y])
    with pytest.raises(ValueError, match="test_size"):
        paper_split(X, y, test_size=1.5)
    with pytest.raises(ValueError, match="too few"):
        PaperFrameSplit(test_size=0.1).frame_masks([3])


@pytest.mark.parametrize("name, attr", [("receivers", "receivers"),
                                        ("stimuli", "stimuli")])
def test_grouped_protocols_never_share_a_group(frames, name, attr):
    cv = get_protocol(name, n_splits=3)
    ids = np.asarray(getattr(frames, attr))
    tested = []
    for train, test in cv.split(frames):
        assert not set(ids[train]) & set(ids[test])
        tested.extend(test)
    assert sorted(tested) == list(range(len(frames)))
    assert cv.get_n_splits() == 3


def test_grouped_protocol_reads_ids_from_recordings(data):
    cv = RecordingGroupKFold("receiver", n_splits=2)
    for train, test in cv.split(data.recordings):
        assert not set(data.receivers[train]) & set(data.receivers[test])


def test_grouped_protocol_is_a_cv_splitter(frames, data):
    pred = cross_val_predict(RidgeBaseline(), frames.to_frames(),
                             np.concatenate(data.targets), cv=_FrameGroups(frames))
    assert pred.shape == (frames.n_frames, 2)


class _FrameGroups:
    """Leave-receivers-out on frame rows: RecordingGroupKFold, explicit groups."""

    def __init__(self, frames):
        self.groups = np.repeat(frames.receivers, frames.frame_counts)

    def split(self, X, y=None, groups=None):
        return RecordingGroupKFold("receiver", 2).split(X, groups=self.groups)

    def get_n_splits(self, *args, **kwargs):
        return 2


def test_get_protocol_errors(frames):
    assert set(PROTOCOLS) == {"paper", "receivers", "stimuli", "receivers+enrol",
                              "receivers+stimuli", "receivers+stimuli+enrol"}
    with pytest.raises(ValueError, match="unknown protocol 'frames'"):
        get_protocol("frames")
    with pytest.raises(ValueError, match="at least 5 distinct receiver ids, the "
                                         "data has 4"):
        list(get_protocol("receivers", n_splits=5).split(frames))
    with pytest.raises(ValueError, match="n_splits must be an integer >= 2"):
        list(get_protocol("stimuli", n_splits=1).split(frames))
    protocol = get_protocol("paper", random_state=1)
    assert get_protocol(protocol) is protocol


def test_describe_data(data, frames):
    d = describe_data(data.recordings, data.targets, "tiny")
    assert d == {"name": "tiny", "n_recordings": 12, "n_frames": 12 * 200,
                 "n_receivers": 4, "n_stimuli": 3, "hours": round(2400 / 25 / 3600, 3)}
    assert describe_data(frames)["n_frames"] == 2400


def test_evaluate_receivers_protocol(frames, data):
    result = evaluate_protocol(RidgeBaseline(), frames, data.targets, "receivers",
                               n_splits=2, data_name="tiny", random_state=7)
    assert result.protocol == "receivers"
    assert "leave-receivers-out" in result.protocol_description
    assert result.random_state == 7 and result.data["name"] == "tiny"
    assert set(result.ccc) == {"competence", "warmth"}
    assert len(result.fold_ccc) == 2 and len(result.folds) == 2
    assert set(result.receiver_ccc) == set(data.receivers.tolist())
    assert all(p is not None and p.shape == t.shape
               for p, t in zip(result.predictions, data.targets, strict=True))
    assert result.frame_indices == [None] * len(frames)
    # pooled CCC is the CCC of the out-of-fold predictions
    from sklearn_impression import ccc_score
    pooled = ccc_score(data.targets, result.predictions, multioutput="raw_values")
    np.testing.assert_allclose(list(result.ccc.values()), pooled)
    payload = json.loads(result.to_json())
    assert payload["protocol"] == "receivers" and payload["data"]["n_frames"] == 2400
    markdown = result.to_markdown()
    assert "`receivers`" in markdown and "Seed: 7" in markdown
    assert "pooled test" in markdown


def test_evaluate_paper_protocol(frames, data):
    result = evaluate_protocol(RidgeBaseline(), frames, data.targets, "paper",
                               random_state=0, return_estimators=True)
    assert result.protocol == "paper" and len(result.estimators) == 1
    assert result.valid_ccc is not None
    fold = result.folds[0]
    assert fold["n_train_frames"] + fold["n_valid_frames"] + fold[
        "n_test_frames"] == 2400
    assert fold["n_test_frames"] == 240
    covered = sum(len(i) for i in result.frame_indices if i is not None)
    assert covered == 240
    # the paper split interpolates: it scores far above leave-receivers-out
    grouped = evaluate_protocol(RidgeBaseline(), frames, data.targets, "receivers",
                                n_splits=2)
    assert result.ccc["competence"] > grouped.ccc["competence"]


def test_evaluate_paper_protocol_with_pipeline(data):
    pipe = Pipeline([("resample", Resampler()), ("concat", ModalityConcatenator()),
                     ("model", ConstantPredictor())])
    result = evaluate_protocol(pipe, data.recordings, data.targets, "paper")
    assert result.estimator == "ConstantPredictor"
    assert result.ccc == {"competence": 0.0, "warmth": 0.0}
    with pytest.raises(TypeError, match="the paper protocol splits label-rate"):
        evaluate_protocol(ConstantPredictor(), data.recordings, data.targets,
                          "paper")


def test_evaluate_grouped_protocol_with_pipeline(data):
    pipe = Pipeline([("resample", Resampler()), ("concat", ModalityConcatenator()),
                     ("model", RidgeBaseline())])
    result = evaluate_protocol(pipe, data.recordings, data.targets, "stimuli",
                               n_splits=3)
    assert result.protocol == "stimuli" and len(result.fold_ccc) == 3


def test_evaluate_rejects_misaligned_targets(frames, data):
    targets = list(data.targets)
    targets[1] = targets[1][:-5]
    with pytest.raises(ValueError, match="195 rows but the recording has 200 frames"):
        evaluate_protocol(RidgeBaseline(), frames, targets, "receivers", n_splits=2)
    with pytest.raises(ValueError, match="11 target arrays for 12 recordings"):
        evaluate_protocol(RidgeBaseline(), frames, targets[:-1], "receivers")
