"""One API server: the push endpoint, ``/metrics``, ``/healthz``, ``/readyz`` and ``/api/v1``.

``create_api_app`` composes the push routes (``tasks.collect.push_api``) with one router per
capability (health, metrics, alerts, recoveries, rules, models, SLOs and incidents). The
OpenAPI document is at ``/openapi.json``, its interactive page at ``/docs``. ``/api/v1``
needs an API token (``tasks.api.auth``); the push endpoint keeps its own sender tokens.
"""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from fastapi import Depends, FastAPI

from models.config.dashboard import Role
from models.config.root import VigilConfig
from models.store import MetricStore
from tasks.alerting.engine import AlertEngine
from tasks.api import alerts, forecasts, health, metrics, recoveries, rules, slo
from tasks.api.alertmanager import create_alertmanager_router
from tasks.api.auth import TokenBook, require
from tasks.api.context import Answer, ApiContext, Launch
from tasks.api.errors import ERROR_RESPONSES, install_error_handlers
from tasks.api.prometheus import create_prometheus_router
from tasks.collect.push_api import add_push_routes
from tasks.store.own_metrics import OWN_METRICS, OwnMetrics
from tasks.store.readiness import Probe, store_problem

ROUTERS = (health, metrics, alerts, recoveries, rules, forecasts, slo)


def create_api_app(
    store: MetricStore,
    config: VigilConfig,
    *,
    push_tokens: Mapping[str, str],
    launch: Launch,
    answer: Answer,
    probes: Mapping[str, Probe] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    metrics_registry: OwnMetrics = OWN_METRICS,
    config_path: Path | None = None,
    alert_engine: AlertEngine | None = None,
) -> FastAPI:
    """Return Vigil's API app over ``store`` and ``config``.

    ``launch`` starts an admitted recovery run (production: the served ``recover``
    deployment), ``answer`` resumes a paused one (production: Prefect's resume).
    The Prometheus query API (``/prometheus``, viewer token) is always served; with
    ``alert_engine``, the Alertmanager API (``/alertmanager``, operator token) too.
    """
    probes = probes if probes is not None else {"store": lambda: store_problem(store.engine)}
    app = FastAPI(
        title="Vigil",
        version="1",
        description="Vigil's HTTP API. Bearer tokens: `vigil api token create`; see docs/api.md.",
        docs_url="/docs",
        redoc_url=None,
        responses=ERROR_RESPONSES,
    )
    push = config.collectors.push
    add_push_routes(
        app,
        store,
        push_tokens,
        max_body_bytes=push.max_body_bytes,
        max_ahead=push.max_ahead,
        metrics=metrics_registry,
        clock=clock,
        probes=probes,
    )
    app.state.token_book = TokenBook(store.engine, config.dashboard.users)
    app.state.api = ApiContext(store, config, probes, clock, launch, answer, config_path)
    install_error_handlers(app)
    for module in ROUTERS:
        app.include_router(module.router)
    viewer, operator = Depends(require(Role.VIEWER)), Depends(require(Role.OPERATOR))
    app.include_router(create_prometheus_router(store, clock=clock, dependencies=[viewer]))
    if alert_engine is not None:
        app.include_router(
            create_alertmanager_router(alert_engine, clock=clock, dependencies=[operator])
        )
    return app
