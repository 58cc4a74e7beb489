"""Alertmanager's own clients against Vigil: a real Prometheus hands its alerts to Vigil's
lifecycle (notified to a real webhook, then resolved), and amtool queries and silences."""

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

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
from tests.alerting.helpers import Webhook
from tests.ports import free_port

CONFIG = """
channels:
  - {{name: hook, url: '{hook}'}}
alerting:
  default: {{group_wait: 0s, group_interval: 1s, group_by: [alertname]}}
  resolve_timeout: {timeout}
"""
PROMETHEUS = """
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: [rules.yml]
alerting:
  alertmanagers:
    - static_configs: [{{targets: ['127.0.0.1:{port}']}}]
      path_prefix: /alertmanager
      api_version: v2
"""
RULES = """
groups:
  - name: vigil-test
    interval: 1s
    rules:
      - alert: QueueTooDeep
        expr: vector(time()) < {until}
        labels: {{severity: critical, team: ops}}
        annotations: {{summary: the queue is too deep}}
"""


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    hook.start()
    yield hook
    hook.stop()


@pytest.fixture
def vigil(tmp_path: Path, webhook: Webhook, serve):  # type: ignore[no-untyped-def]
    """Vigil's push app with its alert engine delivering in the background (as `vigil up`)."""

    def start(timeout: str = "5m"):  # type: ignore[no-untyped-def]
        url = f"sqlite:///{tmp_path / 'vigil.db'}"
        upgrade(url)
        db = make_engine(url)
        plan = build_plan(parse_config(CONFIG.format(hook=webhook.url, timeout=timeout)))
        engine = AlertEngine(db, plan, store=MetricStore(db), emit=None)
        engine.outbox.start()
        started.append(engine)
        return serve(create_push_app(MetricStore(db), {"t": "test"}, alert_engine=engine)), engine

    started: list[AlertEngine] = []
    yield start
    for engine in started:
        engine.outbox.stop()
        engine.db.dispose()


def wait_for(condition, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def alert_rows(engine: AlertEngine) -> list[dict]:
    with engine.db.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(Alert.__table__))]


def test_a_real_prometheus_alert_is_notified_by_vigil_and_then_resolved(
    vigil, webhook: Webhook, tmp_path: Path
) -> None:
    served, engine = vigil()
    (tmp_path / "prometheus.yml").write_text(PROMETHEUS.format(port=served.port))
    # Prometheus learns its Alertmanagers ~5 s after it starts (discovery is throttled); the
    # rule fires for 10 s, re-sent every second, then resolves.
    (tmp_path / "rules.yml").write_text(RULES.format(until=time.time() + 10))
    prometheus = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{free_port()}",
            "--rules.alert.resend-delay=1s",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: len(webhook.received) >= 2)
    finally:
        prometheus.terminate()
        prometheus.wait(timeout=10)
    firing, resolved = webhook.titles()[:2]
    assert firing.startswith("[FIRING:1] QueueTooDeep")
    assert resolved.startswith("[RESOLVED] QueueTooDeep")
    assert "the queue is too deep" in webhook.received[0]["message"]
    [row] = alert_rows(engine)
    assert row["rule"] == "external/QueueTooDeep"
    assert json.loads(row["labels"]) == {
        "alertname": "QueueTooDeep",
        "severity": "critical",
        "team": "ops",
    }
    assert json.loads(row["annotations"]) == {"summary": "the queue is too deep"}
    assert row["state"] == "resolved"


