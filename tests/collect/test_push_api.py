import json
import logging
import random
import socket
import string
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import uvicorn

from models.config.collectors import PushSettings
from models.db import make_engine
from models.errors import ConfigError
from models.migrate import upgrade
from models.store import MetricStore
from models.vocabulary.labels import (
    MAX_LABEL_COUNT,
    MAX_LABEL_SET_BYTES,
    MAX_LABEL_VALUE_CHARS,
    MAX_METRIC_NAME_CHARS,
    canonical_labels,
)
from tasks.collect.push_api import RETRY_AFTER_SECONDS, create_push_app, resolve_tokens
from tasks.store import batch_hooks
from tasks.store.own_metrics import OwnMetrics
from tasks.store.shared_counters import SAMPLES_REJECTED, STORE_WRITE_FAILURES

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


@pytest.fixture
def roomy_push(store, own) -> Iterator[httpx.Client]:
    """The push endpoint with room for poison bodies (5 MB)."""
    app = create_push_app(
        store, {TOKEN: "ci"}, max_body_bytes=5_000_000, metrics=own, clock=lambda: NOW
    )
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
    assert response.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
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
GOOD_JSON = [{"name": "good", "labels": {"i": str(i)}, "value": i} for i in range(3)]
GOOD_TEXT = "".join(f'good{{i="{i}"}} {i}\n' for i in range(3))
WIDE_LABELS = {f"l{i}": "v" for i in range(10_000)}
HEAVY_LABELS = {f"l{i}": "v" * 100 for i in range(30)}  # few, short, but 3 KB together


def text_labels(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


@pytest.mark.parametrize(
    ("poison", "says"),
    [
        ({"name": "x", "value": 10**400}, "value has 401 digits"),
        ({"name": "x", "value": 1, "ts": 10**400}, "ts has 401 digits"),
        ({"name": "x", "value": 1, "ts": -9.3e15}, "before 1970"),  # -9.3e18 ms
        ({"name": "x", "value": 1, "ts": -1}, "before 1970"),
        ({"name": "x", "value": 1, "ts": float("nan")}, "timestamp is NaN"),
        ({"name": "n" * 300, "value": 1}, f"at most {MAX_METRIC_NAME_CHARS}"),
        ({"name": "x", "labels": {"a": "v" * 1_000_000}, "value": 1}, "1000000 characters"),
        ({"name": "x", "labels": WIDE_LABELS, "value": 1}, f"at most {MAX_LABEL_COUNT}"),
        ({"name": "x", "labels": HEAVY_LABELS, "value": 1}, f"at most {MAX_LABEL_SET_BYTES}"),
        ({"name": "x", "labels": {"a": "\ud800"}, "value": 1}, "not valid Unicode"),
    ],
    ids=[
        "huge-value",
        "huge-ts",
        "ts-below-int64",
        "ts-before-1970",
        "ts-nan",
        "long-name",
        "1MB-label-value",
        "10k-labels",
        "3KB-label-set",
        "lone-surrogate",
    ],
)
def test_a_poison_json_sample_is_refused_alone_and_the_good_ones_are_stored(
    roomy_push, store, poison, says
):
    body = json.dumps({"samples": [*GOOD_JSON[:2], poison, GOOD_JSON[2]]})
    response = roomy_push.post("/api/v1/push", content=body, headers=JSON)
    assert response.status_code == 422, response.text
    assert response.json()["accepted"] == 3
    (refusal,) = response.json()["rejected"]
    assert refusal["where"] == "samples[2]"
    assert says in refusal["reason"]
    assert len(refusal["reason"]) < 200  # the poison is not echoed back
    assert len(store.latest("good")) == 3
    assert store.find_series("x") == []


@pytest.mark.parametrize(
    ("poison", "says"),
    [
        ("x 1 " + "1" * 400, "does not fit in 64 bits"),
        ("x 1 -9300000000000000000", "does not fit in 64 bits"),
        ("x 1 -1000", "before 1970"),
        ("n" * 300 + " 1", f"at most {MAX_METRIC_NAME_CHARS}"),
        (f"x{text_labels({'a': 'v' * 1_000_000})} 1", f"at most {MAX_LABEL_VALUE_CHARS}"),
        (f"x{text_labels(WIDE_LABELS)} 1", f"at most {MAX_LABEL_COUNT}"),
        (f"x{text_labels(HEAVY_LABELS)} 1", f"at most {MAX_LABEL_SET_BYTES}"),
    ],
    ids=[
        "huge-ts",
        "ts-below-int64",
        "ts-before-1970",
        "long-name",
        "1MB-label-value",
        "10k-labels",
        "3KB-label-set",
    ],
)
def test_a_poison_text_line_is_refused_alone_and_the_good_ones_are_stored(
    roomy_push, store, poison, says
):
    response = roomy_push.post("/api/v1/push", content=f"{GOOD_TEXT}{poison}\ngood 9\n")
    assert response.status_code == 422, response.text
    assert response.json()["accepted"] == 4
    (refusal,) = response.json()["rejected"]
    assert refusal["where"] == "line 4"
    assert says in refusal["reason"]
    assert len(refusal["reason"]) < 200
    assert len(store.latest("good")) == 4
    assert store.find_series("x") == []


def test_a_series_at_every_bound_is_stored(roomy_push, store):
    """The bounds sit inside what the store takes: PostgreSQL's VARCHAR(255) and index row.

    Random letters, so PostgreSQL cannot compress its way under its limit.
    """
    rnd = random.Random(22)

    def letters(n: int) -> str:
        return "".join(rnd.choices(string.ascii_letters, k=n))

    labels = {f"l{i:02d}": letters(22) for i in range(MAX_LABEL_COUNT)}
    labels["l63"] += letters(MAX_LABEL_SET_BYTES - len(canonical_labels(labels)))
    assert len(canonical_labels(labels).encode()) == MAX_LABEL_SET_BYTES
    name = letters(MAX_METRIC_NAME_CHARS)
    body = json.dumps({"samples": [{"name": name, "labels": labels, "value": 1}]})
    response = roomy_push.post("/api/v1/push", content=body, headers=JSON)
    assert response.status_code == 200, response.text
    assert len(store.latest(name)) == 1


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ('{"samples": [' + "[" * 50_000 + "]" * 50_000 + "]}", "nests too deeply"),
        ('{"samples": [{"name": "x", "value": ' + "1" * 5000 + "}]}", "4,300 digits"),
    ],
    ids=["nested-50000-deep", "5000-digit-integer"],
)
def test_a_json_body_that_cannot_be_read_at_all_gets_400_with_a_reason(
    roomy_push, store, body, says
):
    response = roomy_push.post("/api/v1/push", content=body, headers=JSON)
    assert response.status_code == 400
    assert says in response.json()["error"]
    assert store.find_series("x") == []


