import time
from datetime import UTC, datetime, timedelta

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.events.filters import EventFilter, EventNameFilter
from sqlalchemy import select

from flows.alert_sweep import alert_sweep
from models.alerting import Notification
from models.config import load_config
from models.db import make_engine
from tasks.alerting.sweep import sweep_at
from tasks.core.alerting.sweep_schedule import sweep_times


def test_the_sweep_flow_fires_and_emits_a_prefect_event(
    prefect_harness, sqlite_url, tmp_path, webhook, serve_with
):
    config = tmp_path / "vigil.yaml"
    config.write_text(
        "rules:\n  - {name: SweepCheck, kind: absence, for: 1s,\n"
        "     series: 'beat{job=\"sweep-test\"}'}\n"
        f"channels:\n  - {{name: hook, url: '{webhook.url}'}}\n"
        "alerting:\n  default: {group_wait: 0s}\n"
    )
    serve_with(config, sqlite_url)
    first = alert_sweep()
    assert (first["transitions"], first["delivery"]["sent"]) == (1, 0)  # pending
    later = datetime.now(UTC) + timedelta(seconds=1.1)  # past the absence rule's `for: 1s`
    second = _sweep_at(str(config), sqlite_url, later)
    assert second["transitions"] == 1
    assert _outbox(sqlite_url) == [("sent", None)], second  # sent by this sweep's delivery
    assert webhook.titles() == ["[FIRING:1] SweepCheck on (no target)"]
    events = _wait_for_events("vigil.alert.firing", "SweepCheck")  # the session's others: not ours
    assert events[0].resource["job"] == "sweep-test"
    assert events[0].resource.id.startswith("vigil.alert.")


@flow
def _sweep_at(config_path: str, url: str, now: datetime) -> dict:
    """The alert sweep's own sweep, with its clock passed in: the test does not sleep."""
    return sweep_at(load_config(config_path), url, [now])


def _outbox(url: str) -> list[tuple[str, str | None]]:
    db = make_engine(url)
    try:
        with db.connect() as conn:
            rows = conn.execute(select(Notification.status, Notification.last_error)).all()
    finally:
        db.dispose()
    return [(status, error) for status, error in rows]


def _wait_for_events(name: str, alertname: str) -> list:
    deadline = time.time() + 20
    with get_client(sync_client=True) as client:
        while time.time() < deadline:
            page = client.read_events(EventFilter(event=EventNameFilter(name=[name])), limit=50)
            if found := [e for e in page.events if e.resource["alertname"] == alertname]:
                return found
            time.sleep(0.5)
    raise AssertionError(f"no {name} event arrived")


def test_a_prefect_secret_block_fills_the_channel_url(prefect_harness, webhook):
    from prefect.blocks.system import Secret

    from tasks.notify.channels import send

    Secret(value="s3cr3t-path").save("vigil-test-hook", overwrite=True)
    send(f"json://127.0.0.1:{webhook.port}/${{secret:vigil-test-hook}}", "title", "body")
    assert webhook.paths == ["/s3cr3t-path"]


def test_one_sweep_run_covers_a_window_of_sweeps(prefect_harness, sqlite_url, tmp_path, serve_with):
    config = tmp_path / "vigil.yaml"
    config.write_text("rules:\n  - {name: Quiet, kind: absence, for: 1h, series: 'beat'}\n")
    serve_with(config, sqlite_url)
    totals = alert_sweep(window_seconds=0.4, every_seconds=0.2)
    assert totals["sweeps"] == 3
    assert totals["transitions"] == 1  # pending once, then nothing changes


def test_a_window_of_sweeps_is_laid_out_from_one_clock_read():
    start = datetime(2025, 1, 1, tzinfo=UTC)
    offsets = [(t - start).total_seconds() for t in sweep_times(start, 60, 15)]
    assert offsets == [0, 15, 30, 45, 60]
    assert sweep_times(start, 10, 15) == [start]  # a window shorter than a step: one sweep
    with pytest.raises(ValueError, match="every_seconds must be positive"):
        sweep_times(start, 60, 0)  # would sweep forever
