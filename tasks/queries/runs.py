"""Prefect's run history of every Vigil flow, read through the Prefect API."""

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

RUN_COLUMNS = ["flow", "run", "state", "start", "end", "duration_s", "message", "id"]


class PrefectUnavailable(Exception):
    """The Prefect API did not answer; the message says where it was looked for."""


@contextmanager
def prefect_client(api_url: str) -> Iterator[Any]:
    """Open a sync Prefect client (no event loop to fight in Streamlit), 5 s timeouts.

    It authenticates as Prefect's own clients do (``PREFECT_API_AUTH_STRING``, which
    `vigil up` hands to the dashboard).

    Raises:
        PrefectUnavailable: the API cannot be reached or answered with an error.
    """
    import httpx
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.settings import PREFECT_API_AUTH_STRING

    auth = PREFECT_API_AUTH_STRING.value()
    try:
        with SyncPrefectClient(api_url, auth_string=auth, httpx_settings={"timeout": 5}) as client:
            yield client
    except (httpx.HTTPError, OSError) as exc:
        raise PrefectUnavailable(f"the Prefect API at {api_url} did not answer: {exc}") from exc


def flow_names(api_url: str) -> list[str]:
    """Return the names of the flows the Prefect API knows, sorted."""
    from prefect.client.schemas.sorting import FlowSort

    with prefect_client(api_url) as client:
        return [f.name for f in client.read_flows(limit=200, sort=FlowSort.NAME_ASC)]


def flow_runs(
    api_url: str,
    *,
    since: datetime,
    flows: Sequence[str] = (),
    states: Sequence[str] = (),
    limit: int = 500,
) -> "pd.DataFrame":
    """Return up to ``limit`` flow runs expected to start after ``since``, newest first.

    Columns: ``RUN_COLUMNS``; ``state`` is the state type (COMPLETED, FAILED, …).

    Raises:
        PrefectUnavailable: the API at ``api_url`` cannot be reached or answered an error.
    """
    import pandas as pd
    from prefect.client.schemas import filters as f
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort, FlowSort

    run_filter = f.FlowRunFilter(expected_start_time=f.FlowRunFilterExpectedStartTime(after_=since))
    if states:
        state_types = f.FlowRunFilterStateType(any_=[StateType(s) for s in states])
        run_filter.state = f.FlowRunFilterState(type=state_types)
    flow_filter = f.FlowFilter(name=f.FlowFilterName(any_=list(flows))) if flows else None
    runs: list[Any] = []
    with prefect_client(api_url) as client:
        names = {fl.id: fl.name for fl in client.read_flows(limit=200, sort=FlowSort.NAME_ASC)}
        while len(runs) < limit:  # the API returns at most 200 per call
            page = client.read_flow_runs(
                flow_filter=flow_filter,
                flow_run_filter=run_filter,
                sort=FlowRunSort.EXPECTED_START_TIME_DESC,
                limit=min(200, limit - len(runs)),
                offset=len(runs),
            )
            runs.extend(page)
            if len(page) < 200:
                break
    return pd.DataFrame([_run_row(run, names) for run in runs], columns=RUN_COLUMNS)


def _run_row(run: Any, flow_names: Mapping[Any, str]) -> dict[str, Any]:
    state = run.state
    return {
        "flow": flow_names.get(run.flow_id, str(run.flow_id)),
        "run": run.name,
        "state": state.type.value if state else "UNKNOWN",
        "start": run.start_time or run.expected_start_time,
        "end": run.end_time,
        "duration_s": run.total_run_time.total_seconds(),
        "message": (state.message or "") if state else "",
        "id": str(run.id),
    }


def run_url(ui_url: str, run_id: str) -> str:
    """Return the Prefect UI page of a flow run.

    >>> run_url("http://127.0.0.1:4200", "abc")
    'http://127.0.0.1:4200/runs/flow-run/abc'
    """
    return f"{ui_url.rstrip('/')}/runs/flow-run/{run_id}"


DEPLOYMENT_COLUMNS = ["deployment", "last_state", "last_start", "next_run", "schedule"]


def deployment_runs(api_url: str) -> "pd.DataFrame":
    """Return each deployment with its last run's state and start and its next scheduled run.

    Columns: ``DEPLOYMENT_COLUMNS``; ``deployment`` reads ``flow/name``, ``last_state`` is the
    state type of the newest run that left the schedule ('' if none), ``next_run`` the
    earliest scheduled start (NaT if none), ``schedule`` says how often ('on demand' if never).

    Raises:
        PrefectUnavailable: the API at ``api_url`` cannot be reached or answered an error.
    """
    import pandas as pd
    from prefect.client.schemas import filters as f
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    rows = []
    with prefect_client(api_url) as client:
        flows = {fl.id: fl.name for fl in client.read_flows(limit=200)}
        for deployment in client.read_deployments(limit=200):
            by_deployment = f.DeploymentFilter(id=f.DeploymentFilterId(any_=[deployment.id]))
            scheduled = f.FlowRunFilterStateType(any_=[StateType.SCHEDULED])
            left = f.FlowRunFilter(state=f.FlowRunFilterState(type=_not(scheduled)))
            waiting = f.FlowRunFilter(state=f.FlowRunFilterState(type=scheduled))
            last = client.read_flow_runs(
                deployment_filter=by_deployment,
                flow_run_filter=left,
                sort=FlowRunSort.EXPECTED_START_TIME_DESC,
                limit=1,
            )
            upcoming = client.read_flow_runs(
                deployment_filter=by_deployment,
                flow_run_filter=waiting,
                sort=FlowRunSort.EXPECTED_START_TIME_ASC,
                limit=1,
            )
            rows.append(
                {
                    "deployment": f"{flows.get(deployment.flow_id, '?')}/{deployment.name}",
                    "last_state": last[0].state.type.value if last and last[0].state else "",
                    "last_start": (last[0].start_time or last[0].expected_start_time)
                    if last
                    else None,
                    "next_run": upcoming[0].expected_start_time if upcoming else None,
                    "schedule": _every(deployment),
                }
            )
    frame = pd.DataFrame(rows, columns=DEPLOYMENT_COLUMNS).sort_values("deployment")
    for column in ("last_start", "next_run"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame.reset_index(drop=True)


def _not(types: Any) -> Any:
    """The state types other than ``types``."""
    from prefect.client.schemas import filters as f
    from prefect.client.schemas.objects import StateType

    return f.FlowRunFilterStateType(any_=[t for t in StateType if t not in types.any_])


def _every(deployment: Any) -> str:
    """Say how often a deployment runs: 'every 300s' or 'on demand'.

    >>> from datetime import timedelta
    >>> from types import SimpleNamespace as N
    >>> _every(N(schedules=[N(schedule=N(interval=timedelta(minutes=5)))]))
    'every 300s'
    >>> _every(N(schedules=[]))
    'on demand'
    """
    for entry in deployment.schedules or []:
        interval = getattr(entry.schedule, "interval", None)
        if interval is not None:
            return f"every {interval.total_seconds():g}s"
    return "on demand"
