"""Choose the Prefect task runner for analytics flows: Dask when configured, else processes."""

from prefect.task_runners import ThreadPoolTaskRunner


def analytics_task_runner(dask_address: str | None, workers: int = 2):  # type: ignore[no-untyped-def]
    """A DaskTaskRunner on ``dask_address`` (needs prefect-dask), else a thread pool.

    Threads suffice on one machine: statsmodels and numpy release the GIL in their
    heavy parts, and threads start instantly (a process pool pays ~3 s per worker).
    """
    if dask_address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=dask_address)
    return ThreadPoolTaskRunner(max_workers=workers)
