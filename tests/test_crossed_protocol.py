"""New people on new content: receivers+stimuli and receivers+stimuli+enrol."""

import json

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import GridSearchCV, cross_val_score

from sklearn_impression import DyadicFrames, make_impression
from sklearn_impression.cli._parser import build_parser
from sklearn_impression.experiments import ConstantPredictor, RidgeBaseline
from sklearn_impression.metrics import ccc_scorer
from sklearn_impression.model_selection import (
    PROTOCOLS,
    CrossedEnrolmentSplit,
    CrossedGroupKFold,
    evaluate_protocol,
    get_protocol,
)

from _builders import label_rate_frames

RECEIVERS = "abcd"


def _grid(n_frames=50, pairs=None):
    """DyadicFrames of receivers a-d x stimuli 0-3, receiver-major, 25 frames a
    second; recording ``i``'s receiver feature and targets encode
    ``1000 * i + frame``."""
    pairs = pairs or [(r, s) for r in RECEIVERS for s in range(4)]
    emitters = [np.full((n_frames, 1), s, dtype=float) for s in range(4)]
    blocks, targets = [], []
    for i in range(len(pairs)):
        code = 1000.0 * i + np.arange(n_frames)
        blocks.append(code[:, None])
        targets.append(np.c_[2 * code, -code])
    X = DyadicFrames(emitters, blocks, [s for _, s in pairs], ["e"], ["code"],
                     receivers=[r for r, _ in pairs],
                     stimuli=[s for _, s in pairs], label_rate=25.0)
    return X, targets


def _pairs(X, indices):
    return {(X.receivers[i], X.stimuli[i]) for i in indices}


# -- the folds ---------------------------------------------------------------------
def test_crossed_folds_match_a_hand_computation():
    """GroupKFold(2) puts receivers b, d and stimuli 1, 3 in group 0 (equal sizes:
    the last sorted id first, to the lightest fold), a, c and 0, 2 in group 1.
    Recording i is receiver i // 4 watching stimulus i % 4."""
    X, _ = _grid()
    folds = [(sorted(tr.tolist()), sorted(te.tolist()))
             for tr, te in CrossedGroupKFold(n_splits=2).split(X)]
    assert folds == [([0, 2, 8, 10], [5, 7, 13, 15]),
                     ([5, 7, 13, 15], [0, 2, 8, 10])]
    # four folds: one receiver x one stimulus tested, the other 3 x 3 trained
    folds = list(CrossedGroupKFold(n_splits=4).split(X))
    assert folds[0][1].tolist() == [15]
    assert folds[0][0].tolist() == [0, 1, 2, 4, 5, 6, 8, 9, 10]
    assert [te.tolist() for _, te in folds] == [[15], [10], [5], [0]]
    for train, test in folds:
        assert not {X.receivers[i] for i in train} & {X.receivers[i] for i in test}
        assert not {X.stimuli[i] for i in train} & {X.stimuli[i] for i in test}


def test_crossed_folds_follow_the_ids_not_the_order():
    X, _ = _grid()
    order = np.random.default_rng(0).permutation(len(X))
    shuffled = X.subset(order)
    expected = [(_pairs(X, tr), _pairs(X, te))
                for tr, te in CrossedGroupKFold(2).split(X)]
    assert [(_pairs(shuffled, tr), _pairs(shuffled, te))
            for tr, te in CrossedGroupKFold(2).split(shuffled)] == expected
    # explicit (receiver, stimulus) groups give the same folds
    groups = np.c_[np.asarray(X.receivers, dtype=object),
                   np.asarray(X.stimuli, dtype=object)]
    assert [(tr.tolist(), te.tolist())
            for tr, te in CrossedGroupKFold(2).split(np.zeros(16), groups=groups)] == [
        (tr.tolist(), te.tolist()) for tr, te in CrossedGroupKFold(2).split(X)]


def test_crossed_split_errors_name_the_protocol():
    X, _ = _grid()
    with pytest.raises(ValueError, match="'receivers\\+stimuli': n_splits=5 needs "
                                         "at least 5 distinct receiver ids, the "
                                         "data has 4"):
        list(CrossedGroupKFold(5).split(X))
    three = _grid(pairs=[(r, s) for r in "abcdef" for s in range(3)])[0]
    with pytest.raises(ValueError, match="needs at least 4 distinct stimulus ids, "
                                         "the data has 3"):
        list(CrossedGroupKFold(4).split(three))
    with pytest.raises(ValueError, match="n_splits must be an integer >= 2"):
        list(CrossedGroupKFold(1).split(X))
    # each receiver watched one stimulus, never one of its own group's (groups
    # b, d / 1, 3 and a, c / 0, 2): fold 1 has nothing to train or test on
    crossed = _grid(pairs=[("a", 1), ("b", 0), ("c", 3), ("d", 2)])[0]
    with pytest.raises(ValueError, match="'receivers\\+stimuli': fold 1 has no "
                                         "training recording"):
        list(CrossedGroupKFold(2).split(crossed))
    with pytest.raises(ValueError, match="groups must hold a \\(receiver, "
                                         "stimulus\\) id pair"):
        list(CrossedGroupKFold(2).split(X, groups=X.receivers))


