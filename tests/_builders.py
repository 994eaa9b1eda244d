"""Tiny data and model builders shared by the test modules.

Import with ``from _builders import ...`` (``tests`` is on ``pythonpath``, see
``[tool.pytest.ini_options]``). Like ``conftest.py`` this module must not import
torch at the top: the regressor is imported by the torch test modules themselves.
"""

import numpy as np
from sklearn.utils import estimator_checks as sk_checks

from sklearn_impression import DyadicFrames, ModalityConcatenator, Resampler

# The scikit-learn API checks that a transformer of recordings (not arrays) passes.
SKLEARN_API_CHECKS = [
    sk_checks.check_no_attributes_set_in_init,
    sk_checks.check_get_params_invariance,
    sk_checks.check_set_params,
    sk_checks.check_parameters_default_constructible,
    sk_checks.check_estimator_repr,
    sk_checks.check_estimator_cloneable,
    sk_checks.check_mixin_order,
    sk_checks.check_do_not_raise_errors_in_init_or_set_params,
    sk_checks.check_valid_tag_types,
    sk_checks.check_estimator_tags_renamed,
]


def tiny_net(max_epochs):
    """Keyword arguments of a tiny, seeded CrossDomainRegressor.

    The temporal and per-person settings are the paper's (frame-level model, MSE,
    no label delay, normalisation or smoothing), which these tests were written
    for; ``tests/test_new_people.py`` covers the class defaults.
    """
    from sklearn_impression.regressor._presets import PAPER_PARAMS

    paper = {k: PAPER_PARAMS[k] for k in (
        "window", "hop", "attention_span", "task_loss", "normalize_by",
        "label_delay", "smoothing")}
    return dict(paper, hidden_size=4, num_layers=1, num_heads=2, fc_size=4,
                max_epochs=max_epochs, batch_size=32, random_state=0)


def label_rate_frames(recordings):
    """Recordings resampled to the label rate and concatenated to DyadicFrames."""
    return ModalityConcatenator().fit_transform(Resampler().fit_transform(recordings))


def dyadic_frames(target, *, n_stimuli=2, n_receivers=2, n_frames=(40,),
                  n_emitter_features=3, n_receiver_features=2, noise=0.0,
                  short=None, seed=0):
    """Tiny random DyadicFrames and targets that follow their features.

    Parameters
    ----------
    target : callable
        ``target(r, e, p)`` gives the ``(n, 2)`` targets of receiver ``p``'s
        features ``r`` watching emitter features ``e``.
    n_stimuli, n_receivers : int
        Recordings are every (stimulus, receiver) pair, stimulus-major; receivers
        are called ``"p0"``, ``"p1"``, ..., stimuli ``"s0"``, ``"s1"``, ...
    n_frames : tuple of int
        Frames of stimulus ``s``: ``n_frames[s % len(n_frames)]``.
    n_emitter_features, n_receiver_features : int
        Named ``"e0"``, ... and ``"r0"``, ...
    noise : float
        When not zero, ``noise`` times standard normal noise is added to each
        recording's targets (drawn after its receiver features).
    short : int, default=None
        Append one more recording (receiver ``"short"``, stimulus 0) of ``short``
        frames with random targets, for a recording shorter than any window.
    seed : int
    """
    rng = np.random.default_rng(seed)
    emitters = [rng.normal(size=(n_frames[s % len(n_frames)], n_emitter_features))
                .astype(np.float32) for s in range(n_stimuli)]
    receivers, index, targets, rec_ids, stim_ids = [], [], [], [], []
    for s, e in enumerate(emitters):
        for p in range(n_receivers):
            n = e.shape[0]
            r = rng.normal(size=(n, n_receiver_features)).astype(np.float32)
            t = target(r, e, p)
            if noise:
                t = t + noise * rng.normal(size=(n, 2))
            receivers.append(r)
            targets.append(t)
            index.append(s)
            rec_ids.append(f"p{p}")
            stim_ids.append(f"s{s}")
    emitter_rows = None
    if short is not None:
        receivers.append(rng.normal(size=(short, n_receiver_features))
                         .astype(np.float32))
        targets.append(rng.normal(size=(short, 2)))
        index.append(0)
        rec_ids.append("short")
        stim_ids.append("s0")
        emitter_rows = ([np.arange(len(t)) for t in targets[:-1]]
                        + [np.arange(short)])
    X = DyadicFrames(emitters, receivers, index,
                     [f"e{i}" for i in range(n_emitter_features)],
                     [f"r{i}" for i in range(n_receiver_features)],
                     rec_ids, stim_ids, emitter_rows)
    return X, targets


def one_error_line(capsys, code):
    """The CLI's one error line on stderr, after checking exit code 2."""
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("sklearn-impression: error: ")
    return lines[0]