def test_accepted_counts_only_what_was_stored_and_duplicates_are_reported(push, store):
    ts_ms = int(NOW.timestamp() * 1000) - 1000
    body = "".join(f"same {v} {ts_ms}\n" for v in (1, 2, 3))
    first = push.post("/api/v1/push", content=body)
    assert first.status_code == 200
    assert first.json() == {"accepted": 1, "duplicates": 2, "rejected": []}
    again = push.post("/api/v1/push", content=body)  # a sender's retry
    assert again.json() == {"accepted": 0, "duplicates": 3, "rejected": []}
    stored = store.query_range("same", NOW - timedelta(hours=1), NOW)
    assert list(stored["value"]) == [1.0]  # the first value for an instant wins
    assert 'vigil_samples_collected_total{source="push"} 1.0' in push.get("/metrics").text


@pytest.mark.postgres
def test_a_store_outage_answers_503_with_retry_after_and_one_log_line(throwaway_pg, own, caplog):
    upgrade(throwaway_pg.url)
    engine = make_engine(throwaway_pg.url)
    app = create_push_app(MetricStore(engine), {TOKEN: "ci"}, metrics=own, clock=lambda: NOW)
    server = PushServer(app)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        with httpx.Client(base_url=server.url, headers=headers) as client:
            assert client.post("/api/v1/push", content="before 1\n").status_code == 200
            throwaway_pg.stop()
            with caplog.at_level(logging.INFO):
                down = client.post("/api/v1/push", content=GOOD_TEXT)
            assert down.status_code == 503
            assert down.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
            assert "store is unavailable" in down.json()["error"]
            (line,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
            assert line.name == "tasks.collect.push_api" and line.exc_info is None
            assert "push of 3 samples not stored" in line.getMessage()
            assert "\n" not in line.getMessage()
            assert own.pending() == {(STORE_WRITE_FAILURES, '{"source": "push"}'): 1.0}
            throwaway_pg.start()
            resent = client.post("/api/v1/push", content=GOOD_TEXT)  # the sender retries
            assert resent.status_code == 200, resent.text
        assert len(MetricStore(engine).latest("good")) == 3  # nothing of the batch lost
        assert len(MetricStore(engine).latest("before")) == 1
    finally:
        server.close()
        engine.dispose()


def test_metrics_says_so_and_keeps_this_process_counts_when_the_store_cannot_be_read(
    tmp_path, caplog
):
    engine = make_engine(f"sqlite:///{tmp_path / 'never-migrated.db'}")  # no own_counter table
    own = OwnMetrics()
    own.count(SAMPLES_REJECTED, 2, source="push")
    server = PushServer(create_push_app(MetricStore(engine), {TOKEN: "ci"}, metrics=own))
    try:
        answer = httpx.get(f"{server.url}/metrics", timeout=5)
    finally:
        server.close()
        engine.dispose()
    assert answer.status_code == 200
    assert own.pending() == {(SAMPLES_REJECTED, '{"source": "push"}'): 2.0}  # not lost
    assert "vigil_own_metrics_readable 0.0" in answer.text
    assert "the store could not be read" in caplog.text
