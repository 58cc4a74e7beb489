"""Both compatibility APIs answer 503 while the store is down; a re-sent alert is taken after.

The app checks the token against the store first, so its 503 says the token cannot be checked
(Prometheus and amtool retry or report any 5xx alike). The routers' own 503, in each API's
format, is what a store lost after the token check gives: seen through the bare routers."""

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from models.alerting import Alert
from models.config import parse_config
from models.config.dashboard import Role
from models.db import make_engine
from models.migrate import upgrade
from models.store import MetricStore
from tasks.alerting.engine import AlertEngine
from tasks.alerting.plan import build_plan
from tasks.api.alertmanager import create_alertmanager_router
from tasks.api.prometheus import create_prometheus_router
from tests.api.conftest import compat_app

ALERT = {"labels": {"alertname": "DiskFull", "target": "db-1"}}


@pytest.mark.postgres
def test_a_store_outage_answers_503_and_the_re_sent_alert_is_taken_after(  # type: ignore[no-untyped-def]
    throwaway_pg, serve, password_hash
):
    upgrade(throwaway_pg.url)
    db = make_engine(throwaway_pg.url)
    engine = AlertEngine(db, build_plan(parse_config("rules: []\n")), emit=None)
    app, tokens = compat_app(MetricStore(db), "rules: []\n", password_hash, engine)
    served = serve(app)
    bare = FastAPI()  # the routers without the token check
    bare.include_router(create_prometheus_router(MetricStore(db)))
    bare.include_router(create_alertmanager_router(engine))
    routers = serve(bare).url
    client = httpx.Client(
        base_url=served.url, headers={"Authorization": f"Bearer {tokens[Role.OPERATOR]}"}
    )
    alerts = "/alertmanager/api/v2/alerts"
    try:
        throwaway_pg.stop()
        down = client.post(alerts, json=[ALERT])
        query = client.get("/prometheus/api/v1/query", params={"query": "up"})
        for answer in (down, query):
            assert answer.status_code == 503
            reason = answer.json()["reason"]
            assert reason.startswith("the store is unavailable; the token cannot be checked: ")
        down = httpx.post(routers + alerts, json=[ALERT])
        assert down.status_code == 503
        assert down.json().startswith("the store is unavailable; no alert was taken")
        query = httpx.get(f"{routers}/prometheus/api/v1/query", params={"query": "up"})
        assert query.status_code == 503 and query.json()["errorType"] == "unavailable"
        throwaway_pg.start()
        assert client.post(alerts, json=[ALERT]).status_code == 200  # Prometheus re-sends
        with db.connect() as conn:
            rows = conn.execute(select(Alert.__table__)).all()
        assert [(r.rule, r.state) for r in rows] == [("external/DiskFull", "firing")]
    finally:
        engine.outbox.stop()
        db.dispose()