def amtool(url: str, *args: str) -> str:
    done = subprocess.run(
        ["amtool", f"--alertmanager.url={url}/alertmanager", *args],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_amtool_adds_queries_silences_and_expires(vigil, webhook: Webhook) -> None:
    served, _ = vigil()
    amtool(served.url, "alert", "add", "DiskFull", "target=db-1", "--annotation=summary=disk")
    wait_for(lambda: webhook.titles() != [])
    assert webhook.titles()[0].startswith("[FIRING:1] DiskFull")
    [shown] = json.loads(amtool(served.url, "alert", "query", "-o", "json"))
    assert shown["labels"] == {"alertname": "DiskFull", "target": "db-1"}
    assert shown["status"]["state"] == "active"

    silence_id = amtool(
        served.url, "silence", "add", "target=db-1", "-c", "replacing the disk", "-d", "1h"
    ).strip()
    [silence] = json.loads(amtool(served.url, "silence", "query", "-o", "json"))
    assert silence["id"] == silence_id and silence["status"]["state"] == "active"
    assert silence["matchers"] == [
        {"name": "target", "value": "db-1", "isRegex": False, "isEqual": True}
    ]
    assert silence["comment"] == "replacing the disk"
    assert json.loads(amtool(served.url, "alert", "query", "-o", "json")) == []  # silenced
    [muted] = json.loads(amtool(served.url, "alert", "query", "--silenced", "-o", "json"))
    assert muted["status"] == {"state": "suppressed", "silencedBy": [silence_id], "inhibitedBy": []}

    amtool(served.url, "silence", "expire", silence_id)
    assert amtool(served.url, "silence", "query", "-q").strip() == ""
    assert len(json.loads(amtool(served.url, "alert", "query", "-o", "json"))) == 1


def test_an_alert_not_sent_again_resolves_after_the_resolve_timeout(
    vigil, webhook: Webhook
) -> None:
    served, engine = vigil(timeout="1s")
    alert = {"labels": {"alertname": "Gone", "target": "web"}}
    assert httpx.post(f"{served.url}/alertmanager/api/v2/alerts", json=[alert]).status_code == 200
    wait_for(lambda: len(webhook.received) == 1)
    engine.sweep(time.time() + 0.5)  # re-sent within the timeout: still firing
    assert alert_rows(engine)[0]["state"] == "firing"
    engine.sweep(time.time() + 2)  # the sweep flow's tick after the timeout
    assert alert_rows(engine)[0]["state"] == "resolved"
    wait_for(lambda: len(webhook.received) == 2)
    assert webhook.titles()[1].startswith("[RESOLVED] Gone")


def test_bad_alerts_and_silences_are_refused_with_each_reason_and_good_ones_kept(vigil) -> None:
    served, engine = vigil()
    api = f"{served.url}/alertmanager/api/v2"
    posted = [
        {"labels": {"alertname": "Fine"}},
        {"labels": {"job": "x"}},
        {"labels": {"alertname": "Late"}, "endsAt": "yesterday"},
    ]
    answer = httpx.post(f"{api}/alerts", json=posted)
    assert answer.status_code == 400
    assert answer.json() == (
        "1 other alerts were accepted; alerts[1].labels.alertname: is missing; Vigil names the "
        "alert's rule after it; alerts[2].endsAt: 'yesterday' is not an RFC 3339 time"
    )
    assert [r["rule"] for r in alert_rows(engine)] == ["external/Fine"]
    silence = {
        "matchers": [{"name": "job", "value": "(", "isRegex": True}],
        "startsAt": "2026-01-01T00:00:00Z",
        "endsAt": "2999-01-01T00:00:00Z",
        "createdBy": "ana",
        "comment": "",
    }
    refused = httpx.post(f"{api}/silences", json=silence)
    assert refused.status_code == 400 and "bad regular expression '('" in refused.json()
    silence["matchers"] = [{"name": "job", "value": "x"}]
    silence["endsAt"] = "2020-01-01T00:00:00Z"
    refused = httpx.post(f"{api}/silences", json=silence)
    assert refused.json() == "endsAt: is in the past; a silence must end in the future"
    assert httpx.delete(f"{api}/silence/999").status_code == 404
    assert httpx.get(f"{api}/status").json()["cluster"] == {"status": "disabled", "peers": []}
