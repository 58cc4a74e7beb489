"""The starter vigil.yaml that `vigil init` writes: it watches the machine it runs on."""

import secrets
import socket
from pathlib import Path

STARTER = """\
# Vigil configuration. `vigil validate` checks this file; durations read 30s, 5m, 1h, 7d.
version: 1

# Labels added to every series Vigil stores.
labels:
  site: {site}

# What Vigil watches: hosts and services, each with its own labels.
targets:
  - name: {host}
    kind: host
    address: 127.0.0.1
    labels:
      role: vigil

# How often host metrics (CPU, memory, disks, network) are sampled.
collectors:
  host:
    enabled: true
    interval: 10s
    target: {host}
  # Applications push samples here (Prometheus text or JSON) with this bearer token;
  # the same server serves Vigil's own /metrics. Move the token to an environment
  # variable (token_env: NAME) before sharing this file.
  push:
    enabled: true
    port: 9091
    tokens:
      - name: local
        token: {token}

# Filled in as you go: health checks, alert rules, notification channels and
# recovery procedures (see README.md, Configuration).
checks: []
rules: []
channels: []
procedures: []
"""


def starter_config(host: str | None = None, site: str = "local") -> str:
    """Return the text of a starter config that watches ``host`` (default: this machine)."""
    host = host or _safe_hostname()
    return STARTER.format(host=host, site=site, token=secrets.token_urlsafe(24))


def write_starter(path: Path) -> None:
    """Write a starter config readable only by its owner (it holds a push token)."""
    path.touch(mode=0o600)
    path.write_text(starter_config(), encoding="utf-8")


def _safe_hostname() -> str:
    name = socket.gethostname().split(".")[0]
    cleaned = "".join(c if c.isalnum() or c in "_.:-" else "-" for c in name).strip("-")
    return cleaned or "localhost"
