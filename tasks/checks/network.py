"""Network probes: HTTP(S) requests and TCP connects."""

import asyncio
import time
from datetime import datetime, timedelta
from urllib.parse import urljoin

import httpcore
from cryptography import x509

from models.config.checks import HttpCheck, TcpCheck
from tasks.checks.context import Observation, ProbeContext
from tasks.checks.http_pool import ConnectionStacks
from tasks.core.checks.assertions import HttpAnswer, judge_http

REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10


async def probe_http(check: HttpCheck, ctx: ProbeContext, now: datetime) -> Observation:
    """Request ``check.url`` and judge status, latency, body and certificate."""
    pool = ctx.http(verify=check.verify_tls, ca_file=check.ca_file)
    started = time.perf_counter()
    url, hops = check.url, 0
    while True:
        status, headers, body, not_after = await _exchange(pool, check, url)
        location = headers.get("location")
        if not (check.follow_redirects and status in REDIRECTS and location):
            break
        hops += 1
        if hops > MAX_REDIRECTS:
            return [f"more than {MAX_REDIRECTS} redirects"], ""
        url = urljoin(url, location)
    latency_ms = (time.perf_counter() - started) * 1000
    answer = HttpAnswer(status, body, latency_ms, not_after)
    problems = judge_http(
        answer,
        expect_status=check.expect_status,
        max_latency_ms=_ms(check.max_latency),
        body_contains=check.body_contains,
        json_fields=check.json_fields,
        min_cert_days=check.min_cert_days,
        now=now,
    )
    summary = f"HTTP {status} in {latency_ms:.0f} ms"
    if not_after is not None:
        summary += f", certificate valid until {not_after:%Y-%m-%d}"
    return problems, summary


async def _exchange(
    pool: ConnectionStacks, check: HttpCheck, url: str
) -> tuple[int, dict[str, str], str, datetime | None]:
    """Send one request; return status, headers (lower-case names), text body, cert expiry."""
    content = check.body.encode() if check.body is not None else None
    async with pool.stream(
        check.method, url, headers=list(check.headers.items()), content=content
    ) as response:
        not_after = _cert_not_after(response) if check.min_cert_days is not None else None
        raw = await response.aread()
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in response.headers}
    return response.status, headers, raw.decode("utf-8", errors="replace"), not_after


def _cert_not_after(response: httpcore.Response) -> datetime | None:
    """Read the peer certificate's expiry from the open connection (works unverified too)."""
    stream = response.extensions.get("network_stream")
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    return x509.load_der_x509_certificate(der).not_valid_after_utc if der else None


def _ms(duration: timedelta | None) -> float | None:
    return None if duration is None else duration.total_seconds() * 1000


async def probe_tcp(check: TcpCheck, ctx: ProbeContext, now: datetime) -> Observation:
    """Open (and close) a TCP connection to host:port."""
    started = time.perf_counter()
    _, writer = await asyncio.open_connection(check.host, check.port)
    latency_ms = (time.perf_counter() - started) * 1000
    writer.close()
    await writer.wait_closed()
    return [], f"connected to {check.host}:{check.port} in {latency_ms:.1f} ms"
