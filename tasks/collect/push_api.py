"""The push endpoint: senders POST samples with a bearer token; Vigil's own ``/metrics`` too.

``POST /api/v1/push`` takes the Prometheus text format (``text/plain``) or the JSON form
(``application/json``, see ``tasks.core.collect.push_payload``). Answers:

* 200 ``{"accepted": n, "duplicates": d, "rejected": []}``: nothing refused; ``accepted``
  samples were stored, ``duplicates`` were not because their series already had a value
  at that instant (the first value wins; a resent body is all duplicates).
* 422 with the same body: the good samples ARE stored; each refused one has a reason
  (resend only those, fixed).
* 400 unreadable body (not UTF-8, not JSON, nested too deep), 401 missing or unknown token,
  413 body too large, 415 unsupported content type.
* 503 with ``Retry-After``: the store is unavailable; nothing was stored, send it again.
"""

import json
import logging
import os
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import cast

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry, generate_latest
from starlette.concurrency import run_in_threadpool

from models.config.collectors import PushSettings
from models.errors import ConfigError, StoreError
from models.store import MetricStore, NewSample
from tasks.core.collect.push_payload import Decoded, decode_json, decode_text
from tasks.store.batch import store_batch
from tasks.store.own_metrics import OWN_METRICS, OwnMetrics
from tasks.store.readiness import Probe, readiness, store_problem
from tasks.store.shared_counters import SAMPLES_REJECTED, SharedCounters

log = logging.getLogger(__name__)

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
# curl --data-binary sends form encoding unless told otherwise; the body is still the text format.
TEXT_TYPES = ("text/plain", "application/openmetrics-text", "application/x-www-form-urlencoded")
LABEL_CACHE_LIMIT = 200_000  # label sets remembered between pushes (bounded memory)
RETRY_AFTER_SECONDS = 10  # what a 503 asks senders to wait before sending again


class BodyTooLarge(Exception):
    """The request body passed the size limit."""


