"""Host metrics from psutil: CPU, load, memory, swap, disks, network, fds, processes.

Counters the kernel keeps (CPU time, disk and network bytes) are turned into
percentages and per-second rates between two ticks, so the first tick has none.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import psutil

from models.store import NewSample
from tasks.core.collect.rates import cpu_mode_percent, delta_rate

CPU_MODES = ("user", "system", "iowait", "idle")
_SKIP_FS = {"squashfs", "tmpfs", "devtmpfs", "overlay", "proc", "sysfs", "nsfs"}


@dataclass
class Batch:
    """The samples of one tick, all stamped ``ts`` and carrying ``labels``."""

    labels: Mapping[str, str]
    ts: float
    samples: list[NewSample] = field(default_factory=list)

    def add(self, name: str, value: float, unit: str = "", **labels: str) -> None:
        """Add a gauge sample ``name{labels}`` = ``value``."""
        self.samples.append(
            NewSample(name, {**self.labels, **labels}, self.ts, float(value), unit=unit)
        )


@dataclass
class HostCollector:
    """Samples this host each tick; keeps the previous counter readings for rates."""

    labels: Mapping[str, str]
    _cpu: list[dict[str, float]] = field(default_factory=list)
    _io: dict[str, dict[str, float]] = field(default_factory=dict)
    _at: float | None = None

    def collect(self, now_s: float) -> list[NewSample]:
        """Return this tick's samples stamped ``now_s`` (seconds since the epoch)."""
        batch = Batch(self.labels, now_s)
        elapsed = None if self._at is None else now_s - self._at
        self._cpu_usage(batch)
        _memory_and_load(batch)
        _disks(batch)
        self._io_rates(batch, elapsed)
        batch.add("host_processes", len(psutil.pids()))
        fds = open_file_descriptors()
        if fds is not None:
            batch.add("host_open_fds", fds)
        self._at = now_s
        return batch.samples

    def _cpu_usage(self, batch: Batch) -> None:
        readings = [_cpu_dict(psutil.cpu_times())]
        readings += [_cpu_dict(t) for t in psutil.cpu_times(percpu=True)]
        for index, (before, after) in enumerate(zip(self._cpu, readings, strict=False)):
            cpu = "total" if index == 0 else str(index - 1)
            shares = cpu_mode_percent(before, after)
            for mode in CPU_MODES:
                if mode in shares:
                    batch.add("host_cpu_percent", shares[mode], "percent", cpu=cpu, mode=mode)
        self._cpu = readings

    def _io_rates(self, batch: Batch, elapsed: float | None) -> None:
        readings = {}
        for disk, c in (psutil.disk_io_counters(perdisk=True) or {}).items():
            readings[f"disk:{disk}"] = {"read": c.read_bytes, "write": c.write_bytes}
        for nic, c in psutil.net_io_counters(pernic=True).items():
            readings[f"net:{nic}"] = {"receive": c.bytes_recv, "transmit": c.bytes_sent}
        for key, now_counts in readings.items():
            before = self._io.get(key)
            if before is None or elapsed is None:
                continue
            kind, device = key.split(":", 1)
            for direction, count in now_counts.items():
                rate = delta_rate(before[direction], count, elapsed)
                if rate is None:
                    continue
                if kind == "disk":
                    name, label = f"host_disk_{direction}_bytes_per_second", {"device": device}
                else:
                    name, label = (
                        f"host_network_{direction}_bytes_per_second",
                        {"interface": device},
                    )
                batch.add(name, rate, "bytes/s", **label)
        self._io = readings


def _memory_and_load(batch: Batch) -> None:
    for period, load in zip(("1m", "5m", "15m"), os.getloadavg(), strict=True):
        batch.add("host_load", load, period=period)
    memory, swap = psutil.virtual_memory(), psutil.swap_memory()
    batch.add("host_memory_total_bytes", memory.total, "bytes")
    batch.add("host_memory_available_bytes", memory.available, "bytes")
    batch.add("host_memory_used_percent", memory.percent, "percent")
    batch.add("host_swap_total_bytes", swap.total, "bytes")
    batch.add("host_swap_used_bytes", swap.used, "bytes")


def _disks(batch: Batch) -> None:
    for part in psutil.disk_partitions(all=False):
        if part.fstype in _SKIP_FS:
            continue
        try:
            usage = psutil.disk_usage(part.mountpoint)
        except OSError:  # a mount that vanished or denies access is not this tick's failure
            continue
        batch.add("host_disk_total_bytes", usage.total, "bytes", mount=part.mountpoint)
        batch.add("host_disk_used_bytes", usage.used, "bytes", mount=part.mountpoint)
        batch.add("host_disk_used_percent", usage.percent, "percent", mount=part.mountpoint)


def _cpu_dict(times: object) -> dict[str, float]:
    return times._asdict()  # type: ignore[attr-defined]


def open_file_descriptors() -> int | None:
    """Return the file handles open on the whole system (Linux), or None elsewhere."""
    try:
        with open("/proc/sys/fs/file-nr", encoding="ascii") as handle:
            return int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
