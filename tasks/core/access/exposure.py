"""Warnings for servers that listen beyond this machine without TLS or without auth."""

import ipaddress

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    """Return True when ``host`` is reachable from this machine only.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def bind_warning(
    service: str, host: str, port: int, *, has_tls: bool, has_auth: bool, carries: str
) -> str | None:
    """Say what is at risk when ``service`` listens on ``host`` beyond loopback.

    ``carries`` names what crosses the network (credentials, samples, ...).

    >>> text = bind_warning("push", "0.0.0.0", 9091, has_tls=False, has_auth=True, carries="x")
    >>> text.startswith("WARNING: push listens on 0.0.0.0:9091 (beyond this machine) without TLS")
    True
    >>> bind_warning("push", "127.0.0.1", 9091, has_tls=False, has_auth=False, carries="x")
    """
    if is_loopback(host):
        return None
    risks = []
    if not has_tls:
        risks.append(
            f"without TLS: {carries} cross the network in clear text; anyone on the path can "
            "read them. Set tls_cert and tls_key, or bind 127.0.0.1 behind a TLS proxy"
        )
    if not has_auth:
        risks.append(
            "without authentication: anyone who reaches it can use it. Configure its users "
            "or tokens"
        )
    if not risks:
        return None
    return (
        f"WARNING: {service} listens on {host}:{port} (beyond this machine) "
        + "; ".join(risks)
        + "."
    )
