"""Both compatibility APIs answer 503 while the store is down; a re-sent alert is taken after."""

import httpx
import pytest
from sqlalchemy import select

from models.alerting import Alert
from models.config import parse_config
from models.db import make_engine
from models.migrate import upgrade
from models.store import MetricStore
from tasks.alerting.engine import AlertEngine
from tasks.alerting.plan import build_plan
from tasks.collect.push_api import create_push_app

ALERT = {"labels": {"alertname": "DiskFull", "target": "db-1"}}


@pytest.mark.postgres
def test_a_store_outage_answers_503_and_the_re_sent_alert_is_taken_after(throwaway_pg, serve):  # type: ignore[no-untyped-def]
    upgrade(throwaway_pg.url)
    db = make_engine(throwaway_pg.url)
    engine = AlertEngine(db, build_plan(parse_config("rules: []\n")), emit=None)
    served = serve(create_push_app(MetricStore(db), {"t": "test"}, alert_engine=engine))
    alerts = f"{served.url}/alertmanager/api/v2/alerts"
    try:
        throwaway_pg.stop()
        down = httpx.post(alerts, json=[ALERT])
        assert down.status_code == 503
        assert down.json().startswith("the store is unavailable; no alert was taken")
        query = httpx.get(f"{served.url}/prometheus/api/v1/query", params={"query": "up"})
        assert query.status_code == 503 and query.json()["errorType"] == "unavailable"
        throwaway_pg.start()
        assert httpx.post(alerts, json=[ALERT]).status_code == 200  # Prometheus re-sends
        with db.connect() as conn:
            rows = conn.execute(select(Alert.__table__)).all()
        assert [(r.rule, r.state) for r in rows] == [("external/DiskFull", "firing")]
    finally:
        engine.outbox.stop()
        db.dispose()
