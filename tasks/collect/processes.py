"""Watched processes: up/down, CPU %, RSS, threads, fds, uptime and restart count.

A watch finds its process by executable name, command-line pattern or pid file. While
the pid found last time is still the same process, no scan of the process table is
needed; a full scan happens only for watches whose process is gone, once per tick.
When several processes match, the oldest one (the parent of a worker pool) is watched.
"""

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import psutil

from models.config.collectors import ProcessWatch
from models.metrics import MetricKind
from models.store import NewSample
from tasks.core.collect.process_tracking import WatchState, observe

_SCAN_ATTRS = ["pid", "name", "cmdline", "create_time"]


@dataclass
class _Seen:
    """A process found on an earlier tick, with its last CPU reading."""

    process: psutil.Process
    created: float
    cpu_seconds: float
    at: float


@dataclass
class ProcessCollector:
    """Samples every watch each tick; keeps pids and restart counts between ticks."""

    watches: Sequence[ProcessWatch]
    labels_of: Callable[[ProcessWatch], Mapping[str, str]]
    states: dict[str, WatchState] = field(default_factory=dict)
    _seen: dict[str, _Seen] = field(default_factory=dict)

    def collect(self, now_s: float) -> list[NewSample]:
        """Return this tick's samples for every watch, stamped ``now_s``."""
        found = self._find_all(now_s)
        out: list[NewSample] = []
        for watch in self.watches:
            seen = found.get(watch.name)
            pid = None if seen is None else seen.process.pid
            state = observe(self.states.get(watch.name, WatchState()), pid)
            self.states[watch.name] = state
            labels = dict(self.labels_of(watch))
            out.append(NewSample("process_up", labels, now_s, float(seen is not None)))
            out.append(
                NewSample(
                    "process_restarts_total", labels, now_s, state.restarts, MetricKind.COUNTER
                )
            )
            if seen is not None:
                out.extend(self._measure(seen, labels, now_s))
        return out

    def _find_all(self, now_s: float) -> dict[str, _Seen]:
        found, missing = {}, []
        for watch in self.watches:
            seen = self._seen.get(watch.name)
            if watch.pid_file is not None:
                seen = self._from_pid_file(watch, seen, now_s)
            elif seen is not None and not _still_running(seen):
                seen = None
            if seen is None and watch.pid_file is None:
                missing.append(watch)
            elif seen is not None:
                found[watch.name] = seen
        if missing:
            for name, proc in _scan(missing).items():
                found[name] = _remember(proc, now_s)
        self._seen = found
        return found

    def _from_pid_file(self, watch: ProcessWatch, seen: _Seen | None, now_s: float) -> _Seen | None:
        pid = read_pid_file(watch.pid_file)  # type: ignore[arg-type]
        if pid is None:
            return None
        if seen is not None and seen.process.pid == pid and _still_running(seen):
            return seen
        try:
            proc = psutil.Process(pid)
            return _remember(proc, now_s) if _is_alive(proc) else None
        except psutil.Error:
            return None

    def _measure(self, seen: _Seen, labels: dict[str, str], now_s: float) -> list[NewSample]:
        proc = seen.process
        try:
            with proc.oneshot():
                times = proc.cpu_times()
                values = {
                    "process_resident_memory_bytes": proc.memory_info().rss,
                    "process_threads": proc.num_threads(),
                    "process_open_fds": proc.num_fds(),
                    "process_uptime_seconds": now_s - seen.created,
                    "process_pid": proc.pid,
                }
        except psutil.AccessDenied:
            values = {"process_uptime_seconds": now_s - seen.created, "process_pid": proc.pid}
            times = None
        except psutil.Error:  # exited between finding and measuring: up was already recorded
            return []
        if times is not None:
            cpu = times.user + times.system
            if now_s > seen.at:
                values["process_cpu_percent"] = 100 * (cpu - seen.cpu_seconds) / (now_s - seen.at)
            seen.cpu_seconds, seen.at = cpu, now_s
        return [NewSample(name, labels, now_s, float(v)) for name, v in values.items()]


def read_pid_file(path: os.PathLike[str] | str) -> int | None:
    """Return the pid written in ``path``, or None when the file is missing or not a pid."""
    try:
        with open(path, encoding="ascii") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def _scan(watches: Sequence[ProcessWatch]) -> dict[str, psutil.Process]:
    """Walk the process table once; return the oldest match of each watch."""
    patterns = {w.name: re.compile(w.cmdline) for w in watches if w.cmdline}
    best: dict[str, tuple[float, psutil.Process]] = {}
    me = os.getpid()
    for proc in psutil.process_iter(_SCAN_ATTRS):
        info = proc.info
        if info["pid"] == me:
            continue
        command = " ".join(info["cmdline"] or ())
        for watch in watches:
            if watch.process_name is not None:
                hit = info["name"] == watch.process_name
            else:
                hit = patterns[watch.name].search(command) is not None
            older = watch.name not in best or info["create_time"] < best[watch.name][0]
            if hit and older and _is_alive(proc):
                best[watch.name] = (info["create_time"], proc)
    return {name: proc for name, (_, proc) in best.items()}


def _remember(proc: psutil.Process, now_s: float) -> _Seen:
    created = proc.create_time()
    try:
        times = proc.cpu_times()
        cpu = times.user + times.system
    except psutil.Error:
        cpu = 0.0
    return _Seen(proc, created, cpu, now_s)


def _still_running(seen: _Seen) -> bool:
    try:
        return seen.process.create_time() == seen.created and _is_alive(seen.process)
    except psutil.Error:
        return False


def _is_alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
