"""The starter vigil.yaml that `vigil init` and `vigil up` write: it watches this host and Vigil.

Every section is real and runs at once: host metrics, checks of Vigil's own services, tiered
host rules, a forecast, an anomaly and an absence rule, rules on Vigil's own failures, two
channels that need no account, and one recovery procedure that only says what it would do.
"""

import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

STARTER = """\
# Vigil configuration, written by `vigil init`. `vigil validate` checks it; durations read
# 30s, 5m, 1h, 7d. Every section is explained in docs/configuration.md.
version: 1

# Labels added to every series Vigil stores.
labels:
  site: {site}

# What Vigil watches: this host. Checks, rules and procedures name their target.
targets:
  - name: {host}
    kind: host
    address: 127.0.0.1
    labels:
      role: vigil

collectors:
  # CPU, memory, disks and network of this host, every 10 s.
  host:
    enabled: true
    interval: 10s
    target: {host}
  # CPU, memory and restarts of Vigil's own processes (process_* series).
  processes:
    interval: 10s
    watch:
      - {{name: vigil-serve, cmdline: "vigil(\\\\.cli)? serve", target: {host}}}
      - {{name: prefect-server, cmdline: "prefect server start", target: {host}}}
  # Vigil's own counters (notifications failed, checks late, ...) from its /metrics,
  # stored like any series so the rules at the end can watch Vigil itself.
  scrapes:
    - {{job: vigil, url: "http://127.0.0.1:{push_port}/metrics", interval: 30s}}
  # Applications push samples here (Prometheus text or JSON) with this bearer token;
  # the same server serves Vigil's /metrics and /readyz. Move the token to an environment
  # variable (token_env: NAME) before sharing this file.
  push:
    enabled: true
    port: {push_port}
    tokens:
      - name: local
        token: {token}

# Health checks: each result is stored; a check DOWN 3 runs in a row fires check_state rules.
checks:
  - name: prefect-api          # the Prefect server that schedules every flow
    type: http
    target: {host}
    url: http://127.0.0.1:{prefect_port}/api/health
    interval: 30s
  - name: dashboard            # this dashboard
    type: http
    target: {host}
    url: http://127.0.0.1:{dashboard_port}/_stcore/health
    interval: 30s
  - name: vigil-ready          # the push server's readiness: store, Prefect API, outbox
    type: http
    target: {host}
    url: http://127.0.0.1:{push_port}/readyz
    interval: 30s
  - name: vigil-serve-process  # the process that runs every deployment
    type: process
    target: {host}
    cmdline: "vigil(\\\\.cli)? serve"
    interval: 30s
{store_check}
# Alert rules. Threshold rules fire per tier and clear only past the clear line.
rules:
  - name: HostDiskFull
    series: host_disk_used_percent
    tiers:
      - {{severity: warning, value: 85, clear: 80}}
      - {{severity: critical, value: 95, clear: 90}}
    annotations:
      summary: "disk {{{{ labels.mount }}}} on {{{{ labels.target }}}} is {{{{ value }}}} % full"
  - name: HostMemoryHigh
    series: host_memory_used_percent
    aggregate: avg
    window: 5m
    tiers:
      - {{severity: warning, value: 90, clear: 85}}
      - {{severity: critical, value: 97, clear: 93}}
  - name: HostCpuBusy
    series: host_cpu_percent
    aggregate: avg
    window: 5m
    for: 5m
    tiers:
      - {{severity: warning, value: 85, clear: 75}}
      - {{severity: critical, value: 95, clear: 90}}
  # Predictive: the forecast deployment says a disk reaches 100 % within a day.
  - name: DiskFullWithin24h
    kind: forecast
    series: host_disk_used_percent
    threshold: 100
    within: 24h
    min_history: 1h
  # Unusual CPU for this host, once an hour of history has taught the detector what is usual.
  - name: CpuUnusual
    kind: anomaly
    series: host_cpu_percent
    min_history: 1h
  # No host metrics for 2 minutes: collection stopped (or this host did).
  - name: HostMetricsMissing
    kind: absence
    series: host_cpu_percent
    for: 2m
    severity: critical
  # Vigil watching itself, from the counters it scrapes from its own /metrics.
  - name: VigilNotificationsFailing
    series: vigil_notifications_failed_total
    aggregate: rate
    window: 15m
    op: ">"
    value: 0
  - name: VigilChecksLate
    series: vigil_checks_late_total
    aggregate: rate
    window: 15m
    op: ">"
    value: 0
  - name: VigilNotReady         # store or Prefect API unreachable (see the vigil-ready check)
    kind: check_state
    check: '{{check="vigil-ready"}}'
    severity: critical
    procedure: note-vigil-state
  - name: VigilServiceDown
    kind: check_state
    check: '{{check=~"prefect-api|dashboard|vigil-serve-process"}}'
    severity: critical

# Forecast and score these series (the forecast and retrain deployments).
analytics:
  series: [host_disk_used_percent, host_cpu_percent]

# Where notifications go. Both work with no setup: the inbox is the Deliveries tab of the
# dashboard's Alerts page; the log file is appended to in the directory Vigil runs in.
channels:
  - {{name: inbox, url: "vigil://inbox"}}
  - {{name: log-file, url: "vigil://log/.vigil/notifications.log"}}
  # Slack, email and SMS are apprise URLs; secrets come from the environment:
  # - {{name: slack, url: "slack://${{SLACK_TOKEN_A}}/${{SLACK_TOKEN_B}}/${{SLACK_TOKEN_C}}/#ops"}}
  # - {{name: email, url: "mailtos://ops:${{SMTP_PASSWORD}}@mail.example.com?to=ops@example.com"}}
  # - {{name: sms, url: "twilio://${{TWILIO_SID}}:${{TWILIO_TOKEN}}@+15550001111/+15550002222"}}

alerting:
  default:
    group_wait: 10s           # notify a new alert 10 s after it fires
  dashboard_url: http://127.0.0.1:{dashboard_port}
  prefect_ui_url: http://127.0.0.1:{prefect_port}

# A safe example, started by VigilNotReady: it fetches the readiness report. With
# dry_run: true each run only records the plan (Recoveries page); set it to false to act.
# Other steps (restart, clear, scale, systemd) are in docs/configuration.md.
procedures:
  - name: note-vigil-state
    description: Fetch the readiness report when Vigil says it is not ready.
    targets: [{host}]
    dry_run: true
    steps:
      - name: record-readiness
        type: command
        argv: [curl, --silent, --max-time, "5", "http://127.0.0.1:{push_port}/readyz"]

dashboard:
  port: {dashboard_port}
"""

