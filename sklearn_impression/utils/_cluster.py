"""Run scikit-learn's joblib parallelism on a Dask cluster.

:func:`dask_backend` points joblib (and so ``GridSearchCV``, ``cross_validate``
and :func:`~sklearn_impression.experiments.run_ablation`) at a
``dask.distributed`` scheduler; :func:`scatter_inputs` sends large inputs to the
workers once inside such a block. Importing this module does not import dask:
the ``distributed`` extra (``pip install "sklearn-impression[distributed]"``) is
needed only when a block is entered.
"""

from contextlib import contextmanager, nullcontext
from contextvars import ContextVar

__all__ = ["dask_backend", "scatter_inputs"]

_EXTRA = (
    "running on a Dask cluster needs dask.distributed; install the 'distributed' "
    "extra: pip install \"sklearn-impression[distributed]\""
)

#: ``(client, scattered objects, wait_for_workers_timeout)`` of the innermost
#: active :func:`dask_backend` block, or None.
_ACTIVE = ContextVar("sklearn_impression_dask_block", default=None)


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(_EXTRA) from exc
    return distributed


@contextmanager
def _dask_config(client, scatter, wait_for_workers_timeout):
    """joblib's public ``parallel_config(backend="dask", ...)``, at least 2 jobs.

    joblib runs ``Parallel`` in the calling process when the effective number of
    jobs is 1, which for the Dask backend means a cluster of one worker thread
    (one GPU worker, say): the fits would silently run in the client. joblib has
    no setting for that, so the backend instance that ``parallel_config`` made
    reports at least 2 jobs (tested: tests/test_dask.py,
    ``test_single_thread_cluster_still_gets_the_tasks``).
    """
    import joblib
    from joblib.parallel import get_active_backend

    extra = {"scatter": list(scatter)} if scatter else {}
    with joblib.parallel_config(backend="dask", client=client,
                                wait_for_workers_timeout=wait_for_workers_timeout,
                                **extra):
        backend, _ = get_active_backend()
        workers_jobs = backend.effective_n_jobs
        backend.effective_n_jobs = lambda n_jobs: max(2, workers_jobs(n_jobs))
        token = _ACTIVE.set((client, tuple(scatter), wait_for_workers_timeout))
        try:
            yield
        finally:
            _ACTIVE.reset(token)


def _set_torch_threads(n):
    """Set torch's intra-op threads in a worker (run through ``Client.run``)."""
    import torch

    torch.set_num_threads(n)
    return torch.get_num_threads()


@contextmanager
def dask_backend(scheduler=None, *, scatter=None, torch_threads=None,
                 wait_for_workers_timeout=10):
    """Run joblib-parallel code (grid searches, cross-validation) on Dask workers.

    Inside the block joblib's Dask backend is active (through
    ``joblib.parallel_config(backend="dask", client=..., scatter=...)``), so
    unchanged scikit-learn code sends each fit to a worker; ``n_jobs=None`` uses
    every worker thread.
    Fitted estimators come back to this process by pickle. Unlike the plain
    joblib backend, a cluster of a single worker thread (one GPU worker) also
    gets the fits: joblib would run them in this process, as for ``n_jobs=1``.

    Parameters
    ----------
    scheduler : str, Client, cluster or None, default=None
        A scheduler address (``"tcp://10.0.0.5:8786"``; a client is opened and
        closed with the block), a ``dask.distributed.Client``, a cluster object
        with a ``scheduler_address`` (``LocalCluster``, dask-jobqueue's
        ``SLURMCluster``; a client is opened for it), or ``None`` for the current
        default client.
    scatter : list or None, default=None
        Objects sent to every worker once at the start of the block (joblib's
        ``scatter``); tasks whose arguments are these very objects (by identity)
        get a reference instead of a copy. Pass the search's ``[X, y]``: joblib
        scatters large NumPy arrays by itself, but not lists such as the list of
        :class:`~sklearn_impression.Recording`, which would otherwise be sent with
        every task.
    torch_threads : int or None, default=None
        Set ``torch.set_num_threads`` in every worker now connected. ``None``
        leaves the workers' setting: Dask's nanny starts workers with
        ``OMP_NUM_THREADS=1``, so torch uses one thread per worker.
    wait_for_workers_timeout : float, default=10
        Seconds joblib waits for a first worker before raising ``TimeoutError``.

    Yields
    ------
    client : dask.distributed.Client

    Raises
    ------
    ImportError
        If ``distributed`` is not installed (names the ``distributed`` extra).

    Examples
    --------
    >>> import sklearn_impression.utils._cluster as cluster
    >>> cluster.dask_backend  # doctest: +ELLIPSIS
    <function dask_backend at 0x...>

    With a cluster (not run here)::

        from dask.distributed import LocalCluster
        with LocalCluster(n_workers=2, threads_per_worker=1) as lc, \\
                dask_backend(lc, scatter=[X, y]):
            search.fit(X, y, groups=groups)
    """
    distributed = _import_distributed()
    if scatter is not None and not isinstance(scatter, (list, tuple)):
        raise TypeError(f"scatter must be a list or tuple of objects, got "
                        f"{type(scatter).__name__}")
    if isinstance(scheduler, distributed.Client):
        client, owned = scheduler, False
    elif scheduler is None:
        try:
            client, owned = distributed.get_client(), False
        except ValueError as exc:
            raise ValueError(
                "dask_backend(None) needs a running dask.distributed.Client; pass "
                "a scheduler address, a cluster or a Client"
            ) from exc
    else:
        address = getattr(scheduler, "scheduler_address", scheduler)
        if not isinstance(address, str):
            raise TypeError(
                "scheduler must be an address string, a dask.distributed.Client, a "
                f"cluster or None, got {type(scheduler).__name__}"
            )
        client, owned = distributed.Client(address, set_as_default=False), True
    try:
        if torch_threads is not None:
            client.run(_set_torch_threads, int(torch_threads))
        with _dask_config(client, scatter or (), wait_for_workers_timeout):
            yield client
    finally:
        if owned:
            client.close()


def scatter_inputs(*objects):
    """Send ``objects`` to the Dask workers once, if the Dask backend is active.

    Inside :func:`dask_backend` this re-opens the Dask backend (joblib's
    ``parallel_config(backend="dask", scatter=...)``) with ``objects`` scattered
    to every worker, so
    ``Parallel`` calls in the block that pass them as arguments send a reference,
    not a copy per task. Outside a :func:`dask_backend` block it does nothing, so
    library code can use it unconditionally.

    Parameters
    ----------
    *objects : object
        The large arguments (e.g. the recordings and targets), passed to the
        parallel tasks as these very objects, not inside a closure.

    Returns
    -------
    context manager

    Examples
    --------
    >>> from joblib import Parallel, delayed
    >>> data = list(range(5))
    >>> with scatter_inputs(data):  # no Dask backend active: a no-op
    ...     Parallel(n_jobs=1)(delayed(len)(data) for _ in range(2))
    [5, 5]
    """
    active = _ACTIVE.get()
    if active is None or not objects:
        return nullcontext()
    client, scattered, timeout = active
    known = {id(o) for o in scattered}
    new = [o for o in objects if id(o) not in known]
    if not new:
        return nullcontext()
    # A new Dask backend block scattering the outer block's objects and these
    # (joblib maps arguments to scattered data by object identity).
    return _dask_config(client, [*scattered, *new], timeout)
