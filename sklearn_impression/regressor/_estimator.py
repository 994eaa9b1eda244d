"""The cross-domain network as a scikit-learn regressor."""

from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils._param_validation import validate_params
from sklearn.utils.validation import check_is_fitted

from ..utils._torch import import_torch
from . import _adapt
from ._fit import prepare_training
from ._listeners import ATTRIBUTES
from ._net import fit_net
from ._params import (
    ADAPT_CONSTRAINTS,
    PARAMETER_CONSTRAINTS,
    check_param_combinations,
    network_tags,
)
from ._predict import predict_traces
from ._presets import PAPER_PARAMS

torch = import_torch()

__all__ = ["CrossDomainRegressor"]


def _table_attribute(name):
    """A documented fitted attribute, read from the listener table."""
    field = ATTRIBUTES[name]
    return property(lambda self: getattr(self.listeners_, field),
                    doc=f"``listeners_.{field}`` (see the class docstring).")


class CrossDomainRegressor(RegressorMixin, BaseEstimator):
    """Cross-domain attention network (Li & Lai, 2022) as a scikit-learn regressor.

    A :class:`~sklearn_impression.nn.CrossDomainModule` trained by a skorch net
    (``net_``) after data and parameters are checked, before torch runs. The
    defaults are chosen for new people on new content (user guide, "New
    content"): the paper's frame-level network with the CCC loss, per-receiver
    normalisation, a 2.2 s label delay, 2 s of smoothing and early stopping on
    held-out stimuli; :meth:`paper_preset` is the paper's configuration.

    Parameters
    ----------
    hidden_size, num_layers, lstm_dropout : int, int, float, default=64, 2, 0.5
        Per domain: LSTM hidden size per direction (the attention width is
        twice this), layers, and dropout between layers.
    num_heads : int, default=16
        Attention heads; must divide ``2 * hidden_size``.
    fc_size, dropout : int, float, default=16, 0.5
        Width of the hidden fully connected layer, and the dropout after it.
    window : int, default=1
        Frames of context (1: the paper's frame-level model); with more, each
        frame's prediction is the mean over the windows (``hop`` apart) covering it.
    hop, attention_span : int or None, default=None
        Window step (``None``: ``max(1, window // 2)``); with ``window > 1``,
        attention within blocks of this many frames instead of the whole window.
    intra, inter : bool, default=True
        Concatenate the intra- / inter-attention outputs (paper's ablation; the
        KD and SE losses are computed either way).
    shared_attention : bool, default=True
        One attention module for the four calls (the released code) or four.
    kd_weight, se_weight : float >= 0, default=1.0
        Weights of the knowledge-distillation and similarity-enhancement losses.
    se_softmax_axis : {"feature", "batch"}, default="feature"
        Softmax axis of the SE loss (:func:`sklearn_impression.nn.se_loss`).
    task_loss : {"mse", "ccc"}, default="ccc"
        Sum over outputs of the MSE (paper) or of ``1 - CCC``.
    emitter_dropout : float in [0, 1), default=0.0
        Training probability that a unit sees the emitter's features set to
        their mean (:class:`~sklearn_impression.nn.CrossDomainModule`).
    weight_decay : float >= 0, default=0.0
        Adam's L2 penalty on all weights.
    lr, lr_step, lr_gamma : float, int, float, default=1e-3, 20, 0.5
        Adam's learning rate, multiplied by ``lr_gamma`` every ``lr_step`` epochs.
    max_epochs : int, default=40
    batch_size : int, default=512
        Frames per batch, or windows of ``window`` frames when ``window > 1``.
    validation_fraction : float in [0, 1) or None, default=0.1
        Held-out part for the ``valid_*`` history and early stopping (0 or
        None: no validation).
    validation_groups : {"stimulus", "receiver+stimulus", "receiver", \
"recording"}, default="stimulus"
        What is held out: whole stimuli (content the network never saw),
        receivers on stimuli (both held out), receivers, or random recordings;
        where the ids do not allow it the next kind applies, down to frames.
    early_stopping : int, "auto" or None, default="auto"
        Patience in epochs on the validation loss (else the training loss);
        the best weights are restored. ``"auto"``: 2 with a validation part and
        no ``checkpoint_dir``, else none (user guide, "New content").
    grad_clip : float or None, default=None
        Clip the gradient norm at this value.
    listener_adaptation : bool, default=False
        A learned vector per training receiver (Li, Bell & Lai, 2023), ``x_r =
        (LSTM(r) + v) / 2``, and a population vector for anyone else (with an
        :class:`~sklearn_impression.UnknownReceiverWarning`). Needs receiver ids.
    standardize : bool, default=True
        Z-score features and targets with training statistics.
    emitter_features : None, int or array-like, default=None
        For 2-D arrays: the emitter's columns (``None``: the first half; ``k``:
        the first ``k``; or indices / a mask), the rest the receiver's.
    normalize_by : {"receiver", "recording"} or None, default="receiver"
        Z-score each receiver's (or recording's) receiver features by their own
        statistics, kept for receivers of ``fit`` and :meth:`adapt`; anyone
        else's come from their recordings passed to ``predict`` together.
    label_delay : float >= 0, default=2.2
        Seconds by which labels lag the signals: targets at ``t`` are learned
        from features at ``t - label_delay``, predictions shifted as much later.
    smoothing : float >= 0, default=2.0
        Seconds of a centred moving average over each predicted trace.
    device : str, default="cpu"
        ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    amp : bool, default=False
        bfloat16 autocast of the forward pass (meant for CUDA); on CPU the
        LSTMs stay float32 (a bfloat16 LSTM fails on AVX2-only CPUs).
    random_state : int, RandomState or None, default=None
        Seeds weights, dropout, shuffling and the validation split.
    checkpoint_dir : str or None, default=None
        Folder for a checkpoint after every epoch; a fit with the same folder,
        parameters and data resumes after the last one (a corrupt or foreign
        one: ``CheckpointError`` before training). Not with an int
        ``early_stopping``.
    verbose : int, default=0
        0 silent; 1 skorch's epoch table and progress bar.

    Attributes
    ----------
    net_ : skorch.NeuralNetRegressor
        The fitted skorch net (``net_.module_``: the torch module).
    history_ : skorch.History
        Per epoch ``train_loss``, ``train_task``, ``train_kd``, ``valid_*``, ...
    n_features_in_, n_emitter_features_, n_receiver_features_, n_outputs_ : int
    scaler_ : Standardizer
        Feature and target means and scales.
    listeners_ : ListenerTable
        The per-person state, read by the attributes below.
    listener_ids_ : list
        Receivers of ``fit`` (with ``listener_adaptation``), then enrolled
        ones; ``listener_ids_[k]`` owns row ``k + 1`` (row 0: the population).
    n_fitted_listeners_ : int
        How many of ``listener_ids_`` come from ``fit``.
    listener_gain_, listener_offset_ : ndarray of shape (n_listeners + 1, n_outputs)
        Output calibration per row in standardised target units, ``gain * y +
        offset``: identity except for enrolled receivers.
    listener_trace_gain_, listener_trace_offset_, listener_stimulus_ : ndarray
        The calibration used instead for an enrolled receiver's recordings of a
        stimulus with a training trace, and the weight of that trace.
    listener_delay_ : ndarray of shape (n_listeners + 1,)
        Extra reaction delay per row in label frames (``lag_range``).
    normalization_receivers_, normalization_means_, normalization_scales_
        With ``normalize_by="receiver"``: the receivers whose feature statistics
        are kept (of ``fit``, then enrolled ones), row ``k`` for the ``k``-th.
    stimulus_ids_, stimulus_traces_ : list
        The stimuli of ``fit`` and, for each, the training receivers' mean
        target per frame position (each receiver's level removed, their mean
        level added back), in target units.
    label_delay_frames_, smoothing_frames_ : int
        ``label_delay`` and ``smoothing`` in label frames (0 for 2-D arrays).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 6))
    >>> y = X[:, :2] @ [1.0, -1.0] + X[:, 4]
    >>> model = CrossDomainRegressor(hidden_size=4, num_heads=2, max_epochs=2,
    ...                              batch_size=32, random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    >>> [k for k in ("train_task", "train_kd", "train_se", "valid_ccc_0")
    ...  if k in model.history_[-1]]
    ['train_task', 'train_kd', 'train_se', 'valid_ccc_0']
    """

    _parameter_constraints = PARAMETER_CONSTRAINTS

    def _expected_failed_checks(self):
        """Checks that cannot hold for these parameters, with the reason."""
        if self.window == 1:
            return {}
        reason = ("with window > 1 a 2-D array's rows are one time series: a "
                  "prediction changes with the rows' order and with a subset")
        return {"check_methods_sample_order_invariance": reason,
                "check_methods_subset_invariance": reason}

    def __init__(self, *, hidden_size=64, num_layers=2, lstm_dropout=0.5,
                 num_heads=16, fc_size=16, dropout=0.5, window=1, hop=None,
                 attention_span=None, intra=True, inter=True, shared_attention=True,
                 kd_weight=1.0, se_weight=1.0, se_softmax_axis="feature",
                 task_loss="ccc", emitter_dropout=0.0, weight_decay=0.0, lr=1e-3,
                 lr_step=20, lr_gamma=0.5, max_epochs=40, batch_size=512,
                 validation_fraction=0.1, validation_groups="stimulus",
                 early_stopping="auto", grad_clip=None,
                 listener_adaptation=False, standardize=True, emitter_features=None,
                 normalize_by="receiver", label_delay=2.2, smoothing=2.0,
                 device="cpu", amp=False, random_state=None, checkpoint_dir=None,
                 verbose=0):
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.lstm_dropout = lstm_dropout
        self.num_heads = num_heads
        self.fc_size = fc_size
        self.dropout = dropout
        self.window = window
        self.hop = hop
        self.attention_span = attention_span
        self.intra = intra
        self.inter = inter
        self.shared_attention = shared_attention
        self.kd_weight = kd_weight
        self.se_weight = se_weight
        self.se_softmax_axis = se_softmax_axis
        self.task_loss = task_loss
        self.emitter_dropout = emitter_dropout
        self.weight_decay = weight_decay
        self.lr = lr
        self.lr_step = lr_step
        self.lr_gamma = lr_gamma
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.validation_groups = validation_groups
        self.early_stopping = early_stopping
        self.grad_clip = grad_clip
        self.listener_adaptation = listener_adaptation
        self.standardize = standardize
        self.emitter_features = emitter_features
        self.normalize_by = normalize_by
        self.label_delay = label_delay
        self.smoothing = smoothing
        self.device = device
        self.amp = amp
        self.random_state = random_state
        self.checkpoint_dir = checkpoint_dir
        self.verbose = verbose

    @classmethod
    def paper_preset(cls, **params):
        """The paper's exact configuration (Li & Lai, 2022), as the ablation uses.

        Frame-level model, MSE task loss, batch 512, 40 epochs, Adam 1e-3
        halved every 20 epochs, none of the per-person steps, every epoch
        trained (:data:`~sklearn_impression.regressor.PAPER_PARAMS`).

        Parameters
        ----------
        **params
            Parameters overriding the preset (e.g. ``max_epochs``,
            ``random_state``).

        Returns
        -------
        CrossDomainRegressor

        Examples
        --------
        >>> model = CrossDomainRegressor.paper_preset(max_epochs=5)
        >>> model.window, model.task_loss, model.max_epochs
        (1, 'mse', 5)
        """
        return cls(**{**PAPER_PARAMS, **params})

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the network.

        Parameters
        ----------
        X : DyadicFrames or array-like of shape (n_frames, n_features)
            Recordings from a :class:`~sklearn_impression.preprocessing.
            ModalityConcatenator`, or frames split by ``emitter_features``.
        y : list of arrays of shape (n_frames_i, n_outputs), or array-like of shape
            (n_frames,) or (n_frames, n_outputs)
            Per-recording targets for DyadicFrames, otherwise per-row targets.

        Returns
        -------
        self
        """
        check_param_combinations(self.get_params())
        fitted, datasets, seed = prepare_training(self, X, y)
        vars(self).pop("net_", None)  # a diverged refit must not look fitted
        vars(self).update(fitted)
        self.net_ = fit_net(self.get_params(), datasets, seed,
                            n_emitter_features=self.n_emitter_features_,
                            n_receiver_features=self.n_receiver_features_,
                            n_outputs=self.n_outputs_,
                            n_listeners=len(self.listeners_.ids))
        return self

    @property
    def history_(self):
        """The skorch history of the last fit (``net_.history``)."""
        check_is_fitted(self, "net_")
        return self.net_.history

    def predict(self, X):
        """Predict every frame.

        Parameters
        ----------
        X : DyadicFrames or array-like of shape (n_frames, n_features)

        Returns
        -------
        y_pred : list of ndarray of shape (n_frames_i, n_outputs), or ndarray
            Per recording for DyadicFrames; for a 2-D array an array of shape
            ``(n_frames, n_outputs)``, or ``(n_frames,)`` if ``y`` was 1-D at fit.
        """
        check_is_fitted(self, "net_")
        return predict_traces(self, X)

    @validate_params(ADAPT_CONSTRAINTS, prefer_skip_nested_validation=True)
    def adapt(self, X, y, *, context=None, calibration="auto", lag_range=2.0,
              steps=30, lr=0.1, l2=0.01):
        """Enrol receivers: fit only their own parameters from labelled frames.

        Per receiver in ``X``, the network frozen: its listener vector (with
        ``listener_adaptation``), feature statistics (``normalize_by=
        "receiver"``), reaction delay and output calibrations, which
        :meth:`predict` then uses (a new enrolment replaces an old one). For a
        Pipeline: :func:`~sklearn_impression.model_selection.adapt_pipeline`.

        Parameters
        ----------
        X : DyadicFrames
            Recordings of the receivers to enrol, at least 25 frames each.
        y : list of arrays of shape (n_frames_i, n_outputs)
            Their targets (finite).
        context : DyadicFrames, default=None
            Unlabelled recordings of the same receivers (features only), e.g.
            the sessions the labelled segments were cut from. With
            ``normalize_by="receiver"`` each enrolled receiver's statistics are
            fitted on their recordings in ``X`` and ``context`` together and
            kept for every later :meth:`predict`.
        calibration : {"auto", "offset+gain+stimulus", "offset", "offset+gain", \
"none"}, default="auto"
            Per receiver and output, after the reaction delay: for content
            without a training trace, ``"offset"`` adds the mean residual,
            ``"offset+gain"`` first rescales by the least-squares slope
            (clipped to [0.1, 10]), ``"none"`` nothing; for a stimulus seen
            in ``fit``, ``"offset+gain+stimulus"`` fits ``gain * prediction +
            weight * stimulus trace + offset`` (weight in [0, 10]; the trace is
            :attr:`stimulus_traces_`) and uses ``"offset+gain"`` elsewhere.
            ``"auto"``: ``"offset"`` for new content, ``"offset+gain+stimulus"``
            where a trace exists (user guide, "Enrolment").
        lag_range : float, default=2.0
            Seconds: each receiver's extra delay in ``[-lag_range,
            lag_range]`` (label frames) that, on the network's output after the
            calibration, fits the enrolment targets best. Needs
            ``X.label_rate`` when above 0.
        steps, lr, l2 : int, float, float, default=30, 0.1, 0.01
            Full-batch Adam steps and learning rate for the listener vectors
            (on at most 512 frames per receiver), and the penalty on a vector's
            squared distance from the population.

        Returns
        -------
        self

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_impression import DyadicFrames
        >>> rng = np.random.default_rng(0)
        >>> e = rng.normal(size=(100, 3))
        >>> X = DyadicFrames([e], [rng.normal(size=(100, 2)) for _ in range(3)],
        ...                  [0, 0, 0], ["e0", "e1", "e2"], ["r0", "r1"],
        ...                  receivers=["a", "b", "new"], label_rate=25.0)
        >>> y = [e[:, :2] + [0, 0], e[:, :2] + [1, 1], e[:, :2] + [5, 5]]
        >>> model = CrossDomainRegressor(hidden_size=4, num_heads=2, max_epochs=2,
        ...                              random_state=0).fit(X[:2], y[:2])
        >>> model = model.adapt(X[2:], y[2:])
        >>> model.listener_ids_
        ['new']
        >>> bool(abs(model.predict(X[2:])[0].mean() - 5) < 0.5)
        True
        """
        check_is_fitted(self, "net_")
        return _adapt.adapt(self, X, y, context=context, calibration=calibration,
                            lag_range=lag_range, steps=steps, lr=lr, l2=l2)

    # -- persistence (see sklearn_impression.persistence) ----------------------
    def __sklearn_impression_state__(self):
        """Fitted attributes to save (none before ``fit``: a regressor given
        as a parameter); the net as weights and history."""
        from ._state import regressor_state

        return regressor_state(self) if "net_" in vars(self) else {}

    @classmethod
    def __sklearn_impression_restore__(cls, params, state, *, device="cpu",
                                       where="model"):
        """The fitted regressor of a saved state, its net on ``device``."""
        from ._state import restore_regressor

        return restore_regressor(cls, params, state, device=device, where=where)

    def __setstate__(self, state):
        from ..persistence._upgrade import upgrade_pickled

        super().__setstate__(upgrade_pickled(self, state))

    def __sklearn_tags__(self):
        return network_tags(super().__sklearn_tags__())


for _name in ATTRIBUTES:
    setattr(CrossDomainRegressor, _name, _table_attribute(_name))