PG_CHECK = """\
  - name: store                # the PostgreSQL store
    type: tcp
    target: {host}
    host: {pg_host}
    port: {pg_port}
    interval: 30s
"""


@dataclass(frozen=True)
class StarterPorts:
    """Where Vigil's own services listen, so the starter's checks look in the right place."""

    prefect: int = 4200
    push: int = 9091
    dashboard: int = 8501


def starter_config(
    host: str | None = None,
    site: str = "local",
    *,
    ports: StarterPorts | None = None,
    database_url: str = "sqlite:///vigil.db",
) -> str:
    """Return the text of a starter config that watches ``host`` (default: this machine)."""
    host = host or _safe_hostname()
    ports = ports or StarterPorts()
    store_check = _store_check(host, database_url)
    return STARTER.format(
        host=host,
        site=site,
        token=secrets.token_urlsafe(24),
        prefect_port=ports.prefect,
        push_port=ports.push,
        dashboard_port=ports.dashboard,
        store_check=store_check,
    )


def write_starter(
    path: Path, *, ports: StarterPorts | None = None, database_url: str = "sqlite:///vigil.db"
) -> None:
    """Write a starter config readable only by its owner (it holds a push token)."""
    path.touch(mode=0o600)
    path.write_text(starter_config(ports=ports, database_url=database_url), encoding="utf-8")


def _store_check(host: str, database_url: str) -> str:
    """A TCP check of the store when it is a PostgreSQL server ('' for SQLite)."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if not url.drivername.startswith("postgresql"):
        return ""
    return PG_CHECK.format(host=host, pg_host=url.host or "127.0.0.1", pg_port=url.port or 5432)


def _safe_hostname() -> str:
    name = socket.gethostname().split(".")[0]
    cleaned = "".join(c if c.isalnum() or c in "_.:-" else "-" for c in name).strip("-")
    return cleaned or "localhost"
