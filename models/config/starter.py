"""The starter vigil.yaml that `vigil init` writes: it watches the machine it runs on."""

import socket

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
    return STARTER.format(host=host, site=site)


def _safe_hostname() -> str:
    name = socket.gethostname().split(".")[0]
    cleaned = "".join(c if c.isalnum() or c in "_.:-" else "-" for c in name).strip("-")
    return cleaned or "localhost"
