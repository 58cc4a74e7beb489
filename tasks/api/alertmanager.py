"""The Alertmanager v2 API subset, so Prometheus, amtool and Grafana can talk to Vigil.

Under ``/alertmanager/api/v2``:

* ``POST /alerts``: alerts from a Prometheus (or any Alertmanager client) become Vigil
  alerts of the rule ``external/<alertname>`` with their labels and annotations, and go
  through Vigil's lifecycle: grouping, routes, silences, acks, escalation, remediation,
  notifications and resolved messages. One resolves when its ``endsAt`` has passed or
  when it is not re-sent within ``alerting.resolve_timeout``. Bad alerts get 400 with
  each one's reason; the good ones in the same body are kept.
* ``GET /alerts``: Vigil's firing alerts (all of them, not only external ones), with the
  silences and the firing alerts that mute each; ``GET /alerts/groups``: the same, grouped
  by receiver and the labels its route groups by.
* ``GET/POST /silences``, ``GET/DELETE /silence/{id}``: Vigil's silences.
* ``GET /status``, ``GET /receivers``.
"""

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from models.errors import MatcherError, OperatorInputError
from models.vocabulary.selectors import Selector, parse_selector
from tasks.alerting import store as repo
from tasks.alerting.engine import AlertEngine
from tasks.alerting.muting import gather_scene
from tasks.alerting.store import AlertRow
from tasks.api.unavailable import UNAVAILABLE
from tasks.api.unavailable import one_line as _line
from tasks.core.alerting import operator_input
from tasks.core.alerting.alertmanager_shapes import (
    alert_groups,
    gettable_silence,
    matchers_text,
    read_time,
    rfc3339,
    silence_matches,
)
from tasks.core.alerting.external import observations, read_posted
from tasks.core.alerting.lifecycle import AlertState
from tasks.core.alerting.muting import inhibitors, silenced_by
from tasks.core.alerting.routing import matching_routes
from tasks.core.api.tokens import Identity

SHOWN = ("active", "silenced", "inhibited")  # the filters GET /alerts takes, true by default
VERSION = "0.25.0"  # the Alertmanager API version whose shapes these follow
Clock = Callable[[], datetime]


def create_alertmanager_router(
    engine: AlertEngine,
    *,
    dependencies: Sequence[Any] = (),
    clock: Clock = lambda: datetime.now(UTC),
) -> APIRouter:
    """Return the Alertmanager API router over ``engine`` (its store, plan and lifecycle).

    ``dependencies`` guard every route (for example a bearer-token check).
    """
    router = APIRouter(prefix="/alertmanager/api/v2", dependencies=list(dependencies))
    started = clock().timestamp()

    @router.post("/alerts")
    async def post_alerts(request: Request) -> Response:
        try:
            payload = json.loads(await request.body())
        except (ValueError, RecursionError) as exc:
            return _error(400, f"body is not JSON: {exc}")
        alerts, problems = read_posted(payload)
        if alerts:
            now = clock().timestamp()
            try:
                await run_in_threadpool(engine.on_external, observations(alerts, now), now)
            except UNAVAILABLE as exc:  # the sender tries again at its next resend
                return _error(503, f"the store is unavailable; no alert was taken: {_line(exc)}")
        if problems:
            kept = f"{len(alerts)} other alerts were accepted; " if alerts else ""
            return _error(400, kept + "; ".join(problems))
        return Response(status_code=200)

    def listed(request: Request) -> list[dict[str, Any]]:
        params = request.query_params
        wanted = _filter(params.getlist("filter"))
        shown = {name: params.get(name, "true").lower() != "false" for name in SHOWN}
        return _alerts(engine, wanted, shown, clock().timestamp())

    @router.get("/alerts")
    def get_alerts(request: Request) -> Response:
        try:
            return JSONResponse(listed(request))
        except (MatcherError, OperatorInputError) as exc:
            return _error(400, str(exc))

    @router.get("/alerts/groups")
    def get_groups(request: Request) -> Response:
        try:
            return JSONResponse(alert_groups(listed(request), engine.plan.routes))
        except (MatcherError, OperatorInputError) as exc:
            return _error(400, str(exc))

    @router.get("/silences")
    def get_silences(request: Request) -> Response:
        try:
            wanted = _filter(request.query_params.getlist("filter"))
        except (MatcherError, OperatorInputError) as exc:
            return _error(400, str(exc))
        now = clock().timestamp()
        with engine.db.connect() as conn:
            rows = repo.list_silences(conn, now, include_expired=True)
        return JSONResponse(
            [gettable_silence(r, now) for r in rows if silence_matches(wanted, r["matchers"])]
        )

    @router.post("/silences")
    async def post_silence(request: Request) -> Response:
        try:
            payload = json.loads(await request.body())
        except (ValueError, RecursionError) as exc:
            return _error(400, f"body is not JSON: {exc}")
        if (who := _identity(request)) is None:
            return _error(401, "adding a silence needs an operator token")
        try:
            silence_id = await run_in_threadpool(_add_silence, engine, payload, clock(), who)
        except (OperatorInputError, MatcherError) as exc:
            return _error(400, str(exc))
        return JSONResponse({"silenceID": str(silence_id)})

    @router.get("/silence/{silence_id}")
    def get_silence(silence_id: str) -> Response:
        now = clock().timestamp()
        with engine.db.connect() as conn:
            rows = repo.list_silences(conn, now, include_expired=True)
        found = [r for r in rows if str(r["id"]) == silence_id]
        if not found:
            return _error(404, f"no silence {silence_id}")
        return JSONResponse(gettable_silence(found[0], now))

    @router.delete("/silence/{silence_id}")
    def delete_silence(silence_id: str, request: Request) -> Response:
        if not silence_id.isdigit():
            return _error(404, f"no silence {silence_id}; Vigil's silence ids are numbers")
        if (who := _identity(request)) is None:
            return _error(401, "expiring a silence needs an operator token")
        with engine.db.begin() as conn:
            is_done = repo.expire_silence(conn, int(silence_id), clock().timestamp(), by=who.actor)
        if not is_done:
            return _error(404, f"no active silence {silence_id}")
        return Response(status_code=200)

    @router.get("/status")
    def status() -> dict[str, Any]:
        return {
            "cluster": {"status": "disabled", "peers": []},
            "versionInfo": {
                "version": VERSION,
                "revision": "vigil",
                "branch": "vigil",
                "buildUser": "vigil",
                "buildDate": "",
                "goVersion": "none (Vigil, Python)",
            },
            "config": {"original": _config_summary(engine)},
            "uptime": rfc3339(started),
        }

    @router.get("/receivers")
    def receivers() -> list[dict[str, str]]:
        return [{"name": name} for name in sorted(engine.plan.channels)]

    return router


