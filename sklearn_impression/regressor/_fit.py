"""What :meth:`CrossDomainRegressor.fit` learns before the network trains.

The data checked into flat frames, the label delay and smoothing in frames,
the stimulus traces, the standardisation, the validation split and the
listener table, returned as fitted attributes for ``fit`` to set, with the
training and validation datasets. Torch only through the datasets.
"""

import numpy as np
from sklearn.utils import check_random_state

from ..recordings._frames import DyadicFrames
from ..recordings._ids import receiver_ids
from ._inputs import fit_frames, fit_statistics, normalize
from ._listeners import ListenerTable
from ._net import frame_dataset
from ._standardize import Standardizer, split_validation
from ._stimulus_traces import fit_stimulus_traces
from ._temporal import delay_frames, delay_targets

__all__ = ["prepare_training"]


def prepare_training(estimator, X, y):
    """``(fitted, (train, valid), seed)`` for ``estimator.fit(X, y)``.

    ``fitted`` maps fitted attribute names to values; ``train`` and ``valid``
    are :class:`~sklearn_impression.nn.FrameDataset` (``valid`` may be
    ``None``); ``seed`` is drawn from ``random_state`` and seeds the split,
    the weights and the batch order. Raises before any torch code runs when
    the data are wrong.
    """
    if y is None:
        raise ValueError("CrossDomainRegressor requires y to be passed, but the "
                         "target y is None")
    receivers = (receiver_ids(X, "listener_adaptation=True")
                 if estimator.listener_adaptation else None)
    statistics = fit_statistics(estimator.normalize_by, X)
    given = X
    delay = smoothing = 0
    if isinstance(X, DyadicFrames):
        rate = X.label_rate
        delay = delay_frames(estimator.label_delay, rate, "label_delay")
        smoothing = delay_frames(estimator.smoothing, rate, "smoothing")
        X = normalize(X, estimator.normalize_by, statistics if statistics[0] else None)
        X = delay_targets(X, delay)
    frames, fitted = fit_frames(estimator, X, y,
                                 emitter_features=estimator.emitter_features)
    n_outputs = frames.y.shape[1]
    traces = (fit_stimulus_traces(given, y)[1] if isinstance(given, DyadicFrames)
              else {})
    fitted.update(label_delay_frames_=delay, smoothing_frames_=smoothing,
                  n_outputs_=n_outputs, stimulus_ids_=list(traces),
                  stimulus_traces_=list(traces.values()))
    seed = int(check_random_state(estimator.random_state).randint(2**31 - 1))
    scaler = Standardizer.fit(frames, estimator.standardize)
    frames = scaler.transform(frames)
    train, valid = split_validation(frames, estimator.validation_fraction,
                                    estimator.window, np.random.RandomState(seed),
                                    estimator.validation_groups)
    del frames  # the split holds copies; free the full set before training
    # Vectors only for receivers that train them: one whose recordings all
    # went to validation is a stranger there (the population vector).
    trained = set(train.receivers)
    ids = [] if receivers is None else list(dict.fromkeys(
        r for r in receivers if r in trained))
    table = ListenerTable(ids, len(ids), n_outputs, statistics)
    fitted.update(scaler_=scaler, listeners_=table)
    datasets = []
    for part in (train, valid):
        if part is not None and receivers is not None:
            part.listener = np.repeat(
                table.rows_for(part.receivers, warn=False), part.lengths)
        datasets.append(None if part is None else frame_dataset(
            part, estimator.device, window=estimator.window, hop=estimator.hop,
            listener_adaptation=estimator.listener_adaptation))
    return fitted, tuple(datasets), seed
