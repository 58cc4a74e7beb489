"""/healthz and /readyz on the push server: ready only when store, Prefect API and outbox are."""

from datetime import UTC, datetime, timedelta

import httpx
import prefect.settings as ps
from sqlalchemy import insert

from models.alerting import Notification
from models.db import make_engine
from models.store import MetricStore
from tasks.collect.push_api import create_push_app
from tasks.store.readiness import vigil_probes
from tests.collect.test_push_api import PushServer
from tests.ports import free_port


def ask(store: MetricStore, api_url: str | None, path: str) -> httpx.Response:
    """Serve the push app with the real probes on a loopback port; GET ``path`` once."""
    probes = vigil_probes(store.engine, api_url, ps.PREFECT_API_AUTH_STRING.value())
    server = PushServer(create_push_app(store, {"t": "test"}, probes=probes))
    try:
        return httpx.get(server.url + path, timeout=10)
    finally:
        server.close()


def test_it_is_ready_when_store_prefect_and_outbox_are_fine(store, prefect_harness):
    api_url = ps.PREFECT_API_URL.value()
    assert ask(store, api_url, "/healthz").json() == {"status": "ok"}
    answer = ask(store, api_url, "/readyz")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ready",
        "checks": {"store": "ok", "prefect": "ok", "outbox": "ok"},
    }


def test_it_says_why_it_is_not_ready(store, tmp_path):
    overdue = datetime.now(UTC) - timedelta(hours=1)
    with store.engine.begin() as conn:
        conn.execute(
            insert(Notification.__table__).values(  # type: ignore[attr-defined]
                channel="ops",
                kind="firing",
                title="t",
                body="b",
                fingerprints="[]",
                status="pending",
                attempts=3,
                next_attempt_at=overdue,
                created_at=overdue,
            )
        )
    answer = ask(store, f"http://127.0.0.1:{free_port()}/api", "/readyz")
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["store"] == "ok"
    assert checks["prefect"].startswith("Prefect API unreachable at http://127.0.0.1:")
    assert checks["outbox"] == "outbox stuck: 1 notices overdue, the oldest by 60 min"

    gone = MetricStore(make_engine(f"sqlite:///{tmp_path}/no/such/dir/vigil.db"))
    lost = ask(gone, None, "/readyz").json()["checks"]
    assert lost["store"].startswith("store unreachable: ")
    assert lost["prefect"] == "no Prefect API configured (PREFECT_API_URL is unset)"
    assert ask(gone, None, "/healthz").status_code == 200  # alive, not ready
