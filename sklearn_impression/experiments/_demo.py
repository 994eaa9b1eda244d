"""The demo behind ``sklearn-impression demo``: the frame leak made visible.

Synthetic IMPRESSION-shaped data (:func:`~sklearn_impression.make_impression`) is
resampled and concatenated once; the cross-domain network, ridge regression and the
constant predictor are then scored under the paper's frame split, under
leave-receivers-out cross-validation (without and with enrolment) and with
receivers and stimuli held out at once (new people on new content), next to an
oracle reference: the CCC of the generator's noise-free impression with the
targets, on the frames each column scores. Plots and a JSON and Markdown report
go to ``out``.

The fits run in parallel processes (joblib), one job per model and protocol and,
for the network under the grouped protocols, one job per fold; each job is
:func:`~sklearn_impression.model_selection.evaluate_protocol` on that fold, and
the folds are pooled exactly as one sequential call would pool them. Every model
has its own seed, so the table does not depend on the number of processes.
"""

from __future__ import annotations

import sys
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs

from ..datasets import make_impression
from ..metrics import ccc_score
from ..model_selection import (
    CrossedGroupKFold,
    EnrolmentSplit,
    ProtocolResult,
    RecordingGroupKFold,
    describe_data,
    evaluate_protocol,
    get_protocol,
)
from ..preprocessing import ModalityConcatenator, Resampler
from ._baselines import ConstantPredictor, RidgeBaseline
from ._plots import plot_loss_trends, plot_receiver_ccc, plot_traces
from ._report import markdown_table, write_report
from ._stimulus_mean import StimulusMeanBaseline

__all__ = ["DEMO_MODEL_PARAMS", "run_demo"]

#: Network settings of the demo per protocol (the paper's sizes need hours, not
#: minutes). The paper split uses the paper's configuration
#: (:meth:`~sklearn_impression.CrossDomainRegressor.paper_preset`, frame-level:
#: its test frames are a sparse, shuffled subset of each recording); the
#: leave-receivers-out protocols use the defaults chosen for new people (see the
#: user guide, "New people"), at the demo's smaller size.
DEMO_MODEL_PARAMS = {
    "paper": {"hidden_size": 32, "num_heads": 4, "batch_size": 256, "window": 1},
    "receivers": {"hidden_size": 32, "num_heads": 4},
    "receivers+enrol": {"hidden_size": 32, "num_heads": 4},
    "receivers+stimuli": {"hidden_size": 32, "num_heads": 4},
}

PROTOCOLS = ("paper", "receivers", "receivers+enrol", "receivers+stimuli")

#: Folds of the new-people-on-new-content column, whatever ``n_splits`` is: two
#: folds need only two stimuli, and each fold trains on half the receivers
#: watching half the stimuli, so the column adds about two thirds of one
#: leave-receivers-out fold of training to the demo's time.
CROSSED_N_SPLITS = 2


class _Progress:
    def __init__(self, total, verbose):
        self.total, self.verbose, self.step = total, verbose, 0
        self.start = time.perf_counter()

    def __call__(self, message):
        self.step += 1
        if self.verbose:
            elapsed = time.perf_counter() - self.start
            print(f"[demo {self.step}/{self.total} {elapsed:6.1f} s] {message}",
                  file=sys.stderr, flush=True)


class _OnlyFold:
    """Mixin: keep fold ``self.fold`` of a grouped protocol, for one parallel job."""

    def split(self, X, y=None, groups=None):
        for k, pair in enumerate(super().split(X, y, groups)):
            if k == self.fold:
                yield pair


class _OneFold(_OnlyFold, RecordingGroupKFold):
    def __init__(self, by, n_splits, fold):
        super().__init__(by, n_splits)
        self.fold = fold


class _OneEnrolmentFold(_OnlyFold, EnrolmentSplit):
    def __init__(self, n_splits, enrol_seconds, fold):
        super().__init__(n_splits, enrol_seconds)
        self.fold = fold


