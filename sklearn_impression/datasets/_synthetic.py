"""Synthetic dyadic data shaped like the IMPRESSION corpus: :func:`make_impression`.

The modalities' rates and channels are in ``_impression_layout.py``, the signals
in ``_impression_signals.py``.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params

from ..recordings._bunch import recordings_bunch
from ..recordings._recording import Recording, Stream
from ._generator_base import (
    _GENERATOR_CONSTRAINTS,
    _resolve_frames,
    _sample_times,
    _seeded_rng,
)
from ._impression_layout import (
    DEFAULT_CHANNELS,
    DEFAULT_RATES,
    _channel_names,
    _resolve_channels,
    _resolve_rates,
)
from ._impression_signals import (
    _gaze_duration,
    _impression_basis,
    _loadings,
    _physio,
    _sensor,
    _SlowSignal,
    _stepwise_slider,
)

__all__ = ["make_impression", "DEFAULT_RATES", "DEFAULT_CHANNELS"]


@validate_params(
    {
        **_GENERATOR_CONSTRAINTS,
        "stimulus_frames": [Interval(Integral, 1, None, closed="left"), "array-like",
                            None],
        "emitter_channels": [Interval(Integral, 1, None, closed="left"), dict, None],
        "receiver_channels": [Interval(Integral, 1, None, closed="left"), dict, None],
        "rates": [dict, None],
    },
    prefer_skip_nested_validation=True,
)
def make_impression(n_receivers=4, n_stimuli=3, stimulus_duration=None, *,
                    stimulus_frames=None, frame_rate=25.0, emitter_channels=None,
                    receiver_channels=None, rates=None, noise=0.5, return_X_y=False,
                    random_state=None):
    """Generate dyadic impression data shaped like IMPRESSION, with its ground truth.

    Every receiver watches every stimulus (an emitter video), as in IMPRESSION
    session 1, giving ``n_receivers * n_stimuli`` recordings, receiver by receiver.
    Streams come at their devices' rates (:data:`DEFAULT_RATES`): emitter audio
    descriptors at 100 Hz, emitter gaze at 50 Hz, emitter action units at 25 fps,
    receiver eye tracking at 250 Hz, receiver action units at 29.97 fps, receiver
    BVP/ECG/GSR at 256 Hz. Labels (competence, warmth) come at ``frame_rate``.

    Generative process (all times in seconds from the stimulus start):

    1. **Latent impression** of stimulus ``s``: ``z_s(t) = m_s + g_s(t)`` in two
       dimensions, with ``m_s ~ N(0, I)`` and ``g_s`` a unit-variance sum of six
       random sinusoids with periods of 8 to 90 s per dimension; warmth is mixed
       with competence (correlation about 0.4).
    2. **Emitter signals** carry ``z_s`` weakly: each channel is a random linear
       map (standard deviation 0.25 in total) of the nonlinear basis
       ``(c, w, tanh c, tanh w, c w / 2)`` of ``z_s``, plus eight stimulus-specific
       nuisance signals (periods 0.7 to 20 s, unit variance), plus white noise of
       standard deviation ``noise``, then mapped to the channel's physical range
       (AU presence 0/1, AU intensity 0-5, voicing probability in (0, 1), ...).
    3. **Perception**: receiver ``r`` perceives ``p_rs(t) = z_s(t) + 0.5 d_rs(t)``
       with ``d_rs`` an idiosyncratic slow signal like ``g_s``.
    4. **Receiver signals** carry ``p_rs`` strongly (loadings of standard deviation
       1.0 on the same basis, four recording-specific nuisance signals, the same
       white noise), with receiver-specific sensor gains (log-normal, sd 0.3) and
       offsets (sd 0.3) per channel. Physiology is shaped and follows the perceived
       arousal ``0.6 c + 0.4 w`` 1.5 s late: ECG P-QRS-T complexes and BVP pulses
       at a heart rate of 60-80 beats/min that rises with arousal; GSR, a tonic
       skin conductance level (2-10 microsiemens) that drifts and rises with it.
       Receiver gaze duration is a fixation sawtooth whose fixations lengthen
       with perceived competence.
    5. **Annotation** (the slider): the noise-free impression is
       ``u_rs(t) = o_r + a_r * p_rs(t - l_r)`` with per receiver and dimension an
       offset ``o_r ~ N(0, 1.5^2)``, a scale ``a_r ~ U(1, 2.5)`` and a reaction lag
       ``l_r ~ U(0.5, 3)`` s (one lag per receiver). The target starts at ``u``
       rounded to the receiver's step ``q_r = a_r * U(0.15, 0.4)`` and moves by whole
       steps, ``y += q_r * round((u - y) / q_r)``, only when ``|u - y| >= 0.75 q_r``:
       stepwise, unbounded, on the grid ``q_r * Z``.

    ``impression`` holds ``u_rs`` at the label frames, so ``ccc_score(impression,
    targets)`` is the oracle CCC that only the quantisation and its hysteresis
    keep below 1. Receiver offsets, scales, lags, idiosyncratic perception and
    sensor gains are all unknown to a model.

    Parameters
    ----------
    n_receivers : int, default=4
        Number of receivers (participants); ids ``0 .. n_receivers - 1``.
    n_stimuli : int, default=3
        Number of stimuli (emitter videos); ids ``0 .. n_stimuli - 1``.
    stimulus_duration : float or sequence of float, default=None
        Duration of each stimulus in seconds (one value for all, or one per
        stimulus); it is rounded to whole label frames. ``None`` means 24 s unless
        ``stimulus_frames`` is given.
    stimulus_frames : int or sequence of int, default=None
        Label frames per stimulus, instead of ``stimulus_duration``.
    frame_rate : float, default=25.0
        Label rate in Hz.
    emitter_channels, receiver_channels : int or dict, default=None
        Channels per modality. ``None`` uses :data:`DEFAULT_CHANNELS` (emitter:
        audio 15, eye 8, face 35; receiver: eye 9, face 35, physio 3). A dict
        such as ``{"audio": 4, "eye": 2, "face": 0}`` sets each count (0 drops the
        modality; a missing key counts as 0). An int is the domain's total: the
        other modalities keep their defaults and emitter audio (receiver eye) takes
        the rest, so 412 and 68 give the paper's feature counts.
    rates : dict, default=None
        Sampling rates overriding :data:`DEFAULT_RATES`, e.g.
        ``{"receiver.eye": 50.0}``.
    noise : float, default=0.5
        Standard deviation of the white sensor noise, relative to a channel's
        unit-variance drive, before its range mapping.
    return_X_y : bool, default=False
        Return ``(recordings, targets)`` instead of a Bunch.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible data.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``recordings`` : list of :class:`~sklearn_impression.Recording`, receiver by
        receiver, stimulus by stimulus. Emitter streams of one stimulus are the same
        :class:`~sklearn_impression.Stream` objects in all its recordings.
        Samples per stream: ``round(n_frames / frame_rate * rate)``, float32.
        ``targets`` : list of ``(n_frames, 2)`` float64 arrays, competence and
        warmth. ``receivers``, ``stimuli`` : int arrays, one id per recording.
        ``impression`` : list of ``(n_frames, 2)`` float64, the noise-free ``u_rs``.
        ``offsets``, ``scales`` : ``(n_receivers, 2)`` float64, each receiver's
        slider offset ``o_r`` and scale ``a_r``; ``lags`` : ``(n_receivers,)``,
        their reaction lags ``l_r`` in seconds. With them ``(u_rs - o_r) / a_r``
        is the perceived impression ``p_rs(t - l_r)``: what a benchmark needs to
        score a model that knew every receiver's perception but not their slider.
        ``target_names``, ``frame_rate``, ``DESCR``.
    (recordings, targets) : tuple if ``return_X_y`` is True.

    Examples
    --------
    >>> from sklearn_impression.datasets import make_impression
    >>> data = make_impression(n_receivers=2, n_stimuli=2, stimulus_duration=10,
    ...                        random_state=0)
    >>> len(data.recordings), data.targets[0].shape
    (4, (250, 2))
    >>> rec = data.recordings[0]
    >>> rec.modalities  # doctest: +NORMALIZE_WHITESPACE
    ('emitter.audio', 'emitter.eye', 'emitter.face',
     'receiver.eye', 'receiver.face', 'receiver.physio')
    >>> rec.streams["receiver.face"].rate, rec.streams["receiver.face"].n_samples
    (29.97, 300)
    >>> data.recordings[2].streams["emitter.audio"] is rec.streams["emitter.audio"]
    True

    Paper scale (40 receivers, 13 stimuli summing to 44,923 frames per receiver,
    412 emitter and 68 receiver channels) holds gigabytes of float32 streams:

    >>> frames = [3455] * 12 + [3463]  # doctest: +SKIP
    >>> big = make_impression(40, 13, stimulus_frames=frames, emitter_channels=412,
    ...                       receiver_channels=68)  # doctest: +SKIP
    """
    frames = _resolve_frames(stimulus_duration, stimulus_frames, n_stimuli, frame_rate)
    channels = {**_resolve_channels("emitter", emitter_channels),
                **_resolve_channels("receiver", receiver_channels)}
    all_rates = _resolve_rates(rates)
    names = {m: _channel_names(m, n) for m, n in channels.items()}
    rng = _seeded_rng(random_state)
    noise = float(noise)
    frame_rate = float(frame_rate)
    mixing = np.array([[1.0, 0.4], [0.0, np.sqrt(1 - 0.16)]])

    def timeline(n_frames, modality):
        return _sample_times(n_frames, frame_rate, all_rates[modality], 1)

    # how channels express the impression: one map per modality for all emitters,
    # one for all receivers (receivers differ by sensor gains and offsets)
    loadings = {m: _loadings(rng, len(names[m]), 0.25 if m.startswith("emitter.")
                             else 1.0) for m in names}

    # -- stimuli: latent impression and emitter streams, stored once -------------
    latents, emitter_streams = [], []
    for s in range(n_stimuli):
        mean = rng.standard_normal(2) @ mixing
        slow = _SlowSignal(rng, 2, 1 / 90, 1 / 8)
        nuisance = _SlowSignal(rng, 8, 1 / 20, 1 / 0.7)

        def latent(t, mean=mean, slow=slow):
            return mean + slow(t) @ mixing

        latents.append(latent)
        streams = {}
        for m in (m for m in channels if m.startswith("emitter.")):
            t = timeline(frames[s], m)
            values = _sensor(rng, names[m], _impression_basis(latent(t)),
                             nuisance(t), loadings[m], noise)
            streams[m] = Stream(values, all_rates[m], channels=names[m])
        emitter_streams.append(streams)

    # -- receivers: perception, sensors, annotation --------------------------------
    offset = rng.normal(0, 1.5, (n_receivers, 2))
    scale = rng.uniform(1.0, 2.5, (n_receivers, 2))
    lag = rng.uniform(0.5, 3.0, n_receivers)
    step = scale * rng.uniform(0.15, 0.4, (n_receivers, 2))
    gains = [{m: (np.exp(rng.normal(0, 0.3, len(names[m]))).astype(np.float32),
                  rng.normal(0, 0.3, len(names[m])).astype(np.float32))
              for m in names if m.startswith("receiver.")}
             for _ in range(n_receivers)]
    physio_load = {
        name: loadings["receiver.physio"][:, [j]]
        for j, name in enumerate(names.get("receiver.physio", ()))
    }
    people = [{"hr": rng.uniform(60, 80), "bvp": rng.uniform(0.5, 1.5),
               "gsr": rng.uniform(2, 10), "phase": rng.uniform(),
               "load": physio_load} for _ in range(n_receivers)]

    recordings, receivers, stimuli = [], [], []
    impressions = np.empty((n_receivers, n_stimuli), dtype=object)
    for r in range(n_receivers):
        for s in range(n_stimuli):
            idio = _SlowSignal(rng, 2, 1 / 90, 1 / 8)
            nuisance = _SlowSignal(rng, 4, 1 / 20, 1 / 0.7)

            def perceived(t, s=s, idio=idio):
                return latents[s](t) + 0.5 * idio(t)

            streams = dict(emitter_streams[s])
            for m in (m for m in channels if m.startswith("receiver.")):
                t = timeline(frames[s], m)
                if m == "receiver.physio":
                    values = _physio(rng, names[m], t, all_rates[m], perceived(t - 1.5),
                                     nuisance(t), noise, people[r])
                else:
                    p = perceived(t)
                    values = _sensor(rng, names[m], _impression_basis(p),
                                     nuisance(t), loadings[m], noise, gains[r][m])
                    if "gaze_duration" in names[m]:
                        values[:, names[m].index("gaze_duration")] = \
                            _gaze_duration(rng, t, p)
                streams[m] = Stream(values, all_rates[m], channels=names[m])
            recordings.append(Recording(streams, int(frames[s]), frame_rate,
                                        receiver=r, stimulus=s))
            receivers.append(r)
            stimuli.append(s)
            t_labels = np.arange(frames[s]) / frame_rate
            impressions[r, s] = offset[r] + scale[r] * perceived(t_labels - lag[r])

    targets = np.empty_like(impressions)
    for s in range(n_stimuli):
        # one slider loop per stimulus, vectorised over receivers
        y = _stepwise_slider(np.stack(list(impressions[:, s])), step)
        for r in range(n_receivers):
            targets[r, s] = y[r]
    return recordings_bunch(
        recordings,
        list(targets.ravel()),
        receivers,
        stimuli,
        impression=list(impressions.ravel()),
        offsets=offset,
        scales=scale,
        lags=lag,
        frame_rate=frame_rate,
        descr=make_impression.__doc__.split("Parameters\n")[0],
        return_X_y=return_X_y,
    )
