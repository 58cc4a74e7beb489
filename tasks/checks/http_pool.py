"""Keep-alive HTTP connections per origin, taken and given back in constant time.

httpcore's ``AsyncConnectionPool`` scans every connection it holds on each request and
each response close (``has_expired`` even asks each socket whether it is readable), so
with 200 checks in flight a check cost ~6x the CPU it costs at 8 (bench/checks.py).
Here a check takes the newest idle connection to its origin from a stack and puts it
back when done; how many are in use at once is bounded by the runner's slots.
"""

import ssl
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpcore

Key = tuple[bytes, bytes, int]  # scheme, host, port (httpcore's Origin is not hashable)
SCHEMES = (b"http", b"https")
DEFAULT_PORTS = {b"http": 80, b"https": 443}


class ConnectionStacks:
    """Idle HTTP/1.1 connections by origin, newest on top; beyond ``max_idle`` the oldest close."""

    def __init__(self, ssl_context: ssl.SSLContext, *, max_idle: int) -> None:
        self.ssl_context = ssl_context
        self.max_idle = max_idle
        self._backend = httpcore.AnyIOBackend()
        self._idle: dict[Key, list[httpcore.AsyncHTTPConnection]] = {}
        self._age: dict[httpcore.AsyncHTTPConnection, Key] = {}  # every idle one, oldest first

    @asynccontextmanager
    async def stream(
        self, method: str, url: str, *, headers: list[tuple[str, str]], content: bytes | None
    ) -> AsyncIterator[httpcore.Response]:
        """Send one request and yield its response, as ``httpcore.AsyncConnectionPool.stream``."""
        request = httpcore.Request(method, url, headers=headers, content=content)
        request.headers = _with_host_and_length(request, content)
        response = await self.handle_async_request(request)
        try:
            yield response
        finally:
            await response.aclose()

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        """Send ``request`` on an idle or new connection; closing the response gives it back.

        Raises:
            httpcore.UnsupportedProtocol: the URL is not http(s) (a redirect can lead there).
        """
        origin = request.url.origin
        if origin.scheme not in SCHEMES:
            raise httpcore.UnsupportedProtocol(f"cannot request {origin}: not http or https")
        key = (origin.scheme, origin.host, origin.port)
        connection = await self._take(key, origin)
        try:
            response = await connection.handle_async_request(request)
        except BaseException:  # a timeout, a refused or broken exchange: never reuse it
            await connection.aclose()
            raise
        stream = response.stream
        assert isinstance(stream, AsyncIterable)  # an async connection's body
        body = _Body(stream, lambda: self._give_back(key, connection))
        return httpcore.Response(
            response.status, headers=response.headers, content=body, extensions=response.extensions
        )

    async def aclose(self) -> None:
        """Close every idle connection."""
        for connection in list(self._age):
            await connection.aclose()
        self._idle.clear()
        self._age.clear()

    async def _take(self, key: Key, origin: httpcore.Origin) -> httpcore.AsyncHTTPConnection:
        stack = self._idle.get(key, [])
        while stack:
            connection = stack.pop()
            del self._age[connection]
            if not connection.has_expired():  # the server may have closed it meanwhile
                return connection
            await connection.aclose()
        return httpcore.AsyncHTTPConnection(
            origin, ssl_context=self.ssl_context, network_backend=self._backend
        )

    async def _give_back(self, key: Key, connection: httpcore.AsyncHTTPConnection) -> None:
        if not connection.is_idle():  # the server said Connection: close
            await connection.aclose()
            return
        self._idle.setdefault(key, []).append(connection)
        self._age[connection] = key
        while len(self._age) > self.max_idle:
            oldest, oldest_key = next(iter(self._age.items()))
            del self._age[oldest]
            self._idle[oldest_key].pop(0)  # an origin's oldest is the bottom of its stack
            await oldest.aclose()


def _with_host_and_length(
    request: httpcore.Request, content: bytes | None
) -> list[tuple[bytes, bytes]]:
    """Add the Host and Content-Length headers HTTP/1.1 needs, unless the check set them."""
    headers = request.headers
    names = {name.lower() for name, _ in headers}
    url = request.url
    if b"host" not in names:
        port = url.port
        is_default = port is None or port == DEFAULT_PORTS.get(url.scheme)
        host = url.host if port is None or is_default else b"%b:%d" % (url.host, port)
        headers = [(b"Host", host), *headers]
    if content is not None and b"content-length" not in names:
        headers = [*headers, (b"Content-Length", str(len(content)).encode())]
    return headers


class _Body:
    """A response body that hands its connection back once closed (read to the end or not)."""

    def __init__(self, stream: AsyncIterable[bytes], on_close: Callable[[], Awaitable[None]]):
        self.stream = stream
        self.on_close = on_close

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for part in self.stream:
            yield part

    async def aclose(self) -> None:
        await self.stream.aclose()  # type: ignore[attr-defined]  # httpcore's streams have it
        await self.on_close()