def resolve_tokens(push: PushSettings, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """Return ``{token: sender name}``; raise ConfigError when a token variable is unset."""
    tokens = {}
    for index, entry in enumerate(push.tokens):
        if entry.token is not None:
            value = entry.token.get_secret_value()
        else:
            value = environ.get(entry.token_env or "", "")
            if not value:
                raise ConfigError(
                    f"collectors.push.tokens[{index}].token_env: environment variable "
                    f"{entry.token_env} is not set; export it before starting the push server"
                )
        tokens[value] = entry.name
    return tokens


def create_push_app(
    store: MetricStore,
    tokens: Mapping[str, str],
    *,
    max_body_bytes: int = 10_000_000,
    max_ahead: timedelta = timedelta(minutes=5),
    metrics: OwnMetrics = OWN_METRICS,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    probes: Mapping[str, Probe] | None = None,
) -> FastAPI:
    """Return the ASGI app that accepts pushes into ``store`` for the given ``tokens``.

    ``/healthz`` answers while the process serves (liveness); ``/readyz`` runs ``probes``
    (default: the store only) and answers 503 with the reasons when one reports a problem.
    """
    probes = probes if probes is not None else {"store": lambda: store_problem(store.engine)}
    app = FastAPI(title="Vigil push", docs_url=None, redoc_url=None)
    add_push_routes(
        app, store, tokens, max_body_bytes=max_body_bytes, max_ahead=max_ahead,
        metrics=metrics, clock=clock, probes=probes,
    )  # fmt: skip
    return app


def add_push_routes(
    app: FastAPI,
    store: MetricStore,
    tokens: Mapping[str, str],
    *,
    max_body_bytes: int,
    max_ahead: timedelta,
    metrics: OwnMetrics,
    clock: Callable[[], datetime],
    probes: Mapping[str, Probe],
) -> None:
    """Add ``POST /api/v1/push``, ``/metrics``, ``/healthz`` and ``/readyz`` to ``app``
    (the push server's own app, or Vigil's API app, ``tasks.api.app``)."""
    label_cache: dict[str, dict[str, str]] = {}
    shared = CollectorRegistry()
    shared.register(SharedCounters(store.engine))

    @app.post("/api/v1/push")
    async def push(request: Request) -> Response:
        sender = _sender(request, tokens)
        if sender is None:
            return _error(401, "missing or unknown bearer token", {"WWW-Authenticate": "Bearer"})
        try:
            body = await _read_limited(request, max_body_bytes)
        except BodyTooLarge:
            return _error(413, f"body is larger than {max_body_bytes} bytes; send smaller batches")
        content_type = request.headers.get("content-type", "text/plain").split(";")[0].strip()
        # Decoding and storing are CPU and disk work: off the event loop.
        return await run_in_threadpool(_ingest, content_type, body)

    def _ingest(content_type: str, body: bytes) -> Response:
        now = clock()
        if len(label_cache) > LABEL_CACHE_LIMIT:
            label_cache.clear()
        try:
            decoded = _decode(content_type, body, now, max_ahead, label_cache)
        except _Unreadable as exc:
            return _error(exc.status, str(exc))
        return _store(store, decoded, now, metrics)

    @app.get("/metrics")
    def own_metrics() -> Response:
        # Every Vigil process adds to the same counters in the store; this one's go first.
        metrics.flush(store.engine)
        return Response(generate_latest(shared), media_type=PROMETHEUS_TEXT)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        answer = readiness(dict(probes))
        return JSONResponse(answer, 200 if answer["status"] == "ready" else 503)


class _Unreadable(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _decode(
    content_type: str, body: bytes, now: datetime, max_ahead: timedelta, cache: dict
) -> Decoded:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Unreadable(400, f"body is not UTF-8: {exc}") from None
    if content_type == "application/json":
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _Unreadable(400, f"body is not JSON: {exc}") from None
        except ValueError:  # Python refuses to read an integer of more than 4,300 digits
            raise _Unreadable(400, "body holds an integer of more than 4,300 digits") from None
        except RecursionError:
            raise _Unreadable(400, "body nests too deeply to be read as JSON") from None
        try:
            return decode_json(payload, now=now, max_ahead=max_ahead)
        except ValueError as exc:
            raise _Unreadable(422, str(exc)) from None
    if content_type in TEXT_TYPES:
        return decode_text(text, now=now, max_ahead=max_ahead, label_cache=cache)
    raise _Unreadable(
        415, f"content type {content_type!r} is not accepted; use text/plain or application/json"
    )


def _store(store: MetricStore, decoded: Decoded, now: datetime, metrics: OwnMetrics) -> Response:
    """Store what decoded cleanly; answer with the counts and every refusal's reason.

    A store that cannot be reached gets 503 with ``Retry-After`` and one log line.
    """
    rejected = [{"where": r.where, "reason": r.reason} for r in decoded.refusals]
    metrics.count(SAMPLES_REJECTED, len(decoded.refusals), source="push")
    accepted = duplicates = 0
    if decoded.samples:
        samples = cast(list[NewSample], decoded.samples)  # PushedSample has NewSample's fields
        try:
            result = store_batch(store, samples, source="push", now=now, metrics=metrics)
        except StoreError as exc:
            return _unavailable(exc, len(samples))
        accepted, duplicates = result.accepted, result.duplicates
        rejected += [
            {"where": decoded.where(decoded.origins[r.index]), "reason": r.reason}
            for r in result.rejected
        ]
    if decoded.refusals and not decoded.samples:
        metrics.flush(store.engine)
    body = {"accepted": accepted, "duplicates": duplicates, "rejected": rejected}
    return JSONResponse(body, 422 if rejected else 200)


def _unavailable(exc: StoreError, count: int) -> JSONResponse:
    """Answer a push the store could not take: 503 (try again) or 500 (it will not help)."""
    log.warning("push of %d samples not stored: %s", count, exc)
    if not exc.is_transient:
        return _error(500, "the store refused the batch; nothing was stored")
    return _error(
        503,
        f"the store is unavailable; nothing was stored, send again in {RETRY_AFTER_SECONDS} s",
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _sender(request: Request, tokens: Mapping[str, str]) -> str | None:
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented:
        return None
    for token, name in tokens.items():
        if secrets.compare_digest(token.encode(), presented.strip().encode()):
            return name
    return None


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "reason": message}, status, headers=headers)
