"""SLOs, uptime, incidents, operations figures and reports over HTTP, on a seeded history
(SQLite file and PostgreSQL), against hand-computed figures; the API's clock is fixed."""

import subprocess
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from models.config import parse_config
from models.config.dashboard import Role
from models.db import make_engine
from models.store import MetricStore
from tasks.alerting.hooks import Evaluated, FiringAlert
from tasks.alerting.incidents import IncidentTracker
from tasks.api.app import create_api_app
from tasks.core.reports.render import render
from tasks.slo.report import build_report
from tests.api.conftest import USERS, Server, make_tokens, refuse
from tests.slo.history import DAY, HAND, HOUR, MIN, seed_checks, seed_operations
from tests.slo.test_operations_figures import END, START

SITE = """checks:
  - {name: web-http, type: tcp, target: web, host: 127.0.0.1, port: 9}
slos:
  - {name: web, check: web-http, target: 99.9, window: 30d}
"""
BUDGET_S = 0.001 * 30 * DAY  # 2592 bad seconds allowed in 30 days
OUTAGE_S = 1800  # web-http was down from 2 h to 1.5 h before END


@pytest.fixture
def seeded(db_url: str, password_hash: str) -> Iterator[tuple[httpx.Client, MetricStore]]:
    """The API at END over a week of operations, a month of checks and two incidents."""
    engine = make_engine(db_url)
    seed_operations(engine, START)
    seed_checks(engine, END)
    tracker = IncidentTracker(engine, {"web": {"db"}, "db": set(), "api": set()})
    start = START.timestamp()
    fire = lambda rule, fp, target, at: tracker.on_firing(  # noqa: E731
        FiringAlert(rule, fp, {"target": target}, 95.0, start + at)
    )
    # the seeded alerts are resolved already: each incident closes when next evaluated
    fire("DiskFull", "fp1", "db", 3 * DAY)
    fire("HighCpu", "fp2", "web", 3 * DAY + MIN)  # web depends on db: the same incident
    tracker.on_evaluated(Evaluated(start + 3 * DAY + 11 * MIN))
    fire("HighCpu", "fp3", "api", 4 * DAY)  # related to nothing: an incident of its own
    tracker.on_evaluated(Evaluated(start + 4 * DAY + 10 * MIN))
    store = MetricStore(engine)
    config = parse_config(USERS.format(hash=password_hash) + SITE)
    app = create_api_app(
        store, config, push_tokens={}, launch=refuse, answer=refuse, clock=lambda: END
    )
    server = Server(app)
    token = make_tokens(store, config)[Role.VIEWER]
    client = httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    yield client, store
    client.close()
    server.close()
    engine.dispose()


def test_an_slo_shows_its_sli_budget_burn_rates_and_burn_down(seeded) -> None:
    client, _ = seeded
    [listed] = client.get("/api/v1/slos").json()
    assert listed["slo"] == "web" and listed["target"] == pytest.approx(0.999)
    assert listed["sli"] == pytest.approx(1 - OUTAGE_S / (30 * DAY))
    assert listed["budget_remaining"] == pytest.approx(1 - OUTAGE_S / BUDGET_S)
    one = client.get("/api/v1/slos/web", params={"points": 31}).json()
    rates = {r["alert"]: r for r in one["burn_rates"]}
    # 1800 bad seconds within the last 6 h and 3 d, none within the last hour
    assert rates["page-1h"]["long_rate"] == 0 and rates["page-1h"]["is_burning"] is False
    assert rates["page-6h"]["long_rate"] == pytest.approx(OUTAGE_S / (6 * HOUR) / 0.001)
    assert rates["page-6h"]["short_rate"] == 0 and rates["page-6h"]["is_burning"] is False
    assert rates["ticket-3d"]["long_rate"] == pytest.approx(OUTAGE_S / (3 * DAY) / 0.001)
    assert rates["ticket-3d"]["is_burning"] is True and one["burning"] == ["ticket-3d"]
    assert len(one["burn_down"]) == 31
    assert one["burn_down"][-1] == [END.isoformat(), pytest.approx(1 - OUTAGE_S / BUDGET_S)]
    assert one["burn_down"][0][1] == pytest.approx(1.0)  # 30 days earlier: nothing spent


def test_uptime_per_check_and_target_with_the_outages_of_the_window(seeded) -> None:
    client, _ = seeded
    day = client.get("/api/v1/uptime", params={"window": "24h"}).json()
    checks = {row["name"]: row for row in day["checks"]}
    assert checks["web-http"]["uptime"] == pytest.approx(1 - OUTAGE_S / DAY)
    assert checks["web-http"]["target"] == "web"
    outage = {"start": (END - timedelta(hours=2)).isoformat(), "end": None, "seconds": 1800.0}
    outage["end"] = (END - timedelta(minutes=90)).isoformat()
    assert checks["web-http"]["outages"] == [outage]
    assert checks["web-tcp"]["uptime"] == 1.0 and checks["web-tcp"]["outages"] == []
    week = client.get("/api/v1/uptime", params={"window": "7d"}).json()
    targets = {row["name"]: row for row in week["targets"]}
    assert targets["web"]["uptime"] == pytest.approx(1 - (1800 + 1200) / (7 * DAY))
    assert [o["seconds"] for o in targets["web"]["outages"]] == [1200.0, 1800.0]
    assert targets["db"]["uptime"] == 1.0


