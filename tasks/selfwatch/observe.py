"""One self-watch pass: Vigil's state as samples its built-in rules watch, and the heartbeat.

Read from the store: the age of the newest collect tick, the outbox's depth and the age
of its oldest undelivered notice, each channel's breaker and consecutive failures, how
far the oldest raw sample is past its retention. From the Prefect API: each
deployment's late and failed runs over the window.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select

from models.alerting import ChannelBreaker
from models.config.root import VigilConfig
from models.metrics import Sample
from models.store import MetricStore, NewSample
from tasks.alerting.store import to_dt, to_ts
from tasks.core.selfwatch.heartbeat import HEARTBEAT_KIND, heartbeat_due, heartbeat_text
from tasks.notify.outbox import OUTBOX, Message, enqueue
from tasks.store.shared_counters import BREAKER_VALUE, outbox_backlog

PAGE = 200  # Prefect's default api.default_limit, the most a server hands out at once

BREAKER = ChannelBreaker.__table__  # type: ignore[attr-defined]
SAMPLE = Sample.__table__  # type: ignore[attr-defined]


def store_samples(store: MetricStore, config: VigilConfig, now: datetime) -> list[NewSample]:
    """Samples about the collect run, the outbox, the channels and retention."""
    now_s, labels = now.timestamp(), dict(config.labels)
    out = []
    ticks = store.latest_points("vigil_collect_tick")
    if ticks:
        newest = max(point.ts for point in ticks)
        out.append(NewSample("vigil_collection_age_seconds", labels, now_s, now_s - newest))
    with store.engine.connect() as conn:
        depth, oldest_age = outbox_backlog(conn, now_s)
        breakers = conn.execute(select(BREAKER.c.channel, BREAKER.c.state, BREAKER.c.failures))
        channels = {row.channel: (row.state, row.failures) for row in breakers}
        oldest_ms = conn.execute(select(func.min(SAMPLE.c.ts_ms))).scalar()
    out += [
        NewSample("vigil_outbox_depth", labels, now_s, float(depth)),
        NewSample("vigil_outbox_oldest_age_seconds", labels, now_s, oldest_age),
    ]
    for channel in (c.name for c in config.channels):
        state, failures = channels.get(channel, ("closed", 0))
        tagged = {**labels, "channel": channel}
        out.append(NewSample("vigil_channel_breaker_state", tagged, now_s, BREAKER_VALUE[state]))
        out.append(NewSample("vigil_channel_consecutive_failures", tagged, now_s, float(failures)))
    if oldest_ms is not None:
        kept_s = now_s - oldest_ms / 1000
        lag = max(0.0, kept_s - config.collectors.retention.raw.total_seconds())
        out.append(NewSample("vigil_retention_lag_seconds", labels, now_s, lag))
    return out


def deployment_samples(
    counts: Mapping[str, tuple[int, int]], labels: Mapping[str, str], now: datetime
) -> list[NewSample]:
    """``{deployment: (late, failed)}`` as samples."""
    out = []
    for deployment, (late, failed) in sorted(counts.items()):
        tagged = {**labels, "deployment": deployment}
        out.append(NewSample("vigil_deployment_late_runs", tagged, now.timestamp(), float(late)))
        out.append(
            NewSample("vigil_deployment_failed_runs", tagged, now.timestamp(), float(failed))
        )
    return out


def deployment_run_counts(window: timedelta, now: datetime) -> dict[str, tuple[int, int]]:
    """Each deployment's runs now Late, and its runs Failed or Crashed in ``window``."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterExpectedStartTime,
        FlowRunFilterState,
        FlowRunFilterStateName,
    )

    since = FlowRunFilterExpectedStartTime(after_=now - window)
    wanted = FlowRunFilterState(name=FlowRunFilterStateName(any_=["Late", "Failed", "Crashed"]))
    runs_filter = FlowRunFilter(expected_start_time=since, state=wanted)
    with get_client(sync_client=True) as client:
        names = {d.id: d.name for d in client.read_deployments()}
        runs: list = []
        while True:  # in pages: the server refuses a limit above its default_limit (200)
            page = client.read_flow_runs(flow_run_filter=runs_filter, limit=PAGE, offset=len(runs))
            runs += page
            if len(page) < PAGE:
                break
    counts = {name: [0, 0] for name in names.values()}
    for run in runs:
        name = names.get(run.deployment_id) if run.deployment_id else None
        if name is None or run.state is None:
            continue
        counts[name][0 if run.state.name == "Late" else 1] += 1
    return {name: (late, failed) for name, (late, failed) in counts.items()}


def send_heartbeat(engine: Engine, config: VigilConfig, now: datetime) -> bool:
    """Queue a heartbeat to the configured channel if one is due; True if queued."""
    beat = config.self_watch.heartbeat
    if beat is None:
        return False
    every_s = beat.every.total_seconds()
    with engine.begin() as conn:
        last = conn.execute(
            select(func.max(OUTBOX.c.created_at)).where(
                OUTBOX.c.kind == HEARTBEAT_KIND, OUTBOX.c.channel == beat.channel
            )
        ).scalar()
        if not heartbeat_due(to_ts(last) if last else None, now.timestamp(), every_s):
            return False
        title, body = heartbeat_text(now.astimezone(UTC).isoformat(timespec="seconds"), every_s)
        enqueue(conn, [Message(beat.channel, HEARTBEAT_KIND, title, body)], now.timestamp())
    return True


def last_heartbeat(engine: Engine, channel: str) -> datetime | None:
    """When the newest heartbeat to ``channel`` was queued (for the Overview)."""
    with engine.connect() as conn:
        last = conn.execute(
            select(func.max(OUTBOX.c.created_at)).where(
                OUTBOX.c.kind == HEARTBEAT_KIND, OUTBOX.c.channel == channel
            )
        ).scalar()
    return to_dt(to_ts(last)) if last else None