def test_crossed_split_is_a_cv_splitter():
    data = make_impression(4, 4, 4, random_state=0)
    X = label_rate_frames(data.recordings)
    scores = cross_val_score(RidgeBaseline(), X, data.targets,
                             cv=CrossedGroupKFold(2), scoring=ccc_scorer)
    assert scores.shape == (2,) and np.isfinite(scores).all()
    search = GridSearchCV(RidgeBaseline(), {"alpha": [0.1, 10.0]},
                          cv=CrossedEnrolmentSplit(2), scoring=ccc_scorer)
    assert search.fit(X, data.targets).n_splits_ == 2
    # the recordings themselves carry the ids too
    folds = list(CrossedGroupKFold(2).split(data.recordings))
    assert [te.tolist() for _, te in folds] == [
        te.tolist() for _, te in CrossedGroupKFold(2).split(X)]


def test_get_protocol_crossed_names():
    assert {"receivers+stimuli", "receivers+stimuli+enrol"} <= set(PROTOCOLS)
    plain = get_protocol("receivers+stimuli", 3)
    assert isinstance(plain, CrossedGroupKFold) and plain.n_splits == 3
    assert repr(plain) == "CrossedGroupKFold(n_splits=3)"
    assert "new people on new content" in plain.description
    enrol = get_protocol("receivers+stimuli+enrol", 2, enrol_seconds=30)
    assert repr(enrol) == "CrossedEnrolmentSplit(n_splits=2, enrol_seconds=30)"
    assert "first 30 s of each test receiver's recordings of training" in (
        enrol.description)
    assert get_protocol(enrol) is enrol
    with pytest.raises(ValueError, match="enrol_seconds must be a positive"):
        list(CrossedEnrolmentSplit(2, enrol_seconds=0).split(_grid()[0]))


# -- evaluation ----------------------------------------------------------------------
def test_evaluate_crossed_scores_only_the_fold_blocks():
    X, y = _grid()
    result = evaluate_protocol(RidgeBaseline(), X, y, "receivers+stimuli",
                               n_splits=2)
    assert result.protocol == "receivers+stimuli"
    tested = {i for i, p in enumerate(result.predictions) if p is not None}
    assert tested == {0, 2, 8, 10, 5, 7, 13, 15}  # the rest is never scored
    assert result.frame_indices == [None] * len(X)
    assert [(f["n_train_recordings"], f["n_test_recordings"], f["n_test_frames"])
            for f in result.folds] == [(4, 4, 200), (4, 4, 200)]
    assert set(result.receiver_ccc) == set(RECEIVERS)


class _Echo(RegressorMixin, BaseEstimator):
    """Predicts its receiver feature (the code) for both outputs."""

    def fit(self, X, y):
        self.fitted_ = True
        return self

    def predict(self, X):
        return [np.c_[b[:, 0], b[:, 0]] for b in X.receiver_blocks]


class _AdaptSpy(_Echo):
    """Records what enrolment gave it: clip codes and targets, and the context."""

    def adapt(self, X, y, context=None):
        self.clip_ = [(r, s, b[:, 0].copy()) for r, s, b in
                      zip(X.receivers, X.stimuli, X.receiver_blocks, strict=True)]
        self.clip_targets_ = [np.array(t) for t in y]
        self.context_ = list(zip(context.receivers, context.stimuli,
                                 context.frame_counts, strict=True))
        return self


def test_crossed_enrolment_adapts_on_training_stimuli_of_test_receivers():
    X, y = _grid()  # 50 frames a recording: 3 s = 75 frames span two of them
    poisoned = [np.full_like(t, 1e12) if i in (5, 7, 13, 15, 0, 2, 8, 10)
                and X.stimuli[i] in (1, 3) else t for i, t in enumerate(y)]
    result = evaluate_protocol(_AdaptSpy(), X, poisoned, "receivers+stimuli+enrol",
                               n_splits=2, enrol_seconds=3.0,
                               return_estimators=True)
    spy = result.estimators[0]  # fold 1: receivers b, d on stimuli 1, 3
    # b (recordings 4-7) and d (12-15) on the training stimuli 0 and 2, in order:
    # all 50 frames of stimulus 0, then the first 25 of stimulus 2
    assert [(r, s, codes.size) for r, s, codes in spy.clip_] == [
        ("b", 0, 50), ("b", 2, 25), ("d", 0, 50), ("d", 2, 25)]
    np.testing.assert_array_equal(spy.clip_[1][2], 6000 + np.arange(25))
    for (_, _, codes), target in zip(spy.clip_, spy.clip_targets_, strict=True):
        np.testing.assert_array_equal(target, np.c_[2 * codes, -codes])
    for receiver in "bd":
        assert sum(c.size for r, _, c in spy.clip_ if r == receiver) == 3.0 * 25
    # the context is the whole calibration recordings, not the test recordings
    assert spy.context_ == [("b", 0, 50), ("b", 2, 50), ("d", 0, 50), ("d", 2, 50)]
    assert result.estimators[1].context_ == [("a", 1, 50), ("a", 3, 50),
                                             ("c", 1, 50), ("c", 3, 50)]
    assert [f["n_enrol_frames"] for f in result.folds] == [150, 150]
    assert all("enrol_time" in f for f in result.folds)
    # the test recordings are scored in full, with their unseen stimuli
    assert [f["n_test_frames"] for f in result.folds] == [200, 200]
    for i in (5, 7, 13, 15, 0, 2, 8, 10):
        assert result.frame_indices[i] is None
        assert result.predictions[i].shape == (50, 2)


