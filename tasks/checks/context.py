"""Shared clients for one window of checks: HTTP clients per TLS setting, SQL engines, the store."""

import ssl
from dataclasses import dataclass, field

import httpx
from sqlalchemy import Engine

from models.db import make_engine
from models.store import MetricStore

Observation = tuple[list[str], str]
"""What a probe returns: its problems (none: passing) and a one-line summary."""


@dataclass
class ProbeContext:
    """Connections the probes share, so 1,000 checks reuse pools instead of dialing anew.

    Close it with ``aclose()``; engines and clients are made on first use.
    """

    store: MetricStore | None = None
    max_connections: int = 200
    _http: dict[tuple[bool, str | None], httpx.AsyncClient] = field(default_factory=dict)
    _engines: dict[str, Engine] = field(default_factory=dict)

    def http(self, *, verify: bool, ca_file: str | None) -> httpx.AsyncClient:
        """Return the shared client for these TLS settings."""
        key = (verify, ca_file)
        if key not in self._http:
            tls: ssl.SSLContext | bool = verify
            if verify and ca_file:
                tls = ssl.create_default_context(cafile=ca_file)
            limits = httpx.Limits(
                max_connections=self.max_connections,
                max_keepalive_connections=self.max_connections,
            )
            self._http[key] = httpx.AsyncClient(verify=tls, limits=limits, timeout=None)
        return self._http[key]

    def engine(self, url: str) -> Engine:
        """Return a pooled engine for a SQL check's database."""
        if url not in self._engines:
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
