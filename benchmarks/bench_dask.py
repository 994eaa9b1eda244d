"""Grid search on a Dask cluster vs one process, and what scattering the data saves.

One ``GridSearchCV`` over the full pipeline (Resampler -> ModalityConcatenator ->
CrossDomainRegressor) on :func:`~sklearn_impression.make_impression` data,
leave-receivers-out folds, ``refit=False`` (the refit is one serial fit in the
client either way):

1. **one process**: ``n_jobs=1`` with one torch thread and one BLAS thread (what
   one Dask worker runs with); with ``--default-threads-baseline`` also once with
   the default threads;
2. **Dask**: a ``LocalCluster`` of ``--workers`` processes with one thread each
   (loopback only), through :func:`sklearn_impression.utils._cluster.dask_backend`,
   with and without ``scatter=[X, y]``.

After a warm-up (imports and one search in this process, one tiny fit in each
worker) the three run interleaved ``--repeats`` times; the best time of each is
reported (all runs are listed).

Bytes are counted in every cluster process by wrapping distributed's TCP
``write`` (the number of bytes each message puts on a socket): client ->
scheduler -> worker task messages, scattered data, results. The scores of every
Dask run are checked against the one-process run.

Run ``python benchmarks/bench_dask.py`` (a few minutes on 2 cores); prints JSON
with the machine, versions, sizes, times, speed-up and bytes.
"""

import argparse
import json
import os
import pickle
import platform
import time

import numpy as np

_COUNTER = "_bench_dask_bytes_written"


def install_byte_counter():
    """Count bytes written by distributed's TCP comms in this process."""
    import distributed.comm.tcp as tcp

    if not hasattr(tcp.TCP, "_bench_original_write"):
        original = tcp.TCP.write

        async def write(self, msg, serializers=None, on_error="message"):
            n = await original(self, msg, serializers, on_error)
            setattr(tcp, _COUNTER, getattr(tcp, _COUNTER, 0) + n)
            return n

        tcp.TCP._bench_original_write = original
        tcp.TCP.write = write
    return True


def bytes_written():
    import distributed.comm.tcp as tcp

    return getattr(tcp, _COUNTER, 0)


def total_bytes(client):
    return bytes_written() + sum(client.run(bytes_written).values())


