"""The processes `vigil up` runs, built from the settings and vigil.yaml.

No secret goes into a service's ``env`` (it is recorded in ``up.json``): the store's URL and
the Prefect credential reach the children through the environment `vigil up` hands down.
"""

import sys
from dataclasses import replace

from deployments.dashboard import streamlit_command
from deployments.ephemeral_server import LEASE_STORAGE
from deployments.supervisor import Service
from models.config.collectors import Retention
from models.config.dashboard import DashboardConfig
from models.config.root import VigilConfig
from models.settings import Settings
from tasks.core.access.exposure import bind_warning

VIGIL = [sys.executable, "-m", "vigil.cli"]
# glibc gives each new thread an arena of its own, up to 8 per core; flow runs in threads,
# served requests and Prefect's workers then leave freed memory scattered over all of them,
# which RSS keeps. Two arenas cut the growth of an in-thread self-watch run from ~315 to
# ~71 KB (bench/in_process.py under MALLOC_ARENA_MAX=2; docs/benchmarks.md).
MALLOC_ENV = {"MALLOC_ARENA_MAX": "2"}
PREFECT_READY_SECONDS = 240.0  # a first start creates and migrates Prefect's database


def prefect_api_url(settings: Settings) -> str:
    """Return the API URL of the local Prefect server."""
    return f"http://{settings.bind_host}:{settings.prefect_port}/api"


def ui_origins(settings: Settings) -> list[str]:
    """The origins the local Prefect UI is opened from: its own address (and localhost's)."""
    origins = [f"http://{settings.bind_host}:{settings.prefect_port}"]
    if settings.bind_host == "127.0.0.1":
        origins.append(f"http://localhost:{settings.prefect_port}")
    return origins


def prefect_server(settings: Settings, retention: Retention | None = None) -> Service:
    """The local Prefect server: API, UI and the scheduler that fires deployments."""
    argv = [sys.executable, "-m", "prefect", "server", "start"]
    argv += ["--host", settings.bind_host, "--port", str(settings.prefect_port)]
    return Service(
        name="prefect-server",
        argv=argv,
        url=f"http://{settings.bind_host}:{settings.prefect_port}",
        health_url=f"{prefect_api_url(settings)}/health",
        env=prefect_server_env(settings, retention or Retention()),
        ready_timeout_seconds=PREFECT_READY_SECONDS,  # 80 s seen on two busy cores
    )


def prefect_server_env(settings: Settings, retention: Retention) -> dict[str, str]:
    """The local Prefect server's settings.

    Its API asks for basic auth (``PREFECT_SERVER_API_AUTH_STRING``, inherited from
    `vigil up`) and answers cross-origin requests from its own UI only.
    """
    env = {
        "PREFECT_HOME": str((settings.state_dir / "prefect").resolve()),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "true",
        # What the browser calls; Prefect's default is port 4200 whatever --port says.
        "PREFECT_UI_API_URL": prefect_api_url(settings),
        # Prefect's default is "*": any web page a local browser opens could call the API.
        "PREFECT_SERVER_API_CORS_ALLOWED_ORIGINS": ",".join(ui_origins(settings)),
        # Concurrency leases on disk: after a restart the server still knows who holds a
        # slot and frees it when the holder stops renewing (in memory, it never would).
        "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": LEASE_STORAGE,
        # Memoized block registration first imports every Prefect collection installed
        # (prefect-dask: dask, distributed and numpy, ~28 MB kept for good); registering the
        # built-in block types at each start instead costs no memory.
        "PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false",
    }
    env |= prefect_history_env(retention)
    if settings.prefect_database_url:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = settings.prefect_database_url
    return env


def prefect_history_env(retention: Retention) -> dict[str, str]:
    """Settings that make the Prefect server delete its own old history.

    Prefect 3.8.8 cleans only its events by default; with ``flow_runs`` its db_vacuum
    service also deletes terminal flow runs older than the retention (their task runs and
    states by cascade, their logs and artifacts in batches), hourly, 200 runs a transaction.
    """
    return {
        "PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED": "events,flow_runs",
        "PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD": str(
            int(retention.prefect_runs.total_seconds())
        ),
    }


def deployment_runner(settings: Settings) -> Service:
    """`vigil serve`: runs every deployment on its schedule against the local server."""
    return Service(
        name="deployments",
        argv=[*VIGIL, "serve"],
        url="(schedules in the Prefect UI, Deployments)",
        env={"PREFECT_API_URL": prefect_api_url(settings)},
    )


