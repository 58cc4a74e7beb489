"""Count each flow run and its duration in the shared store, whatever its outcome."""

import functools
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from models.db import make_engine
from models.settings import get_settings
from tasks.store.own_metrics import OWN_METRICS
from tasks.store.shared_counters import FLOW_RUN_SECONDS

P = ParamSpec("P")
R = TypeVar("R")


def timed_run(flow_name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Wrap a flow's function: its duration goes to ``vigil_flow_run_duration_seconds``.

    Put it under ``@flow`` (Prefect reads the wrapped signature for the parameters).
    The count reaches the store at once, or with the process's next flush if it is down.
    """

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            began, outcome = time.monotonic(), "failed"
            try:
                result = fn(*args, **kwargs)
                outcome = "completed"
                return result
            finally:
                _record(flow_name, outcome, time.monotonic() - began)

        return run

    return wrap


def _record(flow_name: str, outcome: str, seconds: float) -> None:
    # Module level, not in the closure: a Dask task runner pickles the flow, and the closure
    # must reach OWN_METRICS (which holds a lock) by reference, not by value.
    OWN_METRICS.observe(FLOW_RUN_SECONDS, seconds, flow=flow_name, outcome=outcome)
    engine = make_engine(get_settings().database_url)
    try:
        OWN_METRICS.flush(engine)
    finally:
        engine.dispose()