def _alerts(
    engine: AlertEngine, wanted: Selector, shown: dict[str, bool], now: float
) -> list[dict[str, Any]]:
    with engine.db.connect() as conn:
        firing = repo.load_in_states(conn, [AlertState.FIRING])
        scene = gather_scene(conn, engine.plan, firing, now)
    out = []
    for row in firing:
        if not wanted.matches("", row.labels):
            continue
        silence = silenced_by(row.labels, scene.silences, now)
        muted_by = [
            firing[i].fingerprint for i in inhibitors(row.labels, scene.firing, scene.inhibit)
        ]
        kind = "silenced" if silence is not None else "inhibited" if muted_by else "active"
        if shown[kind]:
            out.append(_gettable_alert(engine, row, silence, muted_by, now))
    return out


def _gettable_alert(
    engine: AlertEngine, row: AlertRow, silence: int | None, muted_by: list[str], now: float
) -> dict[str, Any]:
    lc = row.lifecycle
    seen = row.observed_at or lc.fired_at or now
    routes = engine.plan.routes
    channels = {c for i in matching_routes(row.labels, routes) for c in routes[i].channels}
    return {
        "labels": row.labels,
        "annotations": row.annotations,
        "startsAt": rfc3339(lc.fired_at or lc.active_since or now),
        "endsAt": rfc3339(seen + engine.plan.resolve_timeout_s),
        "updatedAt": rfc3339(seen),
        "generatorURL": engine.plan.dashboard_url,
        "fingerprint": row.fingerprint,
        "receivers": [{"name": c} for c in sorted(channels)],
        "status": {
            "state": "suppressed" if silence is not None or muted_by else "active",
            "silencedBy": [] if silence is None else [str(silence)],
            "inhibitedBy": muted_by,
        },
    }


def _identity(request: Request) -> Identity | None:
    """Who the router's guard let in (None: the router was mounted without one)."""
    return getattr(request.state, "identity", None)


def author(who: Identity, created_by: str) -> str:
    """The author recorded for a silence: the token's holder, and the ``createdBy`` the client
    sent when it names someone else (Alertmanager's field is free text; the token is not).

    >>> from models.config.dashboard import Role
    >>> ana = Identity("ci", "ana", Role.OPERATOR)
    >>> author(ana, "ana"), author(ana, "bob")
    ('ana/ci', 'ana/ci (createdBy: bob)')
    """
    if created_by == who.user:
        return who.actor
    return f"{who.actor} (createdBy: {created_by})"[:255]


def _add_silence(engine: AlertEngine, payload: Any, now: datetime, who: Identity) -> int:
    """Store a ``postableSilence``; one with the id of a silence replaces it (ends it first)."""
    if not isinstance(payload, dict):
        raise OperatorInputError("body: is not a silence object")
    text = matchers_text(payload.get("matchers"))
    starts = read_time(payload.get("startsAt"), "startsAt")
    ends = read_time(payload.get("endsAt"), "endsAt")
    if ends <= now.timestamp():
        raise OperatorInputError("endsAt: is in the past; a silence must end in the future")
    by = payload.get("createdBy")
    if not isinstance(by, str) or not by.strip():
        raise OperatorInputError("createdBy: is missing; say who silences")
    starts = max(starts, now.timestamp())
    asked = operator_input.silence(
        text,
        lasting=datetime.fromtimestamp(ends, UTC) - datetime.fromtimestamp(starts, UTC),
        comment=str(payload.get("comment") or ""),
        now=datetime.fromtimestamp(starts, UTC),
    )
    with engine.db.begin() as conn:
        replaced = str(payload.get("id") or "")
        if replaced.isdigit():
            repo.expire_silence(conn, int(replaced), now.timestamp(), by=who.actor)
        return repo.add_silence(
            conn,
            asked.matchers,
            asked.starts_at.timestamp(),
            asked.ends_at.timestamp(),
            author(who, by.strip()),
            asked.comment,
        )


def _filter(texts: list[str]) -> Selector:
    """Alertmanager ``filter`` parameters (``name="value"`` each) as one selector."""
    if not texts:
        return Selector(None)  # no filter: everything
    return parse_selector("{" + ", ".join(texts) + "}")


def _config_summary(engine: AlertEngine) -> str:
    plan = engine.plan
    lines = [
        "# Vigil: routes and channels come from vigil.yaml",
        f"resolve_timeout: {plan.resolve_timeout_s:g}s",
        "receivers:",
        *(f"  - name: {name}" for name in sorted(plan.channels)),
    ]
    return "\n".join(lines) + "\n"


def _error(status: int, message: str) -> JSONResponse:
    """Alertmanager answers errors with a JSON string."""
    return JSONResponse(message, status)
