"""Shared clients for one window of checks: HTTP clients per TLS setting, SQL engines, the store."""

import asyncio
import ssl
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from models.db import make_engine, normalize_url
from models.store import MetricStore
from tasks.checks.http_pool import ConnectionStacks

T = TypeVar("T")
BLOCKING_THREADS = 32  # probes that block (SQL, psutil, store reads) run in their own pool
SQL_CONNECT_TIMEOUT_S = 10

Observation = tuple[list[str], str]
"""What a probe returns: its problems (none: passing) and a one-line summary."""


@dataclass
class ProbeContext:
    """Connections the probes share, so 1,000 checks reuse pools instead of dialing anew.

    Blocking probes run in the context's own thread pool, so a database that hangs
    cannot starve the store writes that use asyncio's default pool. Close it with
    ``aclose()``; engines and clients are made on first use.
    """

    store: MetricStore | None = None
    max_connections: int = 200
    _threads: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(BLOCKING_THREADS, thread_name_prefix="probe")
    )
    _http: dict[tuple[bool, str | None], ConnectionStacks] = field(default_factory=dict)
    _engines: dict[str, Engine] = field(default_factory=dict)

    def http(self, *, verify: bool, ca_file: str | None) -> ConnectionStacks:
        """Return the shared keep-alive connections for these TLS settings.

        httpcore connections rather than an httpx client: the client layer (cookies, auth,
        request models) cost about a third of the CPU of a check in bench/checks.py, and
        httpcore's pool scans all its connections per request (see ``http_pool``).
        """
        key = (verify, ca_file)
        if key not in self._http:
            tls = httpx.create_ssl_context(verify=verify)  # certifi roots, as httpx uses
            if verify and ca_file:
                tls = ssl.create_default_context(cafile=ca_file)
            self._http[key] = ConnectionStacks(tls, max_idle=self.max_connections)
        return self._http[key]

    async def blocking(self, call: Callable[..., T], *args: Any) -> T:
        """Run a blocking ``call(*args)`` in the probe thread pool."""
        return await asyncio.get_running_loop().run_in_executor(self._threads, call, *args)

    def engine(self, url: str) -> Engine:
        """Return a pooled engine for a SQL check's database (PostgreSQL: bounded connect)."""
        if url not in self._engines:
            normalized = normalize_url(url)
            if make_url(normalized).get_backend_name() == "postgresql":
                self._engines[url] = create_engine(
                    normalized,
                    pool_pre_ping=True,
                    connect_args={"connect_timeout": SQL_CONNECT_TIMEOUT_S},
                )
            else:
                self._engines[url] = make_engine(url)
        return self._engines[url]

    async def aclose(self) -> None:
        """Close every client and engine."""
        for client in self._http.values():
            await client.aclose()
        for engine in self._engines.values():
            engine.dispose()
        self._http.clear()
        self._engines.clear()
        self._threads.shutdown(wait=False, cancel_futures=True)
