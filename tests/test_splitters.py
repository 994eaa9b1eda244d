"""The protocols are scikit-learn splitters."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import (
    BaseCrossValidator,
    GroupKFold,
    check_cv,
    cross_val_score,
)

from sklearn_impression import DyadicFrames
from sklearn_impression.model_selection import (
    LeaveGroupsOut,
    PaperFrameSplit,
    RecordingGroupKFold,
    get_protocol,
)


def test_paper_split_is_a_cv_over_frame_rows():
    X = np.random.default_rng(0).normal(size=(200, 3))
    y = X @ [1.0, -2.0, 0.5]
    cv = check_cv(PaperFrameSplit(random_state=0))
    assert isinstance(cv, BaseCrossValidator) and cv.get_n_splits() == 1
    ((train, test),) = list(cv.split(X))
    masks = PaperFrameSplit(random_state=0).frame_masks([200])
    np.testing.assert_array_equal(train, np.flatnonzero(masks[0][0]))
    np.testing.assert_array_equal(test, np.flatnonzero(masks[2][0]))
    assert (len(train), len(test)) == (160, 20) and not set(train) & set(test)
    scores = cross_val_score(Ridge(), X, y, cv=PaperFrameSplit(random_state=0))
    assert scores.shape == (1,) and scores[0] > 0.99


def test_paper_split_refuses_what_sklearn_indexes_by_recording():
    X = DyadicFrames([np.ones((5, 1))], [np.zeros((5, 1))], [0], ["e"], ["r"])
    with pytest.raises(TypeError, match="Use paper_split"):
        next(PaperFrameSplit().split(X))


def test_grouped_protocols_are_group_k_folds():
    cv = get_protocol("stimuli", n_splits=2)
    assert isinstance(cv, RecordingGroupKFold) and isinstance(cv, GroupKFold)
    assert repr(cv) == "RecordingGroupKFold(by='stimulus', n_splits=2)"
    assert issubclass(LeaveGroupsOut, RecordingGroupKFold)  # the old name
    assert check_cv(cv) is cv
