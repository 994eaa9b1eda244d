"""The paper's ablation study (Table 2) and its baselines, under a named protocol."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

from joblib import Parallel, delayed
from sklearn.pipeline import Pipeline

from ..model_selection import describe_data, evaluate_protocol, get_protocol
from ..preprocessing import ModalityConcatenator, Resampler
from ..utils._cluster import scatter_inputs
from ..utils._results import ResultMixin
from ._baselines import ConstantPredictor, RidgeBaseline
from ._lstm import LSTMBaseline
from ._stimulus_mean import StimulusMeanBaseline

__all__ = ["ABLATION_ROWS", "AblationResult", "ablation_rows", "run_ablation"]

#: Model rows of the paper's Table 2: key -> (label, CrossDomainRegressor params).
_MODEL_ROWS = {
    "full": ("Full", {}),
    "no_inter": ("(-) inter-attn.", {"inter": False}),
    "no_intra": ("(-) intra-attn.", {"intra": False}),
    "no_kd": ("(-) KD loss", {"kd_weight": 0.0}),
    "no_se": ("(-) SE loss", {"se_weight": 0.0}),
}
#: Labels of the standard modality rows, in the paper's order.
_MODALITY_LABELS = {
    "emitter.face": "(-) facial (E)",
    "emitter.audio": "(-) audio (E)",
    "emitter.eye": "(-) eye (E)",
    "receiver.face": "(-) facial (R)",
    "receiver.physio": "(-) physio (R)",
    "receiver.eye": "(-) eye (R)",
}
_BASELINE_ROWS = {
    "lstm": "LSTM (dataset paper)",
    "ridge": "Ridge",
    "stimulus_mean": "Stimulus mean (no signal of the test person)",
    "constant": "Constant (training mean)",
}

#: Default rows for the six standard modalities, in table order.
ABLATION_ROWS = (
    tuple(_MODEL_ROWS)
    + tuple(f"no_{m}" for m in _MODALITY_LABELS)
    + tuple(_BASELINE_ROWS)
)


def ablation_rows(modalities=None):
    """Row keys and labels of the ablation table for data with ``modalities``.

    Parameters
    ----------
    modalities : sequence of str, default=None
        Modality names of the data; one ``no_<modality>`` row each. ``None`` gives
        the six standard modalities.

    Returns
    -------
    dict
        Row key to label, in table order.

    Examples
    --------
    >>> list(ablation_rows(["emitter.audio", "receiver.physio"]))
    ['full', 'no_inter', 'no_intra', 'no_kd', 'no_se', 'no_emitter.audio', \
'no_receiver.physio', 'lstm', 'ridge', 'stimulus_mean', 'constant']
    """
    if modalities is None:
        modalities = list(_MODALITY_LABELS)
    order = {m: i for i, m in enumerate(_MODALITY_LABELS)}
    modalities = sorted(modalities, key=lambda m: (order.get(m, len(order)), m))
    rows = {k: label for k, (label, _) in _MODEL_ROWS.items()}
    for m in modalities:
        rows[f"no_{m}"] = _MODALITY_LABELS.get(m, f"(-) {m}")
    rows.update(_BASELINE_ROWS)
    return rows


def _row_pipeline(key, modalities, *, epochs, seed, device, model_params):
    exclude = None
    params = {}
    if key in _MODEL_ROWS:
        params = _MODEL_ROWS[key][1]
    elif key.startswith("no_"):
        modality = key[3:]
        if modality not in modalities:
            raise ValueError(
                f"ablation row {key!r}: modality {modality!r} is not in the data "
                f"(it has {sorted(modalities)})"
            )
        exclude = [modality]
    if key == "lstm":
        model = LSTMBaseline(max_epochs=epochs, random_state=seed, device=device)
    elif key == "ridge":
        model = RidgeBaseline()
    elif key == "stimulus_mean":
        model = StimulusMeanBaseline()
    elif key == "constant":
        model = ConstantPredictor()
    else:
        from ..regressor._estimator import CrossDomainRegressor

        # the paper's configuration, whatever the class defaults are
        model = CrossDomainRegressor.paper_preset(**{
            **dict(max_epochs=epochs, random_state=seed, device=device),
            **(model_params or {}), **params})
    return Pipeline([("concat", ModalityConcatenator(exclude=exclude)),
                     ("model", model)])


@dataclass(repr=False)
class AblationResult(ResultMixin):
    """The ablation table with its protocol, data, seed, epochs and wall time.

    Attributes
    ----------
    rows : list of dict
        Per row: ``key``, ``label``, CCC per dimension, its delta to the full model
        (``delta_<dimension>``, negative = worse), the fold-mean CCC and seconds.
    protocol, protocol_description : str
    data : dict
        See :func:`~sklearn_impression.model_selection.describe_data`.
    seed, epochs, n_splits : int
    model_params : dict
        Regressor parameters shared by every model row.
    target_names : list of str
    wall_time : float
    results : dict
        Row key to its :class:`~sklearn_impression.model_selection.ProtocolResult`
        (not serialised).
    """

    protocol: str
    protocol_description: str
    data: dict
    seed: object
    epochs: int
    n_splits: int
    model_params: dict
    target_names: list
    rows: list
    wall_time: float
    results: dict = field(default_factory=dict)

    _not_serialised = ("results",)

    def to_markdown(self):
        """The table in Markdown, headed by protocol, data, seed, epochs, time."""
        d = self.data
        names = self.target_names
        head = [
            "# Ablation study (paper Table 2)",
            "",
            f"- Protocol: `{self.protocol}`: {self.protocol_description}",
            f"- Data: {d['name']}, {d['n_recordings']} recordings, "
            f"{d['n_frames']} frames ({d['hours']} h), {d['n_receivers']} "
            f"receivers, {d['n_stimuli']} stimuli",
            f"- Seed: {self.seed}; epochs: {self.epochs}; wall time: "
            f"{self.wall_time:.1f} s",
            "- CCC over all pooled test frames; delta to the full model",
            "",
            "| Model | " + " | ".join(f"{n.capitalize()} ({self.protocol})"
                                      for n in names) + " | "
            + " | ".join(f"Δ {n}" for n in names) + " |",
            "| --- |" + " ---: |" * (2 * len(names)),
        ]
        for row in self.rows:
            deltas = [row.get(f"delta_{n}") for n in names]
            head.append(
                f"| {row['label']} | "
                + " | ".join(f"{row[n]:.3f}" for n in names) + " | "
                + " | ".join("" if v is None else f"{v:+.3f}" for v in deltas) + " |"
            )
        return "\n".join(head) + "\n"

    def __repr__(self):
        return (f"AblationResult(protocol={self.protocol!r}, "
                f"rows={[r['key'] for r in self.rows]})")


def _run_row(pipeline, resampled, targets, protocol, *, n_splits, seed, data_name,
             target_names, label=None):
    """Score one ablation row (a module-level function, so joblib ships no closure)."""
    t0 = time.perf_counter()
    result = evaluate_protocol(pipeline, resampled, targets, protocol,
                               n_splits=n_splits, random_state=seed,
                               data_name=data_name, target_names=target_names)
    if label is not None:
        print(f"[ablation] {label}: " + ", ".join(
            f"{n} {v:.3f}" for n, v in result.ccc.items())
            + f" ({time.perf_counter() - t0:.1f} s)", file=sys.stderr, flush=True)
    return result


def run_ablation(data, *, protocol="receivers", n_splits=5, epochs=40, seed=0,
                 rows=None, model_params=None, device="cpu", n_jobs=None,
                 data_name=None, verbose=0):
    """Run the paper's ablation table and the baselines under one protocol.

    The recordings are resampled once
    (:class:`~sklearn_impression.preprocessing.Resampler`); each row is then a
    pipeline ``ModalityConcatenator(exclude=...)`` -> model, scored with
    :func:`~sklearn_impression.model_selection.evaluate_protocol`.
    Model rows switch a parameter of
    :class:`~sklearn_impression.CrossDomainRegressor` (``inter=False``,
    ``intra=False``, ``kd_weight=0``, ``se_weight=0``: the regularisers are still
    computed and logged); modality rows exclude one modality in the concatenator;
    the baselines are :class:`LSTMBaseline`, :class:`RidgeBaseline`,
    :class:`StimulusMeanBaseline` and :class:`ConstantPredictor` on the same
    frames.

    Parameters
    ----------
    data : Bunch or tuple
        A bunch of :func:`~sklearn_impression.make_impression` or
        :func:`~sklearn_impression.load_impression` (``recordings``, ``targets``,
        optional ``target_names``), or ``(recordings, targets)``.
    protocol : str or protocol object, default="receivers"
        A name of :data:`~sklearn_impression.model_selection.PROTOCOLS`
        (``"paper"``, ``"receivers"``, ``"stimuli"``, ``"receivers+enrol"``,
        ``"receivers+stimuli"``, ``"receivers+stimuli+enrol"``; the ``+enrol``
        ones with 60 s of enrolment), or a protocol object of
        :func:`~sklearn_impression.model_selection.get_protocol` (for other
        enrolment seconds).
    n_splits : int, default=5
        Folds of the grouped protocols.
    epochs : int, default=40
        ``max_epochs`` of the network rows and the LSTM.
    seed : int, default=0
        Seed of the protocol and of every model.
    rows : sequence of str, default=None
        Row keys (see :func:`ablation_rows`); ``None`` = all rows for the data's
        modalities. ``"full"`` is always run (the deltas need it).
    model_params : dict, default=None
        Extra :class:`~sklearn_impression.CrossDomainRegressor` parameters for all
        network rows (e.g. ``{"hidden_size": 32}``).
    device : str, default="cpu"
    n_jobs : int, default=None
        Rows run in parallel with joblib.
    data_name : str, default=None
    verbose : int, default=0
        Progress lines on stderr.

    Returns
    -------
    AblationResult

    Examples
    --------
    >>> from sklearn_impression import make_impression
    >>> data = make_impression(3, 2, 4.0, random_state=0)
    >>> tiny = {"hidden_size": 4, "num_heads": 2, "num_layers": 1, "fc_size": 4}
    >>> result = run_ablation(data, n_splits=3, epochs=1, rows=["no_kd", "ridge"],
    ...                       model_params=tiny)
    >>> [row["key"] for row in result.rows]
    ['full', 'no_kd', 'ridge']
    >>> result.protocol, result.rows[1]["label"]
    ('receivers', '(-) KD loss')
    """
    start = time.perf_counter()
    if isinstance(data, tuple):
        recordings, targets = data
        target_names = None
    else:
        recordings, targets = data.recordings, data.targets
        target_names = getattr(data, "target_names", None)
    if not len(recordings):
        raise ValueError("run_ablation needs at least one recording")
    modalities = sorted({m for r in recordings for m in r.modalities})
    available = ablation_rows(modalities)
    keys = list(available) if rows is None else list(dict.fromkeys(rows))
    for key in keys:
        if key not in available:
            raise ValueError(
                f"unknown ablation row {key!r}; rows for this data: {list(available)}"
            )
    if "full" not in keys:
        keys.insert(0, "full")
    proto = get_protocol(protocol, n_splits, random_state=seed)
    description = describe_data(recordings, targets, data_name)
    pipelines = {k: _row_pipeline(k, modalities, epochs=epochs, seed=seed,
                                  device=device, model_params=model_params)
                 for k in keys}
    if verbose:
        print(f"[ablation] resampling {len(recordings)} recordings", file=sys.stderr,
              flush=True)
    resampled = Resampler().fit_transform(recordings)

    # The resampled recordings go to each (Dask) worker once, not once per row.
    with scatter_inputs(resampled, targets):
        results = Parallel(n_jobs=n_jobs)(
            delayed(_run_row)(pipelines[key], resampled, targets, proto,
                              n_splits=n_splits, seed=seed, data_name=data_name,
                              target_names=target_names,
                              label=available[key] if verbose else None)
            for key in keys
        )
    results = dict(zip(keys, results, strict=True))
    full = results["full"].ccc
    names = results["full"].target_names
    table = []
    for key in keys:
        res = results[key]
        row = {"key": key, "label": available[key]}
        row.update({n: res.ccc[n] for n in names})
        row.update({f"delta_{n}": None if key == "full" else res.ccc[n] - full[n]
                    for n in names})
        row.update({f"fold_mean_{n}": res.ccc_fold_mean[n] for n in names})
        row["wall_time"] = res.wall_time
        table.append(row)
    return AblationResult(
        protocol=proto.name,
        protocol_description=proto.description,
        data=description,
        seed=seed,
        epochs=epochs,
        n_splits=proto.get_n_splits(),
        model_params=dict(model_params or {}),
        target_names=list(names),
        rows=table,
        wall_time=round(time.perf_counter() - start, 3),
        results=results,
    )
