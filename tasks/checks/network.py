"""Network probes: HTTP(S) requests and TCP connects."""

import asyncio
import time
from datetime import datetime, timedelta

import httpx
from cryptography import x509

from models.config.checks import HttpCheck, TcpCheck
from tasks.checks.context import Observation, ProbeContext
from tasks.core.check_assertions import HttpAnswer, judge_http


async def probe_http(check: HttpCheck, ctx: ProbeContext, now: datetime) -> Observation:
    """Request ``check.url`` and judge status, latency, body and certificate."""
    client = ctx.http(verify=check.verify_tls, ca_file=check.ca_file)
    started = time.perf_counter()
    async with client.stream(
        check.method,
        check.url,
        headers=check.headers,
        content=check.body,
        follow_redirects=check.follow_redirects,
    ) as response:
        not_after = _cert_not_after(response) if check.min_cert_days is not None else None
        body = (await response.aread()).decode(response.encoding or "utf-8", errors="replace")
    latency_ms = (time.perf_counter() - started) * 1000
    answer = HttpAnswer(response.status_code, body, latency_ms, not_after)
    problems = judge_http(
        answer,
        expect_status=check.expect_status,
        max_latency_ms=_ms(check.max_latency),
        body_contains=check.body_contains,
        json_fields=check.json_fields,
        min_cert_days=check.min_cert_days,
        now=now,
    )
    summary = f"HTTP {response.status_code} in {latency_ms:.0f} ms"
    if not_after is not None:
        summary += f", certificate valid until {not_after:%Y-%m-%d}"
    return problems, summary


def _cert_not_after(response: httpx.Response) -> datetime | None:
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
