"""Health checks page and the Overview's health sections over seeded check tables."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from models.checks import CheckResult, CheckStateRecord, HealthScoreRecord
from tests.dashboard.helpers import open_page

CONFIG = """\
targets:
  - {name: web-1, depends_on: [db-1]}
  - {name: db-1}
checks:
  - {name: db-tcp, type: tcp, target: db-1, host: 127.0.0.1, port: 5432}
  - {name: web-http, type: http, target: web-1, url: "http://127.0.0.1:1/", depends_on: [db-tcp]}
"""


def seed_checks(engine) -> None:  # type: ignore[no-untyped-def]
    """Two checks (web-http flapping, db-tcp steady) with results and scores up to now."""
    now = datetime.now(UTC).replace(microsecond=0)
    results = [
        dict(check="web-http", target="web-1", component="web-1", at=now - timedelta(minutes=i),
             status="down" if i % 2 else "up", is_hard=False, attempt=1, tries=1,
             latency_ms=10.0 + i, message="HTTP 500" if i % 2 else "ok")
        for i in range(10)
    ] + [
        dict(check="db-tcp", target="db-1", component="db-1", at=now - timedelta(minutes=i),
             status="up", is_hard=True, attempt=0, tries=1, latency_ms=1.0, message="ok")
        for i in range(3)
    ] + [  # Vigil overloaded between those runs: late results do not make db-tcp flap
        dict(check="db-tcp", target="db-1", component="db-1",
             at=now - timedelta(seconds=30 + 60 * i), status="late", is_hard=False,
             attempt=0, tries=0, latency_ms=None, message="late")
        for i in range(3)
    ]  # fmt: skip
    states = [
        dict(check="web-http", target="web-1", status="down", is_hard=False, failures=1,
             passes=0, since=now - timedelta(minutes=1), checked_at=now, message="HTTP 500"),
        dict(check="db-tcp", target="db-1", status="up", is_hard=True, failures=0, passes=3,
             since=now - timedelta(hours=1), checked_at=now, message="ok"),
    ]  # fmt: skip
    scores = [
        dict(at=now - timedelta(minutes=i), scope=scope, node=node, score=score, level=level)
        for i in range(3)
        for scope, node, score, level in (
            ("system", "system", 62.0, "degraded"),
            ("target", "web-1", 30.0, "critical"),
            ("target", "db-1", 100.0, "healthy"),
        )
    ]
    with engine.begin() as conn:
        conn.execute(insert(CheckResult.__table__), results)
        conn.execute(insert(CheckStateRecord.__table__), states)
        conn.execute(insert(HealthScoreRecord.__table__), scores)


def test_health_page_shows_states_flapping_latency_and_dependencies(engine, db_url, dashboard_env):
    seed_checks(engine)
    dashboard_env(db_url, top=CONFIG)
    at = open_page("views/health.py")
    assert not at.exception
    states = at.dataframe[0].value.set_index("check")
    assert states.loc["web-http", "status"] == "down"
    assert states.loc["web-http", "state"] == "soft"
    assert bool(states.loc["web-http", "is_flapping"]) is True
    assert bool(states.loc["db-tcp", "is_flapping"]) is False
    assert at.metric[0].value == "62"
    at.selectbox(key="health_check").select("web-http").run()
    history = at.dataframe[1].value
    assert len(history) == 10 and history["latency_ms"].max() == 19.0
    checks_dot, targets_dot = (g.proto.spec for g in at.get("graphviz_chart"))
    assert '"web-http" -> "db-tcp"' in checks_dot
    assert '"web-http" [fillcolor="#c62828" tooltip="web-http: down"]' in checks_dot
    assert '"db-tcp" [fillcolor="#2e7d32" tooltip="db-tcp: up"]' in checks_dot
    assert '"web-1" -> "db-1"' in targets_dot
    assert '"web-1" [fillcolor="#c62828" tooltip="web-1: critical"]' in targets_dot


def test_overview_shows_health_grid_and_check_time(lite, sqlite_url, dashboard_env):
    seed_checks(lite)
    dashboard_env(sqlite_url)
    at = open_page("views/overview.py")
    assert not at.exception
    assert at.metric[1].value.endswith("s ago")
    grid = [m.value for m in at.markdown if "<b>" in m.value]
    assert any("db-1" in cell and "healthy" in cell for cell in grid)
    assert any("web-1" in cell and "critical" in cell for cell in grid)