class _OneCrossedFold(_OnlyFold, CrossedGroupKFold):
    def __init__(self, n_splits, fold):
        super().__init__(n_splits)
        self.fold = fold


def _one_fold(proto, fold):
    if isinstance(proto, CrossedGroupKFold):
        return _OneCrossedFold(proto.n_splits, fold)
    if isinstance(proto, EnrolmentSplit):
        return _OneEnrolmentFold(proto.n_splits, proto.enrol_seconds, fold)
    return _OneFold(proto.by, proto.n_splits, fold)


def _job(model, frames, targets, protocol, *, seed, data_name, keep, threads):
    """One ``evaluate_protocol`` call, with ``threads`` torch and BLAS threads.

    Limiting BLAS too (loky's workers start with one BLAS thread, the main
    process with all cores) keeps ridge's sums in the same order in a worker and
    in this process, so the table does not depend on ``n_jobs``.
    """
    from threadpoolctl import threadpool_limits

    previous = None
    blas = nullcontext()
    if threads is not None:
        from ..utils._torch import import_torch

        torch = import_torch()

        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
        blas = threadpool_limits(limits=threads)
    try:
        with blas:
            return evaluate_protocol(model, frames, targets, protocol,
                                     n_splits=getattr(protocol, "n_splits", 5),
                                     random_state=seed, data_name=data_name,
                                     return_estimators=keep)
    finally:
        if previous is not None:
            torch.set_num_threads(previous)


def _pool_folds(parts, targets, receivers, protocol):
    """One :class:`ProtocolResult` from the per-fold results of ``protocol``."""
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    names = first.target_names
    predictions = [None] * len(targets)
    scored = [None] * len(targets)  # frames scored (None: all of them)
    for part in parts:
        for i, p in enumerate(part.predictions):
            if p is not None:
                predictions[i] = p
                scored[i] = part.frame_indices[i]
    tested = [i for i, p in enumerate(predictions) if p is not None]
    pooled = np.asarray(ccc_score([targets[i] if scored[i] is None
                                   else targets[i][scored[i]] for i in tested],
                                  [predictions[i] for i in tested],
                                  multioutput="raw_values", average="pooled"))
    by_receiver = {}
    for part in parts:
        by_receiver.update(part.receiver_ccc)
    order = dict.fromkeys(receivers[i] for i in tested)
    fold_ccc = [f for part in parts for f in part.fold_ccc]
    return ProtocolResult(
        protocol=first.protocol, protocol_description=protocol.description,
        estimator=first.estimator, data=first.data,
        random_state=first.random_state, target_names=names,
        ccc={n: float(v) for n, v in zip(names, pooled.reshape(-1), strict=True)},
        ccc_fold_mean={n: float(np.mean([f[n] for f in fold_ccc])) for n in names},
        fold_ccc=fold_ccc, valid_ccc=None,
        receiver_ccc={r: by_receiver[r] for r in order},
        folds=[f for part in parts for f in part.folds],
        wall_time=round(sum(part.wall_time for part in parts), 3),
        predictions=predictions, frame_indices=scored,
        estimators=None if first.estimators is None
        else [e for part in parts for e in part.estimators],
    )


def _oracle_on_scored_frames(result, targets, impression, names):
    """CCC of the noise-free ``impression`` with ``targets``, pooled over the
    frames ``result`` scored (its recordings with predictions, at its
    ``frame_indices``): the oracle reference of that column.

    It is a reference, not a bound: the noise-free impression knows nothing of
    the slider's steps and hysteresis, which a model could learn.
    """
    tested = [i for i, p in enumerate(result.predictions) if p is not None]
    scored = result.frame_indices

    def part(traces, i):
        return traces[i] if scored[i] is None else traces[i][scored[i]]

    values = np.asarray(ccc_score([part(targets, i) for i in tested],
                                  [part(impression, i) for i in tested],
                                  multioutput="raw_values", average="pooled"))
    return dict(zip(names, values.reshape(-1).tolist(), strict=True))


def _tagged(key, fn, *args, **kwargs):
    return key, fn(*args, **kwargs)


