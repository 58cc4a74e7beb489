"""Layout load benchmark: what sharing one process (one GIL) costs under push load.

    nice .venv/bin/python bench/layout_load.py [--idle 30] [--load 60] [--clients 4]
                                               [--series 1000] [--settle 15] [--timeout 400]

Starts `vigil up --isolated` (the baseline: Prefect server, `vigil serve` and the push/API
server each in a process), then the default compact `vigil up` (the three in one process),
on the starter config in a scratch directory on free ports (bench/footprint.py's helpers).
For each: an idle phase samples, every 100 ms, the latency of the Prefect API
(``POST /api/flow_runs/filter``) and of Vigil's ``GET /healthz`` on the push port; a load
phase samples the same while ``clients`` threads, each on a kept-alive connection, push
batches of 100 samples (Prometheus text, ms timestamps) over ``series`` distinct series.
Prints accepted samples/s, push p50/p95, both latencies idle vs loaded, and the ratios
compact/isolated; the last line is JSON.
"""

import argparse
import itertools
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.footprint import vigil_up

BATCH = 100  # samples per push
PERIOD = 0.1  # seconds between latency probes


def p50_p95(values: list[float]) -> tuple[float, float]:
    """The median and 95th percentile, in ms, of latencies in seconds (nan when none)."""
    if len(values) < 2:
        return (values[0] * 1000,) * 2 if values else (float("nan"),) * 2
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    return cuts[9] * 1000, cuts[18] * 1000


class Sender(threading.Thread):
    """Calls ``send`` until stopped, at most once per ``period`` s; keeps the latencies, the
    failures and the samples the push endpoint accepted."""

    def __init__(
        self, send: Callable[[], httpx.Response], stop: threading.Event, period: float = 0.0
    ) -> None:
        super().__init__(daemon=True)
        self.send, self.stop, self.period = send, stop, period
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.accepted = 0

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                response = self.send()
            except httpx.HTTPError as exc:
                self.failures.append(repr(exc))
                self.stop.wait(1)
                continue
            elapsed = time.perf_counter() - started
            self.latencies.append(elapsed)
            if response.status_code != 200:
                self.failures.append(f"{response.status_code} {response.text[:200]}")
            elif response.url.path.endswith("/push"):
                self.accepted += response.json()["accepted"]
            self.stop.wait(max(0.0, self.period - elapsed))


def pusher(http: httpx.Client, url: str, client: int, series: int) -> Callable[[], httpx.Response]:
    """A sender of batches of BATCH samples, in turn over its ``series`` series, each newer."""
    batches, last_ms = itertools.count(), 0

    def send() -> httpx.Response:
        nonlocal last_ms
        last_ms = max(int(time.time() * 1000), last_ms + 1)  # no series twice at one instant
        first = next(batches) * BATCH
        body = "".join(
            f'bench_load{{client="{client}",i="{n % series}"}} {n % 97} {last_ms}\n'
            for n in range(first, first + BATCH)
        )
        return http.post(url, content=body)

    return send