def test_crossed_enrolment_offsets_a_model_without_adapt_by_the_clip():
    X, y = _grid()
    result = evaluate_protocol(_Echo(), X, y, "receivers+stimuli+enrol",
                               n_splits=2, enrol_seconds=3.0)
    # _Echo predicts (code, code) against targets (2 code, -code): its error on
    # the clip is (code, -2 code). Receiver b's clip: recording 4 (codes
    # 4000-4049) and the first 25 frames of recording 6 (6000-6024).
    clip = np.r_[4000 + np.arange(50), 6000 + np.arange(25)]
    offset = np.array([clip.mean(), -2 * clip.mean()])
    for i in (5, 7):  # b on stimuli 1 and 3
        code = 1000.0 * i + np.arange(50)
        np.testing.assert_allclose(result.predictions[i],
                                   np.c_[code, code] + offset)
    # not the whole calibration recordings' error
    whole = np.r_[4000 + np.arange(50), 6000 + np.arange(50)].mean()
    assert not np.isclose(offset[0], whole)


def test_crossed_enrolment_refuses_a_test_receiver_without_calibration():
    """Receiver a watched only stimulus 2, b all but 2: every stimulus has three
    receivers, so the stimulus groups are still {1, 3} and {0, 2}; the receiver
    groups (by recording count) are {b, d} and {a, c}. Fold 2 tests a and c on
    0 and 2 and trains on b and d watching 1 and 3: a saw no training
    stimulus."""
    dropped = {("a", 0), ("a", 1), ("a", 3), ("b", 2)}
    X, y = _grid(pairs=[(r, s) for r in RECEIVERS for s in range(4)
                        if (r, s) not in dropped])
    assert [sorted(_pairs(X, te)) for _, te in CrossedGroupKFold(2).split(X)] == [
        [("b", 1), ("b", 3), ("d", 1), ("d", 3)], [("a", 2), ("c", 0), ("c", 2)]]

    class _NeverFit(ConstantPredictor):
        def fit(self, X, y):
            raise AssertionError("trained before the check")

    with pytest.raises(ValueError, match="'receivers\\+stimuli\\+enrol': fold 2: "
                                         "test receiver\\(s\\) a have no recording "
                                         "of a training stimulus"):
        evaluate_protocol(_NeverFit(), X, y, "receivers+stimuli+enrol",
                          n_splits=2, enrol_seconds=1.0)


# -- command line, ablation ----------------------------------------------------------
def test_cli_accepts_every_protocol():
    parser = build_parser()
    for name in PROTOCOLS:
        assert parser.parse_args(["ablation", "--protocol", name]).protocol == name
        assert parser.parse_args(["train", "--protocol", name]).protocol == name


def test_cli_train_with_crossed_enrolment(tmp_path, capsys):
    pytest.importorskip("torch")
    from sklearn_impression.cli import main

    # 3 receivers x 2 stimuli x 4 s; two folds: 1 s (25 frames) of each test
    # receiver's training stimulus enrols, the unseen stimulus is scored in full
    assert main(["train", "--n-receivers", "3", "--n-stimuli", "2", "--duration",
                 "4", "--epochs", "1", "--quiet", "--protocol",
                 "receivers+stimuli+enrol", "--enrol-seconds", "1", "--n-splits",
                 "2", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "train.json").read_text())
    assert report["enrol_seconds"] == 1.0
    folds = report["evaluation"]["folds"]
    assert report["evaluation"]["protocol"] == "receivers+stimuli+enrol"
    assert [f["n_enrol_frames"] for f in folds] == [
        25 * f["n_test_recordings"] for f in folds]
    assert [f["n_test_frames"] for f in folds] == [
        100 * f["n_test_recordings"] for f in folds]


def test_ablation_takes_the_crossed_protocol():
    pytest.importorskip("torch")
    from sklearn_impression.experiments import run_ablation

    data = make_impression(4, 4, 2.0, random_state=0)
    tiny = {"hidden_size": 4, "num_heads": 2, "num_layers": 1, "fc_size": 4}
    result = run_ablation(data, protocol="receivers+stimuli", n_splits=2, epochs=1,
                          rows=["ridge"], model_params=tiny)
    assert result.protocol == "receivers+stimuli" and result.n_splits == 2
    assert [r["key"] for r in result.rows] == ["full", "ridge"]
