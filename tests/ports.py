"""Loopback ports for servers the tests start."""

import random
import socket
from pathlib import Path


def _ephemeral_low() -> int:
    """Where the OS starts handing out ports to outgoing connections (Linux: 32768)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A free loopback port below the ephemeral range.

    A port the OS just handed out (bind to 0) can be handed out again to any outgoing
    connection (a database client, an HTTP client) before the server under test binds it;
    ports below the ephemeral range are never given to outgoing connections.
    """
    low = min(_ephemeral_low(), 32768)
    for _ in range(200):
        port = random.randrange(max(1024, low - 12000), low)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port below the ephemeral range")