def test_incidents_show_members_likely_cause_and_how_they_ended(seeded) -> None:
    client, _ = seeded
    listed = client.get("/api/v1/incidents", params={"since": "7d"}).json()
    assert [i["cause"] for i in listed] == ["api", "db"]  # newest first
    api_one, db_one = listed
    assert db_one["targets"] == ["db", "web"] and db_one["found_by"] == "DiskFull"
    # restart-web (alert:HighCpu on web) succeeded 8 minutes in: auto-fixed
    assert db_one["ending"] == "auto-fixed"
    assert db_one["started_at"] == (START + timedelta(days=3)).isoformat()
    assert db_one["ended_at"] == (START + timedelta(days=3, minutes=11)).isoformat()
    assert [(m["fingerprint"], m["target"], m["state"]) for m in db_one["members"]] == [
        ("fp1", "db", "resolved"),
        ("fp2", "web", "resolved"),
    ]
    assert [m["joined_by"] for m in db_one["members"]] == ["opened it", "depends_on"]
    assert api_one["ending"] == "fixed by a person"  # alert 3 was acknowledged after 2 minutes
    assert client.get(f"/api/v1/incidents/{db_one['id']}").json() == db_one
    assert client.get("/api/v1/incidents", params={"since": "1d"}).json() == []


def test_operations_figures_equal_the_hand_computation(seeded) -> None:
    client, _ = seeded
    figures = client.get("/api/v1/operations", params={"since": "7d"}).json()
    assert figures["alerts"] == HAND["alerts"]
    assert figures["mtta_s"] == pytest.approx(HAND["mtta_s"])  # 340 s
    assert figures["mttr_s"] == pytest.approx(HAND["mttr_s"])  # 2175 s
    assert figures["auto_fixed_share"] == pytest.approx(HAND["auto_fixed_share"])
    assert figures["alerts_per_rule"] == HAND["alerts_per_rule"]
    assert figures["dismissed_per_rule"] == HAND["dismissed_per_rule"]
    assert figures["recovery_success"] == {
        p: {"succeeded": won, "finished": done}
        for p, (won, done) in HAND["recovery_success"].items()
    }


def test_the_report_is_the_bytes_vigil_report_makes_with_its_content_type(seeded, tmp_path):
    client, store = seeded
    config = parse_config(SITE)
    expected = build_report(config, store.engine, END - timedelta(days=7), END)
    for fmt, media in [("csv", "text/csv"), ("html", "text/html")]:
        got = client.get("/api/v1/report", params={"since": "7d", "format": fmt})
        assert got.status_code == 200 and got.headers["content-type"].startswith(media)
        assert got.content == render(expected, fmt)
    pdf = client.get("/api/v1/report", params={"since": "7d", "format": "pdf"})
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    (tmp_path / "r.pdf").write_bytes(pdf.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "r.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for figure in ("5m 40s", "36m 15s", "Availability per target", "99.504%"):
        assert figure in text, f"{figure!r} not in the PDF's text"


@pytest.mark.parametrize(
    ("path", "params", "status", "field"),
    [
        ("/api/v1/slos/nope", {}, 404, "name"),
        ("/api/v1/incidents/999", {}, 404, "incident_id"),
        ("/api/v1/uptime", {"window": "2d"}, 400, "window"),
        ("/api/v1/operations", {"since": "soon"}, 400, "since"),
        ("/api/v1/incidents", {"since": "0s"}, 400, "since"),
        ("/api/v1/report", {"format": "docx"}, 400, "format"),
        ("/api/v1/report", {"since": "9999d"}, 400, "since"),
    ],
)
def test_unknown_names_and_bad_spans_are_refused_naming_the_field(
    seeded, path, params, status, field
) -> None:
    client, _ = seeded
    got = client.get(path, params=params)
    assert got.status_code == status
    assert got.json()["field"] == field and got.json()["reason"]


def test_the_new_routes_need_a_token_and_are_in_the_openapi_document(seeded) -> None:
    client, _ = seeded
    assert httpx.get(f"{client.base_url}/api/v1/slos").status_code == 401
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/slos",
        "/api/v1/slos/{name}",
        "/api/v1/uptime",
        "/api/v1/incidents",
        "/api/v1/incidents/{incident_id}",
        "/api/v1/operations",
        "/api/v1/report",
    ):
        assert "get" in paths[path], path
