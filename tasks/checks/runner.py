"""Run one check: a timeout per try, retries with doubling backoff, errors become messages."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from models.config.checks import CheckBase
from tasks.checks.context import Observation, ProbeContext
from tasks.checks.data import probe_metric, probe_sql
from tasks.checks.host import probe_command, probe_process
from tasks.checks.network import probe_http, probe_tcp
from tasks.core.checks.machine import Outcome, start_deadline_s

Probe = Callable[[Any, ProbeContext, datetime], Awaitable[Observation]]
PROBES: dict[str, Probe] = {
    "http": probe_http,
    "tcp": probe_tcp,
    "process": probe_process,
    "command": probe_command,
    "sql": probe_sql,
    "metric": probe_metric,
}
MAX_MESSAGE = 500


async def run_check(
    check: CheckBase,
    ctx: ProbeContext,
    now: datetime,
    slots: asyncio.Semaphore,
    *,
    queued_at: float | None = None,
) -> Outcome:
    """Try ``check`` up to ``1 + retries`` times; stop at the first pass.

    Each try holds one of ``slots`` (the concurrency limit) and is cut off at the
    check's timeout, timed from when it got its slot; the backoff wait between tries
    holds no slot. A try that waited longer than its start deadline for a slot is not
    run: the outcome is late (Vigil is overloaded), not a failure of the target.

    Args:
        queued_at: when the run was asked for (``time.perf_counter()``; default: now).
    """
    probe = PROBES[check.type]  # type: ignore[attr-defined]
    timeout_s = check.timeout.total_seconds()
    deadline_s = start_deadline_s(check.interval.total_seconds(), timeout_s)
    delay_s = check.retry_backoff.total_seconds()
    wanted = time.perf_counter() if queued_at is None else queued_at
    tries, problems = 0, list[str]()
    while True:
        tries += 1
        async with slots:
            started = time.perf_counter()
            if started - wanted > deadline_s:
                return _late(started - wanted, deadline_s, tries - 1, problems)
            problems, summary = await _try(probe, check, ctx, now, timeout_s)
            latency_ms = round((time.perf_counter() - started) * 1000, 3)
        if not problems:
            return Outcome(True, summary, latency_ms, tries)
        if tries > check.retries:
            message = "; ".join(problems)[:MAX_MESSAGE]
            return Outcome(False, message, latency_ms, tries)
        await asyncio.sleep(delay_s)
        wanted = time.perf_counter()
        delay_s *= 2


def _late(waited_s: float, deadline_s: float, tries: int, problems: list[str]) -> Outcome:
    message = (
        f"late: waited {waited_s:.1f} s for a free slot (health.max_concurrency), more than "
        f"its {deadline_s:g} s start deadline; Vigil is overloaded, the target was not asked"
    )
    if problems:
        message += f" again (try {tries}: {'; '.join(problems)})"
    return Outcome(False, message[:MAX_MESSAGE], None, tries, is_late=True)


async def _try(
    probe: Probe, check: CheckBase, ctx: ProbeContext, now: datetime, timeout_s: float
) -> Observation:
    try:
        async with asyncio.timeout(timeout_s):  # no extra task per try, unlike wait_for
            return await probe(check, ctx, now)
    except TimeoutError:
        return [f"no answer within {timeout_s:g} s (timeout)"], ""
    except Exception as exc:  # any probe failure is the check's result, not a crash
        return [describe_error(exc)], ""


def describe_error(exc: BaseException) -> str:
    """Say what went wrong in one line: the error type and its first line of text.

    >>> describe_error(ConnectionRefusedError(111, "Connection refused"))
    'ConnectionRefusedError: [Errno 111] Connection refused'
    """
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
    return f"{type(exc).__name__}: {text}"[:MAX_MESSAGE]
