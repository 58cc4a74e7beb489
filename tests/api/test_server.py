"""One server: push, /metrics, liveness and readiness, health, rules, models and the docs."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from models.checks import CheckStateRecord, HealthScoreRecord
from models.config.dashboard import Role
from models.store import NewSample
from tests.api.conftest import NOW, PUSH_TOKEN, Api

RULE_TEST = """
rule_files: [vigil.yaml]
evaluation_interval: 1m
tests:
  - name: cpu stays high
    interval: 1m
    input_series:
      - series: 'cpu{host="a"}'
        values: "50 95x5"
    alert_rule_test:
      - eval_time: 4m
        alertname: HighCpu
        exp_alerts:
          - exp_labels: {host: a, severity: critical}
  - name: a wrong expectation fails
    input_series:
      - series: 'cpu{host="b"}'
        values: "10x5"
    alert_rule_test:
      - eval_time: 4m
        alertname: HighCpu
        exp_alerts:
          - exp_labels: {host: b, severity: critical}
"""


def test_the_push_endpoint_and_metrics_are_served_beside_the_api(sqlite_api: Api):
    with sqlite_api.client(None) as http:
        pushed = http.post(
            "/api/v1/push",
            content=f'cpu{{host="p"}} 42 {int(NOW.timestamp() * 1000)}\n',
            headers={"Authorization": f"Bearer {PUSH_TOKEN}"},
        )
        refused = http.post("/api/v1/push", content="cpu 1\n")
        own = http.get("/metrics")
    assert pushed.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    assert refused.status_code == 401 and refused.json()["reason"]
    assert own.status_code == 200 and "vigil_" in own.text
    assert len(sqlite_api.store.query_range('cpu{host="p"}', NOW - timedelta(1), NOW)) == 1


def test_liveness_readiness_and_health_report_honestly(sqlite_api: Api):
    engine = sqlite_api.store.engine
    with engine.begin() as conn:
        conn.execute(
            insert(CheckStateRecord).values(
                check="web-http",
                target="web",
                status="down",
                is_hard=True,
                failures=3,
                passes=0,
                since=NOW,
                checked_at=NOW,
                message="connection refused",
            )
        )
        conn.execute(
            insert(HealthScoreRecord).values(
                at=NOW, scope="target", node="web", score=40.0, level="critical"
            )
        )
    with sqlite_api.client(Role.VIEWER) as http:
        live, ready = http.get("/healthz"), http.get("/readyz")
        system = http.get("/api/v1/health").json()
        targets = http.get("/api/v1/health/targets").json()
        checks = http.get("/api/v1/health/checks").json()
    assert live.json() == {"status": "ok"}
    assert ready.status_code == 200 and ready.json()["checks"] == {"store": "ok"}
    assert system["status"] == "ready" and system["checks"] == {"store": "ok"}
    assert [(t["node"], t["score"], t["level"]) for t in targets] == [("web", 40.0, "critical")]
    assert [(c["check"], c["status"], c["state"], c["message"]) for c in checks] == [
        ("web-http", "down", "hard", "connection refused")
    ]


def test_readiness_gives_the_reason_when_the_store_is_gone(sqlite_api: Api, tmp_path):
    from tasks.api.app import create_api_app
    from tests.api.conftest import Server

    app = create_api_app(
        sqlite_api.store,
        sqlite_api.config,
        push_tokens={},
        launch=print,
        answer=print,
        probes={"store": lambda: "store unreachable: gone"},
    )
    server = Server(app)
    try:
        import httpx

        answer = httpx.get(f"{server.url}/readyz")
    finally:
        server.close()
    assert answer.status_code == 503
    assert answer.json() == {"status": "not ready", "checks": {"store": "store unreachable: gone"}}


def test_rules_are_listed_and_tested_in_the_rules_test_notation(sqlite_api: Api):
    with sqlite_api.client(Role.VIEWER) as http:
        rules = http.get("/api/v1/rules").json()
        tested = http.post(
            "/api/v1/rules/test", content=RULE_TEST, headers={"Content-Type": "text/plain"}
        )
        escape = http.post(
            "/api/v1/rules/test",
            content="rule_files: [/etc/passwd]\ntests: []",
            headers={"Content-Type": "text/plain"},
        )
    assert [r["name"] for r in rules] == ["HighCpu"]
    result = tested.json()
    assert tested.status_code == 200, tested.text
    assert [(c["name"], c["passed"]) for c in result["cases"]] == [
        ("cpu stays high", True),
        ("a wrong expectation fails", False),
    ]
    assert result["passed"] is False
    assert escape.status_code == 422 and "/etc/passwd" in escape.json()["reason"]


def test_a_backtest_replays_stored_history_through_a_rule(sqlite_api: Api):
    # six hours every 5 min, above 90 for 50 minutes in the middle, up to now: the API
    # replays from its own clock, so not the module's NOW (taken when the tests were collected)
    start = datetime.now(UTC) - timedelta(hours=6)
    values = [95.0 if 30 <= i < 40 else 20.0 for i in range(72)]
    sqlite_api.store.write(
        [
            NewSample("cpu", {"host": "a"}, start + timedelta(minutes=5 * i), v)
            for i, v in enumerate(values)
        ]
    )
    with sqlite_api.client(Role.OPERATOR) as http:
        done = http.post("/api/v1/rules/HighCpu/backtest", json={"since": "6h", "step": "5m"})
        unknown = http.post("/api/v1/rules/Nope/backtest", json={})
        too_long = http.post("/api/v1/rules/HighCpu/backtest", json={"since": "90d"})
    assert done.status_code == 200, done.text
    report = done.json()
    assert report["samples"] == 71  # the first is just before the replay's start (now - 6h)
    assert (report["counts"]["alerts"], report["counts"]["resolved"]) == (1, 1)
    assert unknown.status_code == 404 and "known: HighCpu" in unknown.json()["reason"]
    assert too_long.status_code == 422 and too_long.json()["field"] == "since"


def test_the_openapi_document_and_its_docs_page_are_served(sqlite_api: Api):
    with sqlite_api.client(None) as http:
        document = http.get("/openapi.json").json()
        page = http.get("/docs")
    paths = set(document["paths"])
    assert {
        "/api/v1/alerts",
        "/api/v1/alerts/{ref}/ack",
        "/api/v1/recoveries",
        "/api/v1/metrics/query_range",
        "/api/v1/push",
        "/readyz",
    } <= paths
    assert "HTTPBearer" in document["components"]["securitySchemes"]
    assert page.status_code == 200 and "swagger" in page.text.lower()