def run_demo(out="results", *, seed=0, epochs=8, n_receivers=8, n_stimuli=8,
             duration=24.0, n_splits=4, enrol_seconds=60.0, device="cpu",
             model_params=None, n_jobs=None, torch_threads=1, verbose=1):
    """Train and score under paper, receivers, receivers+enrol, receivers+stimuli.

    Parameters
    ----------
    out : str or Path, default="results"
        Folder for ``demo.json``, ``demo.md``, ``loss_trends.png``,
        ``traces.png`` and ``receiver_ccc.png`` (created if missing).
    seed : int, default=0
        Seed of the data, the paper split and every model.
    epochs : int, default=8
        ``max_epochs`` of the network.
    n_receivers, n_stimuli : int, default=8, 8
        Synthetic data size: every receiver watches every stimulus (8 stimuli,
        so the new-content column trains on 4 of them).
    duration : float, default=24.0
        Seconds per stimulus.
    n_splits : int, default=4
        Folds of the leave-receivers-out protocols. The ``receivers+stimuli``
        column (new people on new content) always has
        ``CROSSED_N_SPLITS`` (2) folds, so it needs at least 2 receivers and
        2 stimuli.
    enrol_seconds : float, default=60.0
        Labelled seconds per test receiver given for enrolment under
        ``receivers+enrol``; must leave some of each receiver's
        ``n_stimuli * duration`` seconds to score.
    device : str, default="cpu"
    model_params : dict, default=None
        :class:`~sklearn_impression.CrossDomainRegressor` parameters replacing
        those of :data:`DEMO_MODEL_PARAMS` under both protocols.
    n_jobs : int, default=None
        Processes for the fits (joblib; ``None`` is 1, ``-1`` one per core). The
        results do not depend on it.
    torch_threads : int or None, default=1
        torch CPU threads of each fit (``None``: leave torch's setting).
    verbose : int, default=1
        Progress lines on stderr, one per finished fit with its protocol and fold.

    Returns
    -------
    dict
        The report: ``table`` (rows of model, protocol and CCC per dimension),
        ``results`` per model and protocol, ``oracle`` (per protocol and
        dimension, the CCC of the noise-free impression on the frames that
        protocol scores), ``data``, ``seed``, ``epochs``, ``wall_time``,
        ``files`` and ``markdown``.

    Examples
    --------
    >>> import tempfile
    >>> tiny = {"hidden_size": 4, "num_heads": 2, "num_layers": 1, "fc_size": 4}
    >>> report = run_demo(tempfile.mkdtemp(), n_receivers=3, n_stimuli=2,
    ...                   duration=4.0, n_splits=3, enrol_seconds=2.0, epochs=1,
    ...                   model_params=tiny, verbose=0)
    >>> [row["model"] for row in report["table"]]
    ['CrossDomainRegressor', 'Ridge', 'Stimulus mean', 'Constant',
     'Oracle (noise-free impression)']
    >>> sorted(report["files"])
    ['json', 'loss_trends', 'markdown_file', 'receiver_ccc', 'traces']
    """
    from ..regressor._estimator import CrossDomainRegressor

    if not 0 < enrol_seconds < n_stimuli * duration:
        raise ValueError(
            f"enrol_seconds={enrol_seconds:g} must be > 0 and leave frames to score: "
            f"each receiver has {n_stimuli} x {duration:g} s = "
            f"{n_stimuli * duration:g} s")
    start = time.perf_counter()
    progress = _Progress(6, verbose)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    progress(f"generating synthetic data: {n_receivers} receivers x {n_stimuli} "
             f"stimuli x {duration:g} s")
    data = make_impression(n_receivers, n_stimuli, duration, random_state=seed)
    names = tuple(data.target_names)
    progress("resampling to the label rate and concatenating the modalities")
    frames = ModalityConcatenator().fit_transform(
        Resampler().fit_transform(data.recordings))
    description = describe_data(data.recordings, data.targets,
                                f"make_impression(seed={seed})")
    params = {p: {**DEMO_MODEL_PARAMS[p], **(model_params or {})} for p in PROTOCOLS}
    # the paper split uses the paper's configuration, the others the defaults
    build = {"paper": CrossDomainRegressor.paper_preset}
    models = {p: {"CrossDomainRegressor": build.get(p, CrossDomainRegressor)(
                      max_epochs=epochs, random_state=seed, device=device,
                      **params[p]),
                  "Ridge": RidgeBaseline(),
                  "Stimulus mean": StimulusMeanBaseline(),
                  "Constant": ConstantPredictor()}
              for p in PROTOCOLS}
    protocols = {p: get_protocol(p, CROSSED_N_SPLITS if p == "receivers+stimuli"
                                 else n_splits, random_state=seed,
                                 enrol_seconds=enrol_seconds) for p in PROTOCOLS}
    list(protocols["receivers+stimuli"].split(frames))  # its errors before any fit
    # no training receiver annotated a test stimulus: the stimulus mean has no
    # trace to give (it would predict the training mean, like the constant)
    skipped = {("Stimulus mean", "receivers+stimuli")}
    jobs = []  # (label, protocol, fold or None, protocol object), slowest first
    for label in models[PROTOCOLS[0]]:
        for p in PROTOCOLS:
            if (label, p) in skipped:
                continue
            proto = protocols[p]
            per_fold = isinstance(proto, (RecordingGroupKFold, CrossedGroupKFold))
            if label == "CrossDomainRegressor" and per_fold:
                jobs += [(label, p, k, _one_fold(proto, k))
                         for k in range(proto.get_n_splits())]
            else:
                jobs.append((label, p, None, proto))
    runner = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    progress(f"training and scoring {len(jobs)} fits (the network per protocol "
             f"and fold, the baselines) in {effective_n_jobs(n_jobs)} "
             "process(es)")
    calls = (delayed(_tagged)(k, _job, models[p][label], frames, data.targets, proto,
                              seed=seed, data_name=description["name"],
                              keep=(label, p) == ("CrossDomainRegressor", "paper"),
                              threads=torch_threads)
             for k, (label, p, _, proto) in enumerate(jobs))
    parts = {}
    for k, part in runner(calls):
        label, p, fold, _ = jobs[k]
        parts[k] = part
        if verbose:
            where = (p if fold is None
                     else f"{p} fold {fold + 1}/{protocols[p].n_splits}")
            ccc = ", ".join(f"{n} {v:.3f}" for n, v in part.ccc.items())
            fit = sum(f["fit_time"] for f in part.folds)
            print(f"[demo {time.perf_counter() - start:6.1f} s] {label}, {where}: "
                  f"fit {fit:.1f} s, test CCC {ccc}", file=sys.stderr, flush=True)
    results = {}
    for label in models[PROTOCOLS[0]]:
        for p in PROTOCOLS:
            if (label, p) in skipped:
                continue
            mine = [parts[k] for k, job in enumerate(jobs) if job[:2] == (label, p)]
            results[label, p] = _pool_folds(mine, data.targets, frames.receivers,
                                            protocols[p])
    fit_seconds = sum(f["fit_time"] for r in results.values() for f in r.folds)
    # every model of a protocol scores the same frames; ridge runs under all
    oracle = {p: _oracle_on_scored_frames(results["Ridge", p], data.targets,
                                          data.impression, names)
              for p in PROTOCOLS}

    progress("plotting")
    files = {}
    paper_model = results["CrossDomainRegressor", "paper"].estimators[0]
    files["loss_trends"] = out / "loss_trends.png"
    plot_loss_trends(paper_model, path=files["loss_trends"])
    lro = results["CrossDomainRegressor", "receivers"]
    shown = list(range(min(3, len(frames))))
    files["traces"] = out / "traces.png"
    plot_traces([data.targets[i] for i in shown], [lro.predictions[i] for i in shown],
                labels=[f"receiver {data.receivers[i]}, stimulus {data.stimuli[i]}"
                        for i in shown],
                target_names=names, frame_rate=data.frame_rate,
                path=files["traces"])
    files["receiver_ccc"] = out / "receiver_ccc.png"
    plot_receiver_ccc(lro.receiver_ccc, target_names=names,
                      title="CCC per receiver (leave-receivers-out)",
                      path=files["receiver_ccc"])

    progress("writing the report")
    table = []
    for label in models[PROTOCOLS[0]]:
        row = [label]
        for protocol in PROTOCOLS:
            row += [results[label, protocol].ccc[n] if (label, protocol) in results
                    else None for n in names]
        table.append(row)
    table.append(["Oracle (noise-free impression)"]
                 + [oracle[p][n] for p in PROTOCOLS for n in names])
    header = ["model"] + [f"{p} {n}" for p in PROTOCOLS for n in names]
    wall_time = time.perf_counter() - start
    d = description
    markdown = "\n".join([
        "# sklearn-impression demo",
        "",
        f"- Data: {d['name']}: {d['n_recordings']} recordings, {d['n_frames']} "
        f"frames ({d['hours']} h), {d['n_receivers']} receivers, "
        f"{d['n_stimuli']} stimuli",
        f"- Seed: {seed}; network: {epochs} epochs; "
        + "; ".join(f"`{p}`: " + ", ".join(f"{k}={v}" for k, v in params[p].items())
                    for p in PROTOCOLS),
        f"- `paper`: {results['Ridge', 'paper'].protocol_description}",
        f"- `receivers`: {results['Ridge', 'receivers'].protocol_description}",
        f"- `receivers+enrol`: "
        f"{results['Ridge', 'receivers+enrol'].protocol_description}",
        f"- `receivers+stimuli`: "
        f"{results['Ridge', 'receivers+stimuli'].protocol_description}",
        "- CCC over all pooled test frames; the oracle row, a reference and "
        "not a bound, is the CCC of the generator's noise-free impression with "
        "the stepwise targets on the same frames as each column",
        f"- Wall time: {wall_time:.1f} s ({effective_n_jobs(n_jobs)} "
        f"process(es); the fits took {fit_seconds:.1f} s in all)",
        "",
        markdown_table(header, table),
        "",
        "The gap between `paper` and `receivers` is what the paper's frame split "
        "leaks: its test frames have neighbours from the same receiver and "
        "stimulus in training. `receivers+enrol` is a stranger who annotated "
        "briefly: the network is enrolled with `adapt` (per receiver an output "
        "offset and gain, a weight of the stimulus's training trace and a "
        "reaction delay), the other models get an output "
        "offset from the same seconds, and those seconds are not scored. "
        "`Stimulus mean` predicts the training receivers' mean annotation of "
        "the same stimulus at the same moment and reads no signal of the test "
        "person: under leave-receivers-out it is what recognising the stimulus "
        "alone earns. `receivers+stimuli` is new people on new content, which is "
        "what a live conversation is: no test person and no test stimulus is in "
        "training, so no model can lean on a stimulus it has seen annotated "
        "(`Stimulus mean` has no trace of an unseen stimulus: no cell).",
        "",
    ])
    report = {
        "data": description,
        "seed": seed,
        "epochs": epochs,
        "model_params": params,
        "protocols": {p: results["Ridge", p].protocol_description
                      for p in PROTOCOLS},
        "table": [dict(zip(header, row, strict=True)) for row in table],
        "oracle": oracle,
        "results": {f"{label} / {protocol}": res.to_dict()
                    for (label, protocol), res in results.items()},
        "wall_time": round(wall_time, 2),
        "n_jobs": effective_n_jobs(n_jobs),
        "fit_seconds": round(fit_seconds, 2),
        "files": {k: str(v) for k, v in files.items()},
        "markdown": markdown,
    }
    paths = write_report(report, out, "demo")
    report["files"].update({"json": str(paths["json"]),
                            "markdown_file": str(paths["markdown"])})
    progress(f"done in {time.perf_counter() - start:.1f} s; report in {out}")
    return report
