import time
from pathlib import Path

import psutil

from models.config.collectors import ProcessWatch
from tasks.collect.host import HostCollector
from tasks.collect.processes import ProcessCollector


def by_key(samples, process=None):
    return {
        (s.name, s.labels.get("process")): s.value
        for s in samples
        if process is None or s.labels.get("process") == process
    }


def names(samples):
    return {s.name for s in samples}


def test_host_metrics_cover_cpu_memory_disks_network_and_rates_appear_on_the_second_tick():
    collector = HostCollector({"target": "here"})
    first = collector.collect(time.time())
    time.sleep(0.3)
    second = collector.collect(time.time())
    always = {
        "host_load",
        "host_memory_total_bytes",
        "host_memory_available_bytes",
        "host_memory_used_percent",
        "host_swap_total_bytes",
        "host_swap_used_bytes",
        "host_disk_total_bytes",
        "host_disk_used_bytes",
        "host_disk_used_percent",
        "host_processes",
        "host_open_fds",
    }
    assert always <= names(first)
    assert "host_cpu_percent" not in names(first)
    rates = {
        "host_cpu_percent",
        "host_network_receive_bytes_per_second",
        "host_network_transmit_bytes_per_second",
    }
    assert rates <= names(second)
    cpu = {
        (s.labels["cpu"], s.labels["mode"]): s.value for s in second if s.name == "host_cpu_percent"
    }
    assert {("total", "user"), ("total", "system"), ("total", "iowait"), ("0", "idle")} <= set(cpu)
    assert len({c for c, _ in cpu}) == psutil.cpu_count() + 1
    assert all(0 <= v <= 100 for v in cpu.values())
    memory = {s.name: s.value for s in second if s.name.startswith("host_memory")}
    assert 0 < memory["host_memory_available_bytes"] <= memory["host_memory_total_bytes"]
    assert all(s.labels["target"] == "here" for s in second)
    lo = [s for s in second if s.labels.get("interface") == "lo"]
    assert lo and all(s.value >= 0 for s in lo)


def test_processes_are_seen_up_down_and_restarted_by_name_pattern_and_pid_file(
    children, tmp_path: Path
):
    pid_file = tmp_path / "svc.pid"
    watches = [
        ProcessWatch(name="by-name", process_name=children.exe.name),
        ProcessWatch(name="by-cmdline", cmdline=f"sleep\\(600\\).*{children.token}"),
        ProcessWatch(name="by-pidfile", pid_file=pid_file),
        ProcessWatch(name="never", process_name="no-such-process-xyz"),
    ]
    collector = ProcessCollector(watches, lambda w: {"process": w.name})
    named, patterned, filed = (
        children.sleeper(),
        children.python(children.token),
        children.python("pidfile"),
    )
    pid_file.write_text(f"{filed.pid}\n")
    first = collector.collect(time.time())
    for name in ("by-name", "by-cmdline", "by-pidfile"):
        seen = by_key(first, name)
        assert seen[("process_up", name)] == 1
        assert seen[("process_restarts_total", name)] == 0
        assert seen[("process_resident_memory_bytes", name)] > 0
        assert seen[("process_threads", name)] >= 1
        assert seen[("process_open_fds", name)] >= 1
        assert seen[("process_uptime_seconds", name)] >= 0
    assert by_key(first, "by-name")[("process_pid", "by-name")] == named.pid
    assert by_key(first, "by-cmdline")[("process_pid", "by-cmdline")] == patterned.pid
    assert by_key(first, "never") == {
        ("process_up", "never"): 0,
        ("process_restarts_total", "never"): 0,
    }

    time.sleep(0.2)
    second = collector.collect(time.time())
    assert 0 <= by_key(second, "by-name")[("process_cpu_percent", "by-name")] < 50

    children.kill(named)
    children.kill(filed)
    down = collector.collect(time.time())
    assert by_key(down, "by-name")[("process_up", "by-name")] == 0
    assert by_key(down, "by-pidfile")[("process_up", "by-pidfile")] == 0
    assert by_key(down, "by-cmdline")[("process_up", "by-cmdline")] == 1

    renamed = children.sleeper()
    refiled = children.python("pidfile-again")
    pid_file.write_text(str(refiled.pid))
    back = collector.collect(time.time())
    for name, proc in (("by-name", renamed), ("by-pidfile", refiled)):
        seen = by_key(back, name)
        assert seen[("process_up", name)] == 1
        assert seen[("process_restarts_total", name)] == 1
        assert seen[("process_pid", name)] == proc.pid
    assert by_key(back, "by-cmdline")[("process_restarts_total", "by-cmdline")] == 0
    restart_kind = {s.kind for s in back if s.name == "process_restarts_total"}
    assert restart_kind == {"counter"}
