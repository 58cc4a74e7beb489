"""Host probes: processes (psutil) and commands (argument list, never a shell)."""

import asyncio
import os
import re
from datetime import datetime

import psutil

from models.config.checks import CommandCheck, ProcessCheck
from tasks.checks.context import Observation, ProbeContext
from tasks.core.checks.assertions import judge_command, judge_processes

CPU_SAMPLE_S = 0.1  # psutil needs two readings to give a CPU percentage


async def probe_process(check: ProcessCheck, ctx: ProbeContext, now: datetime) -> Observation:
    """Find the matching processes and judge their count, summed CPU and memory."""
    matches = await ctx.blocking(_matching, check.process, check.cmdline)
    cpu = 0.0
    if check.max_cpu_percent is not None and matches:
        for proc in matches:
            _safely(proc.cpu_percent)  # first call primes the counter
        await asyncio.sleep(CPU_SAMPLE_S)
        cpu = sum(_safely(proc.cpu_percent) or 0.0 for proc in matches)
    rss = sum(getattr(_safely(proc.memory_info), "rss", 0) for proc in matches)
    problems = judge_processes(
        len(matches),
        cpu,
        rss,
        min_count=check.min_count,
        max_count=check.max_count,
        max_cpu_percent=check.max_cpu_percent,
        max_rss_bytes=check.max_rss_bytes,
    )
    return problems, f"{len(matches)} processes, CPU {cpu:.1f}%, RSS {rss} bytes"


def _matching(name: str | None, cmdline: str | None) -> list[psutil.Process]:
    pattern = re.compile(cmdline) if cmdline else None
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        info = proc.info
        if name and info.get("name") != name:
            continue
        if pattern and not pattern.search(" ".join(info.get("cmdline") or ())):
            continue
        found.append(proc)
    return found


def _safely(read):  # type: ignore[no-untyped-def]
    """Call a psutil reader; a process that just exited reads as None."""
    try:
        return read()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


async def probe_command(check: CommandCheck, ctx: ProbeContext, now: datetime) -> Observation:
    """Run ``argv`` without a shell and judge its exit code and output.

    A command still running at the check's timeout is killed (not left behind).
    """
    process = await asyncio.create_subprocess_exec(
        *check.argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL,
        env={**os.environ, **check.env},
        cwd=check.cwd,
    )
    try:
        output, _ = await process.communicate()
    except asyncio.CancelledError:  # the runner's timeout
        process.kill()
        await process.wait()
        raise
    text = output.decode("utf-8", errors="replace")
    code = process.returncode if process.returncode is not None else -1
    problems = judge_command(
        code,
        text,
        expect_exit=check.expect_exit,
        output_contains=check.output_contains,
        output_matches=check.output_matches,
    )
    return problems, f"exit {code}: {text.strip()[-120:]}"
