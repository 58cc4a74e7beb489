import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import uvicorn

from models.config.collectors import PushSettings
from tasks import batch_hooks
from tasks.own_metrics import OwnMetrics
from tasks.push_api import create_push_app, resolve_tokens
from vigil.errors import ConfigError

TOKEN = "s3cret-token"
NOW = datetime.now(UTC).replace(microsecond=0)


class PushServer:
    """The push app served by uvicorn on a loopback port of its own."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(app, lifespan="off", ws="none", log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, args=([self.sock],), daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture
def own() -> OwnMetrics:
    return OwnMetrics()


@pytest.fixture
def batches(monkeypatch) -> list:
    seen: list = []
    monkeypatch.setattr(batch_hooks, "SUBSCRIBERS", [seen.append])
    return seen


@pytest.fixture
def push(store, own) -> Iterator[httpx.Client]:
    app = create_push_app(store, {TOKEN: "ci"}, max_body_bytes=2000, metrics=own, clock=lambda: NOW)
    server = PushServer(app)
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client
    server.close()


def test_good_samples_are_stored_and_bad_ones_refused_with_reasons(push, store, batches, own):
    body = {
        "samples": [
            {"name": "queue_depth", "labels": {"queue": "mail"}, "value": 4},
            {"name": "queue_depth", "labels": {"queue": "sms"}, "value": "four"},
            {"name": "queue_depth", "labels": {"queue": "push"}, "value": float("nan")},
            {"name": "queue_depth", "value": 1, "ts": NOW.timestamp() + 86400},
            {"name": "jobs_done_total", "value": 12, "kind": "counter"},
        ]
    }
    response = push.post("/api/v1/push", content=json.dumps(body), headers=JSON)
    assert response.status_code == 422
    assert response.json()["accepted"] == 2
    assert [r["where"] for r in response.json()["rejected"]] == [
        "samples[1]",
        "samples[2]",
        "samples[3]",
    ]
    assert "must be a number" in response.json()["rejected"][0]["reason"]
    assert "NaN" in response.json()["rejected"][1]["reason"]
    assert "in the future" in response.json()["rejected"][2]["reason"]
    stored = store.latest("queue_depth")
    assert list(stored["value"]) == [4.0] and list(stored["ts"]) == [NOW]
    assert [s.kind for s in store.find_series("jobs_done_total")] == ["counter"]
    assert [(b.source, len(b.samples)) for b in batches] == [("push", 2)]
    metrics = push.get("/metrics").text
    assert 'vigil_samples_collected_total{source="push"} 2.0' in metrics
    assert 'vigil_samples_rejected_total{source="push"} 3.0' in metrics


def test_a_clean_prometheus_text_push_is_all_accepted(push, store):
    ts_ms = int((NOW - timedelta(seconds=30)).timestamp() * 1000)
    body = f'# TYPE jobs counter\njobs_total{{q="a"}} 7 {ts_ms}\ntemp 21.5\n'
    response = push.post("/api/v1/push", content=body, headers={"Content-Type": "text/plain"})
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 2, "rejected": []}
    assert list(store.latest("jobs_total")["ts"]) == [NOW - timedelta(seconds=30)]
    assert list(store.latest("temp")["ts"]) == [NOW]


def test_bad_text_lines_name_their_line_and_label_problems_come_from_the_store(push, store):
    body = 'good 1\nbad{x="1" 2\nalso_good{__reserved="a"} 3\n'
    response = push.post("/api/v1/push", content=body)
    assert response.status_code == 422
    assert response.json()["accepted"] == 1
    assert [r["where"] for r in response.json()["rejected"]] == ["line 2", "line 3"]
    assert "__" in response.json()["rejected"][1]["reason"]
    assert list(store.latest("good")["value"]) == [1.0]


@pytest.mark.parametrize(
    ("headers", "content", "status", "says"),
    [
        ({"Authorization": ""}, "a 1", 401, "bearer token"),
        ({"Authorization": "Bearer nope"}, "a 1", 401, "bearer token"),
        ({}, "a 1\n" * 1000, 413, "larger than 2000 bytes"),
        ({"Content-Type": "application/json"}, "{not json", 400, "not JSON"),
        ({"Content-Type": "application/json"}, '{"points": []}', 422, '"samples" list'),
        ({"Content-Type": "application/xml"}, "<a/>", 415, "text/plain or application/json"),
    ],
)
def test_unacceptable_requests_get_clear_4xx_answers(push, store, headers, content, status, says):
    response = push.post("/api/v1/push", content=content, headers=headers)
    assert response.status_code == status
    assert says in response.json()["error"]
    assert store.find_series("a") == []


def test_tokens_come_from_the_config_or_the_environment():
    push = PushSettings(
        tokens=[{"name": "ci", "token": "t1"}, {"name": "ops", "token_env": "OPS_T"}]
    )
    assert resolve_tokens(push, {"OPS_T": "t2"}) == {"t1": "ci", "t2": "ops"}
    with pytest.raises(ConfigError, match=r"tokens\[1\].token_env: environment variable OPS_T"):
        resolve_tokens(push, {})


JSON = {"Content-Type": "application/json"}