def warm_up():
    """Import everything and run a tiny pipeline fit (in a worker or here)."""
    from sklearn.pipeline import make_pipeline

    from sklearn_impression import ModalityConcatenator, Resampler, make_impression
    from sklearn_impression.regressor import CrossDomainRegressor

    X, y = make_impression(2, 1, 2.0, return_X_y=True, random_state=0)
    model = CrossDomainRegressor.paper_preset(hidden_size=2, num_heads=1, max_epochs=1,
                                              random_state=0)
    make_pipeline(Resampler(), ModalityConcatenator(), model).fit(X, y)
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scheduler", default=None,
                        help="use this running scheduler instead of a LocalCluster")
    parser.add_argument("--receivers", type=int, default=4)
    parser.add_argument("--stimuli", type=int, default=3)
    parser.add_argument("--duration", type=float, default=30.0,
                        help="seconds per stimulus")
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--default-threads-baseline", action="store_true",
                        help="also time one process with torch's default threads "
                             "(slow on a busy machine: torch threads spin)")
    args = parser.parse_args()

    import dask
    import distributed
    import joblib
    import sklearn
    import torch
    from sklearn.model_selection import GridSearchCV, GroupKFold
    from sklearn.pipeline import Pipeline
    from threadpoolctl import threadpool_limits

    import sklearn_impression
    from sklearn_impression import (
        ModalityConcatenator,
        Resampler,
        ccc_scorer,
        make_impression,
    )
    from sklearn_impression.regressor import CrossDomainRegressor
    from sklearn_impression.utils._cluster import dask_backend

    data = make_impression(args.receivers, args.stimuli, args.duration,
                           random_state=0)
    X, y, groups = data.recordings, data.targets, data.receivers
    pipe = Pipeline([
        ("resample", Resampler()), ("concat", ModalityConcatenator()),
        ("model", CrossDomainRegressor.paper_preset(
            hidden_size=args.hidden, num_heads=2, max_epochs=args.epochs,
            batch_size=args.batch_size, device=args.device, random_state=0)),
    ])
    grid = {"model__lr": [1e-3, 1e-2], "model__dropout": [0.0, 0.3]}
    n_fits = 4 * args.folds

    def search():
        t0 = time.perf_counter()
        gs = GridSearchCV(pipe, grid, scoring=ccc_scorer, cv=GroupKFold(args.folds),
                          refit=False).fit(X, y, groups=groups)
        return time.perf_counter() - t0, gs.cv_results_["mean_test_score"]

    install_byte_counter()
    t0 = time.perf_counter()
    if args.scheduler:
        cluster = None
        client = distributed.Client(args.scheduler)
    else:
        cluster = distributed.LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True,
            host="127.0.0.1", dashboard_address=None)
        client = distributed.Client(cluster)
    client.wait_for_workers(args.workers)
    t_start = time.perf_counter() - t0
    client.run(install_byte_counter)
    client.run(warm_up)
    t_warm = time.perf_counter() - t0 - t_start
    n_workers = len(client.nthreads())
    n_threads = sum(client.nthreads().values())

    default_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    # One process on one core, like a worker (whose nanny sets OMP_NUM_THREADS=1):
    # NumPy/SciPy's BLAS and FFT pools get one thread too.
    one_core = threadpool_limits(1)
    warm_up()
    scores = None  # the first one-process run's, the reference
    runs = {"one_process": [], "plain": [], "scatter": []}
    equal = True
    # Interleaved so that changing load on a shared machine hits all three alike.
    for _ in range(args.repeats):
        t, s = search()
        runs["one_process"].append({"time_s": round(t, 3)})
        scores = s if scores is None else scores
        equal &= bool(np.array_equal(s, scores))
        for mode in ("plain", "scatter"):
            before = total_bytes(client)
            with dask_backend(client, scatter=[X, y] if mode == "scatter" else None):
                t, s = search()
            runs[mode].append({"time_s": round(t, 3),
                               "bytes": total_bytes(client) - before})
            equal &= bool(np.array_equal(s, scores))
    one_process_runs = runs.pop("one_process")
    baseline = {"one_process_1_torch_thread":
                min(r["time_s"] for r in one_process_runs)}
    one_core.restore_original_limits()
    if args.default_threads_baseline:
        torch.set_num_threads(default_threads)
        t_local_default, scores_default = search()
        baseline[f"one_process_{default_threads}_torch_threads"] = round(
            t_local_default, 3)
    worker_threads = sorted(set(client.run(torch.get_num_threads).values()))
    client.close()
    if cluster is not None:
        cluster.close()

    best = {m: min(r["time_s"] for r in v) for m, v in runs.items()}
    mean_bytes = {m: float(np.mean([r["bytes"] for r in v])) for m, v in runs.items()}
    x_bytes = len(pickle.dumps((X, y), protocol=5))
    print(json.dumps({
        "benchmark": "grid search on Dask vs one process; scatter vs per-task data",
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(),
                    "load_average_1m_at_end": round(os.getloadavg()[0], 2),
                    "processor": platform.processor()},
        "versions": {"python": platform.python_version(),
                     "sklearn_impression": sklearn_impression.__version__,
                     "torch": torch.__version__, "sklearn": sklearn.__version__,
                     "joblib": joblib.__version__, "dask": dask.__version__,
                     "distributed": distributed.__version__},
        "sizes": {"recordings": len(X), "frames": int(sum(len(t) for t in y)),
                  "pickled_X_y_bytes": x_bytes, "candidates": 4,
                  "folds": args.folds, "fits": n_fits, "epochs": args.epochs,
                  "hidden_size": args.hidden, "batch_size": args.batch_size,
                  "device": args.device},
        "cluster": {"workers": n_workers,
                    "threads": n_threads, "worker_torch_threads": worker_threads,
                    "start_s": round(t_start, 2), "warm_up_s": round(t_warm, 2),
                    "scheduler": args.scheduler or "LocalCluster 127.0.0.1"},
        "times_s": {**baseline,
                    "one_process_runs": [r["time_s"] for r in one_process_runs],
                    "dask_plain_runs": runs["plain"],
                    "dask_scatter_runs": runs["scatter"],
                    "dask_plain_best": best["plain"],
                    "dask_scatter_best": best["scatter"]},
        "speed_up": {
            **{f"vs_{k}": round(v / best["scatter"], 2) for k, v in baseline.items()},
            "scatter_vs_plain_time": round(best["plain"] / best["scatter"], 2)},
        "bytes_over_tcp": {
            "plain_mean": int(mean_bytes["plain"]),
            "scatter_mean": int(mean_bytes["scatter"]),
            "saved": int(mean_bytes["plain"] - mean_bytes["scatter"]),
            "plain_per_fit_over_pickled_X_y":
                round(mean_bytes["plain"] / n_fits / x_bytes, 2)},
        "scores_equal_one_process": equal,
        **({"scores_equal_across_torch_threads":
            bool(np.array_equal(scores, scores_default))}
           if args.default_threads_baseline else {}),
    }, indent=2))


if __name__ == "__main__":
    main()