def phase(site: dict, seconds: float, clients: int, series: int) -> dict[str, Any]:
    """Probe both latencies for ``seconds`` while ``clients`` push; return the figures."""
    stop = threading.Event()
    push_headers = {"Authorization": f"Bearer {site['token']}", "Content-Type": "text/plain"}
    prefect, vigil = httpx.Client(auth=site["auth"], timeout=30), httpx.Client(timeout=30)
    https = [httpx.Client(headers=push_headers, timeout=60) for _ in range(clients)]
    senders = {
        "prefect": [Sender(lambda: prefect.post(site["filter"], json={"limit": 10}), stop, PERIOD)],
        "healthz": [Sender(lambda: vigil.get(site["healthz"]), stop, PERIOD)],
        "push": [
            Sender(pusher(http, site["push"], c, series // clients), stop)
            for c, http in enumerate(https)
        ],
    }
    threads = [sender for group in senders.values() for sender in group]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=90)
    elapsed = time.monotonic() - started
    for http in [prefect, vigil, *https]:
        http.close()
    result: dict[str, Any] = {"failures": []}
    for name, group in senders.items():
        latencies = [latency for sender in group for latency in sender.latencies]
        result[f"{name}_p50"], result[f"{name}_p95"] = p50_p95(latencies)
        result["failures"] += [f"{name}: {f}" for sender in group for f in sender.failures]
    result["batches"] = sum(len(sender.latencies) for sender in senders["push"])
    result["push_per_s"] = sum(sender.accepted for sender in senders["push"]) / elapsed
    return result


def run_layout(is_isolated: bool, args: argparse.Namespace) -> tuple[dict, dict]:
    """Start `vigil up` in a scratch directory; return the idle and the loaded figures."""
    with vigil_up(is_isolated, args.timeout) as (directory, env, _):
        push = yaml.safe_load((directory / "vigil.yaml").read_text())["collectors"]["push"]
        user, password = (directory / ".vigil/prefect-auth").read_text().strip().split(":", 1)
        prefect = f"http://127.0.0.1:{env['VIGIL_PREFECT_PORT']}/api"
        site = {
            "auth": (user, password),
            "filter": f"{prefect}/flow_runs/filter",
            "healthz": f"http://127.0.0.1:{push['port']}/healthz",
            "push": f"http://127.0.0.1:{push['port']}/api/v1/push",
            "token": push["tokens"][0]["token"],
        }
        print(f"healthy; settling {args.settle:g} s, idle {args.idle:g} s", flush=True)
        time.sleep(args.settle)
        idle = phase(site, args.idle, 0, args.series)
        print(f"load {args.load:g} s: {args.clients} clients", flush=True)
        loaded = phase(site, args.load, args.clients, args.series)
        if loaded["failures"] or not loaded["push_per_s"]:
            show_logs(directory)
        return idle, loaded


def show_logs(directory: Path) -> None:
    """Print the last lines of every log of the scratch site (pushes failed)."""
    for log in sorted((directory / ".vigil" / "logs").glob("*.log")):
        print(f"--- {log.name} (last 15 lines)")
        print("\n".join(log.read_text(errors="replace").splitlines()[-15:]))


def report(layout: str, idle: dict, loaded: dict) -> None:
    print(f"{layout}:")
    print(
        f"  push: {loaded['push_per_s']:8.0f} samples/s accepted ({loaded['batches']} batches),"
        f" p50 {loaded['push_p50']:.1f} ms, p95 {loaded['push_p95']:.1f} ms"
    )
    for name in ("prefect", "healthz"):
        i50, i95 = idle[f"{name}_p50"], idle[f"{name}_p95"]
        l50, l95 = loaded[f"{name}_p50"], loaded[f"{name}_p95"]
        print(
            f"  {name:<8} p50/p95: idle {i50:6.1f}/{i95:6.1f} ms, loaded {l50:6.1f}/{l95:6.1f} ms"
            f" (p95 x{l95 / i95:.1f})"
        )
    for failure in sorted({*idle["failures"], *loaded["failures"]}):
        print(f"  failed: {failure}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of the idle phase")
    parser.add_argument("--load", type=float, default=60.0, help="seconds of the load phase")
    parser.add_argument("--clients", type=int, default=4, help="concurrent pushing threads")
    parser.add_argument("--series", type=int, default=1000, help="distinct series pushed")
    parser.add_argument("--settle", type=float, default=15.0, help="seconds after healthy")
    parser.add_argument("--timeout", type=float, default=400.0, help="seconds to become healthy")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}", flush=True)
    result: dict[str, float] = {}
    for layout, is_isolated in (("isolated", True), ("compact", False)):
        idle, loaded = run_layout(is_isolated, args)
        report(layout, idle, loaded)
        result[f"{layout}_push_per_s"] = loaded["push_per_s"]
        result[f"{layout}_push_p95_ms"] = loaded["push_p95"]
        result[f"{layout}_prefect_p95_ms_idle"] = idle["prefect_p95"]
        for name in ("prefect", "healthz"):
            result[f"{layout}_{name}_p95_ms_loaded"] = loaded[f"{name}_p95"]
    ratios = {
        f"{name}_ratio": result[f"compact_{key}"] / result[f"isolated_{key}"]
        for name, key in (
            ("push_rate", "push_per_s"),
            ("push_p95", "push_p95_ms"),
            ("prefect_p95_loaded", "prefect_p95_ms_loaded"),
            ("healthz_p95_loaded", "healthz_p95_ms_loaded"),
        )
    }
    print("compact/isolated: " + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items()))
    print(json.dumps({key: round(value, 3) for key, value in {**result, **ratios}.items()}))


if __name__ == "__main__":
    main()
