"""Notices per second through the outbox to a healthy webhook, with 0, 1 and 2 dead channels.

    .venv/bin/python bench/notify.py [--notices 600] [--dead refused|hung] [--timeout 1]
                                     [--trials 3]

A real loopback HTTP receiver answers the healthy channel (json://, apprise's JSON plugin).
Each dead channel gets as many notices as the healthy one, interleaved in the outbox; it is a
closed port (``refused``) or a server that accepts and never answers (``hung``: each try
lasts ``--timeout``, in the channel's own flight, which the passes do not wait for; its breaker
opens after 3 tries). The outbox is drained with
``deliver_due`` passes (the clock advancing one second a pass, so retries come due) until the
healthy channel got every notice; the rate is its notices over the wall time. The last line
is JSON: each median rate's ratio to the all-healthy run's (target >= 0.9).
"""

import argparse
import json
import socket
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import func, select

from models.alerting import DeliveryStatus
from models.db import make_engine
from models.migrate import upgrade
from models.vocabulary.media import Medium
from tasks.core.resilience.breaker import BreakerParams
from tasks.notify.channels import ChannelSpec
from tasks.notify.outbox import OUTBOX, Message, Outbox, enqueue

T0 = 1_790_000_000.0


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


class _Hung(_Ok):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(3600)  # accepted and read, never answered


def _serve(handler: type) -> ThreadingHTTPServer:
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(notices: int, dead: int, kind: str, timeout_s: float, ok_port: int) -> float:
    """The healthy channel's notices per second with ``dead`` dead channels beside it."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        db = make_engine(url)
        hung = [_serve(_Hung) for _ in range(dead)] if kind == "hung" else []
        ports = [s.server_address[1] for s in hung] or [_closed_port() for _ in range(dead)]
        breaker = BreakerParams(failures=3, cooldown_s=3600)
        channels = {"ok": ChannelSpec(f"json://127.0.0.1:{ok_port}/x", Medium.TEXT, timeout_s)}
        for i, port in enumerate(ports):
            channels[f"dead{i}"] = ChannelSpec(
                f"json://127.0.0.1:{port}/x", Medium.TEXT, timeout_s, breaker
            )
        with db.begin() as conn:
            enqueue(
                conn,
                [Message(c, "firing", f"n{i}", "body") for i in range(notices) for c in channels],
                T0,
            )
        box = Outbox(db, channels, backoff_first_s=1, backoff_max_s=1)
        started, now = time.perf_counter(), T0
        while _sent(db, "ok") < notices:
            box.deliver_due(now, limit=50)
            now += 1
        elapsed = time.perf_counter() - started
        for server in hung:
            server.shutdown()
        db.dispose()
        return notices / elapsed


def _sent(db, channel: str) -> int:  # type: ignore[no-untyped-def]
    with db.connect() as conn:
        return conn.execute(
            select(func.count()).where(
                OUTBOX.c.channel == channel, OUTBOX.c.status == DeliveryStatus.SENT
            )
        ).scalar_one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=600)
    parser.add_argument("--dead", choices=("refused", "hung"), default="refused")
    parser.add_argument("--timeout", type=float, default=1.0, help="channel timeout, seconds")
    parser.add_argument("--trials", type=int, default=3, help="runs of each; the median counts")
    args = parser.parse_args()
    ok = _serve(_Ok)
    port = ok.server_address[1]
    _run(50, 0, args.dead, args.timeout, port)  # warm-up: apprise's plugins, SQLite, sockets
    trials: dict[int, list[float]] = {0: [], 1: [], 2: []}
    for _ in range(args.trials):  # interleaved, so drift on the machine hits all three alike
        for dead, rates_of in trials.items():
            rates_of.append(_run(args.notices, dead, args.dead, args.timeout, port))
    ok.shutdown()
    rates = [statistics.median(trials[dead]) for dead in (0, 1, 2)]
    for dead, rate in enumerate(rates):
        print(f"{dead} dead ({args.dead}): {rate:8.1f} notices/s to the healthy channel")
    print(
        json.dumps({"ratio_one_dead": rates[1] / rates[0], "ratio_two_dead": rates[2] / rates[0]})
    )


if __name__ == "__main__":
    main()