def vigil_core(settings: Settings, config: VigilConfig) -> Service:
    """The compact layout's one process: Prefect server, deployment runner and API.

    `vigil serve --with-prefect-server --with-api` (deployments/threaded_server.py): about
    half the memory of the three processes of the isolated layout, which share most imports.
    It is healthy when its last part, the API (or without push, the Prefect server), answers.
    """
    push = config.collectors.push
    prefect_url = f"http://{settings.bind_host}:{settings.prefect_port}"
    url, health_url = f"{prefect_url} (Prefect UI)", f"{prefect_api_url(settings)}/health"
    argv = [*VIGIL, "serve", "--with-prefect-server"]
    if push.enabled:
        argv.append("--with-api")
        url += f"   push: {api_urls(config)}"
        health_url = api_health_url(config)
    env = prefect_server_env(settings, config.collectors.retention)
    env["PREFECT_API_URL"] = prefect_api_url(settings)
    return Service(
        name="vigil",
        argv=argv,
        url=url,
        health_url=health_url,
        env=env,
        ready_timeout_seconds=PREFECT_READY_SECONDS + 60.0,
    )


def push_server(settings: Settings, config: VigilConfig) -> Service:
    """The API server: the push endpoint, Vigil's own /metrics and the HTTP API (/docs).

    It evaluates alert rules on what is pushed, so it talks to the local Prefect server
    (alert events, alert-triggered recovery runs).
    """
    return Service(
        name="push",
        argv=[*VIGIL, "collect", "push-server"],
        url=api_urls(config),
        health_url=api_health_url(config),
        env={"PREFECT_API_URL": prefect_api_url(settings)},
    )


def api_base(config: VigilConfig) -> str:
    """Where the API, push endpoint and /metrics answer (collectors.push's address)."""
    push = config.collectors.push
    return f"{push.scheme}://{push.host}:{push.port}"


def api_health_url(config: VigilConfig) -> str:
    """The API's liveness URL."""
    return f"{api_base(config)}/healthz"


def api_urls(config: VigilConfig) -> str:
    """The push, /metrics and API docs URLs, as `vigil up` prints them."""
    base = api_base(config)
    return f"{base}/api/v1/push   metrics: {base}/metrics   API: {base}/docs"


def dashboard_service(settings: Settings, section: DashboardConfig) -> Service:
    """The dashboard for `vigil up`, reading the same store, config and Prefect server.

    The config and the store come with `vigil up`'s environment (``VIGIL_CONFIG_PATH``,
    ``VIGIL_DATABASE_URL``), like for every other child.
    """
    base = f"{section.scheme}://{section.host}:{section.port}"
    env = {"PREFECT_API_URL": section.prefect_api_url or prefect_api_url(settings)}
    argv = streamlit_command(
        section.host, section.port, tls_cert=section.tls_cert, tls_key=section.tls_key
    )
    return Service(
        name="dashboard",
        argv=argv,
        url=base,
        health_url=f"{base}/_stcore/health",
        env=env,
    )


def exposure_warnings(settings: Settings, config: VigilConfig) -> list[str]:
    """Warnings for each service `vigil up` would bind beyond loopback without TLS or auth."""
    push, board = config.collectors.push, config.dashboard
    found = [
        bind_warning(
            "the Prefect server",
            settings.bind_host,
            settings.prefect_port,
            has_tls=False,
            has_auth=True,
            carries="its basic-auth credential and every flow run's parameters",
        ),
        bind_warning(
            "the push server",
            push.host,
            push.port,
            has_tls=push.tls_cert is not None,
            has_auth=bool(push.tokens),
            carries="push tokens and samples",
        )
        if push.enabled
        else None,
        bind_warning(
            "the dashboard",
            board.host,
            board.port,
            has_tls=board.tls_cert is not None,
            has_auth=bool(board.users),
            carries="passwords and session cookies",
        ),
    ]
    return [warning for warning in found if warning]


def vigil_services(
    settings: Settings, config: VigilConfig, *, is_isolated: bool = False
) -> list[Service]:
    """Every service of a local Vigil, in start order.

    Compact (the default): one process for the Prefect server, the runner and the API, and
    the dashboard. Isolated: each in a process of its own (a crash takes only one down).
    """
    if is_isolated:
        services = [prefect_server(settings, config.collectors.retention)]
        services.append(deployment_runner(settings))
        if config.collectors.push.enabled:
            services.append(push_server(settings, config))
    else:
        services = [vigil_core(settings, config)]
    services.append(dashboard_service(settings, config.dashboard))
    return [replace(service, env={**MALLOC_ENV, **service.env}) for service in services]
