"""The Overview's "Vigil itself" section: Vigil's own active alerts, outbox and heartbeat."""

from datetime import UTC, datetime

from models.config import parse_config
from models.store import MetricStore, NewSample
from tasks.alerting.engine import AlertEngine
from tasks.alerting.plan import build_plan
from tasks.selfwatch.observe import send_heartbeat
from tasks.store.batch_hooks import BatchWritten
from tests.dashboard.helpers import open_page

SELF_WATCH = (
    'channels:\n  - {name: deadman, url: "json://127.0.0.1:9/x"}\n'
    "self_watch: {heartbeat: {channel: deadman, every: 5m}}\n"
)


def test_the_overview_shows_vigils_own_alert_its_outbox_and_its_heartbeat(
    lite, sqlite_url, dashboard_env
):
    config = parse_config(SELF_WATCH)
    now = datetime.now(UTC)
    assert send_heartbeat(lite, config, now)  # queued: one notice waits in the outbox
    engine = AlertEngine(lite, build_plan(config), store=MetricStore(lite), emit=None)
    backlog = [NewSample("vigil_outbox_depth", {}, now, 500.0)]
    engine.store.write(backlog)  # type: ignore[union-attr]
    engine.on_batch(BatchWritten("self", now, backlog))
    engine.outbox.stop()
    dashboard_env(sqlite_url, top=SELF_WATCH)
    at = open_page("views/overview.py")
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert int(shown["Notices waiting"]) >= 1  # the heartbeat (the alert's notice may follow)
    assert shown["Heartbeat to deadman"].endswith("s ago")
    (active,) = [e.value for e in at.error if "of Vigil's own alerts are active" in e.value]
    assert active.startswith("1 of")
    assert list(at.dataframe[-1].value["rule"]) == ["VigilOutboxBacklog"]
