"""Choose the Prefect task runner for analytics flows: Dask when configured, else threads."""

from prefect.task_runners import ThreadPoolTaskRunner

LOCAL_WORKERS = 2  # threads on one machine (sized for 2 cores)


def analytics_task_runner(dask_address: str | None):  # type: ignore[no-untyped-def]
    """A DaskTaskRunner on ``dask_address`` (needs prefect-dask), else a thread pool.

    Threads suffice on one machine: statsmodels and numpy release the GIL in their
    heavy parts, and threads start instantly (a process pool pays ~3 s per worker).
    """
    if dask_address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=dask_address)
    return ThreadPoolTaskRunner(max_workers=LOCAL_WORKERS)
