"""The Alerts page: acknowledgement with expiry, giving it back, and one alert's timeline."""

from models.config import parse_config
from models.db import make_engine
from models.store import MetricStore
from tasks.alerting import store as repo
from tasks.alerting.engine import AlertEngine
from tasks.alerting.plan import build_plan
from tests.alerting.helpers import T0, Webhook, write
from tests.dashboard.helpers import open_page

CONFIG = """
rules:
  - {{name: DiskFull, series: disk, value: 0.9, severity: critical}}
channels:
  - {{name: hook, url: '{url}'}}
alerting:
  default: {{group_wait: 0s}}
  stale_after: 30d
"""


def _incident(sqlite_url: str, target: str = "db") -> str:
    """DiskFull fires on ``target`` and is told through a real webhook; return its fingerprint."""
    hook = Webhook()
    hook.start()
    db = make_engine(sqlite_url)
    try:
        plan = build_plan(parse_config(CONFIG.format(url=hook.url)))
        engine = AlertEngine(db, plan, store=MetricStore(db), emit=None)
        write(engine, T0, [("disk", {"target": target}, 0.97)])
        engine.sweep(T0 + 1)
        with db.connect() as conn:
            firing = repo.load_in_states(conn, [repo.AlertState.FIRING])
        return next(r.fingerprint for r in firing if r.labels["target"] == target)
    finally:
        hook.stop()
        db.dispose()


def test_an_operator_acknowledges_for_a_while_gives_it_back_and_reads_the_timeline(
    lite, sqlite_url, dashboard_env
):
    fp = _incident(sqlite_url)
    dashboard_env(sqlite_url)
    at = open_page("views/alerts.py", user="operator-user")
    at.text_input(key="ack_comment").input("growing the volume")
    at.text_input(key="ack_expires").input("soon")
    at.button(key="FormSubmitter:ack-Acknowledge").click().run()
    assert at.error[0].value.startswith("'soon' is not a duration")
    at.text_input(key="ack_expires").input("2h")
    at.button(key="FormSubmitter:ack-Acknowledge").click().run()
    assert not at.exception
    with lite.connect() as conn:
        row = repo.find_alert(conn, fp)
    assert row is not None and row.ack_by == "operator-user"
    assert row.ack_expires_at is not None and row.ack_at is not None
    assert row.ack_expires_at - row.ack_at == 7200
    at.button(key="FormSubmitter:unack-Give back").click().run()
    assert not at.exception
    with lite.connect() as conn:
        assert repo.find_alert(conn, fp).ack_by is None  # type: ignore[union-attr]
    timeline = at.dataframe[-1].value
    assert list(timeline["kind"]) == [
        "detected",
        "notification",
        "acknowledged",
        "unacknowledged",
    ]
    assert timeline.iloc[1]["summary"] == "firing to hook: sent after 1 attempt"
    assert list(timeline["actor"])[2:] == ["operator-user", "operator-user"]


def test_a_notification_link_opens_its_alert_timeline(lite, sqlite_url, dashboard_env):
    _incident(sqlite_url)
    second = _incident(sqlite_url, "web")
    dashboard_env(sqlite_url)
    at = open_page("views/alerts.py")
    at.query_params["fingerprint"] = second
    at.run()
    assert not at.exception
    assert at.selectbox(key="timeline_alert").value == 2


def test_a_link_to_an_unknown_alert_says_so(lite, sqlite_url, dashboard_env):
    _incident(sqlite_url)
    dashboard_env(sqlite_url)
    at = open_page("views/alerts.py")
    at.query_params["fingerprint"] = "0123456789abcdef"
    at.run()
    assert not at.exception
    assert any("No alert has fingerprint 0123456789abcdef" in w.value for w in at.warning)
