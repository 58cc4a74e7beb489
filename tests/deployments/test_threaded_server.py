"""Apps served in threads of `vigil serve` (compact layout): started, scoped, stopped, watched."""

import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from deployments.threaded_server import EXIT_APP_STOPPED, served_in_thread
from models.errors import VigilError
from tasks.store.batch_hooks import BatchWritten, publish, subscribed
from tests.ports import free_port


def run_python(script: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", script]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def _publishing_app() -> Starlette:
    """/healthz; /sync and /async publish a batch, as the push endpoint does after a write."""

    def sync_write(_request):  # runs in a worker thread, as FastAPI's sync endpoints do
        publish(BatchWritten(source="push", now=datetime.now(UTC)))
        return PlainTextResponse("stored")

    async def async_write(_request):
        publish(BatchWritten(source="push", now=datetime.now(UTC)))
        return PlainTextResponse("stored")

    async def health(_request):
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/healthz", health),
            Route("/sync", sync_write, methods=["POST"]),
            Route("/async", async_write, methods=["POST"]),
        ]
    )


def test_the_api_thread_s_engine_hears_its_requests_batches_and_no_other_thread_s():
    heard: list[str] = []
    port = free_port()

    @contextmanager
    def open_server() -> Iterator[uvicorn.Server]:
        with subscribed(lambda batch: heard.append(batch.source)):
            config = uvicorn.Config(_publishing_app(), host="127.0.0.1", port=port)
            yield uvicorn.Server(config)

    base = f"http://127.0.0.1:{port}"
    with served_in_thread("the test app", open_server, f"{base}/healthz"):
        assert httpx.post(f"{base}/sync").text == "stored"
        assert httpx.post(f"{base}/async").text == "stored"
        # A flow run in another thread of the same process publishes its own batch.
        other = threading.Thread(
            target=publish, args=(BatchWritten(source="collect", now=datetime.now(UTC)),)
        )
        other.start()
        other.join()
        publish(BatchWritten(source="checks", now=datetime.now(UTC)))  # this thread's
    assert heard == ["push", "push"]
    with pytest.raises(httpx.ConnectError):  # leaving the block stopped the server
        httpx.get(f"{base}/healthz", timeout=2)


def test_an_app_that_cannot_start_is_reported_without_waiting_it_out():
    port = free_port()
    script = f"""
import uvicorn
from contextlib import nullcontext
from starlette.applications import Starlette
from deployments.threaded_server import served_in_thread

def broken():
    raise RuntimeError("no database")

with served_in_thread("the broken app", lambda: nullcontext(broken()), "http://127.0.0.1:{port}/"):
    print("entered")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == EXIT_APP_STOPPED, done.stderr
    assert "entered" not in done.stdout
    assert "RuntimeError: no database" in done.stderr
    assert "the broken app stopped on its own: exiting, to be restarted" in done.stdout


def test_an_app_that_stops_by_itself_ends_the_process_so_it_is_restarted():
    """If the Prefect server's thread ends, the runner must not go on alone: exit, be restarted."""
    port = free_port()
    script = f"""
import threading, time, uvicorn
from contextlib import nullcontext
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from deployments.threaded_server import served_in_thread

async def health(_request):
    return PlainTextResponse("ok")

app = Starlette(routes=[Route("/", health)])
server = uvicorn.Server(uvicorn.Config(app, port={port}, log_level="warning"))
with served_in_thread("the app", lambda: nullcontext(server), "http://127.0.0.1:{port}/"):
    print("serving", flush=True)
    server.should_exit = True  # the app ends by itself while the runner goes on
    time.sleep(30)
print("the runner went on alone")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == EXIT_APP_STOPPED, done.stderr
    assert done.stdout.splitlines() == [
        "serving",
        "the app stopped on its own: exiting, to be restarted",
    ]


def test_an_app_that_never_answers_is_given_up_with_its_address_and_stopped():
    port = free_port()

    @contextmanager
    def app() -> Iterator[uvicorn.Server]:
        yield uvicorn.Server(uvicorn.Config(_publishing_app(), host="127.0.0.1", port=port))

    dead = f"http://127.0.0.1:{free_port()}/healthz"  # its health is asked where none answers
    refused = pytest.raises(VigilError, match=rf"the app did not answer {dead} within 2s")
    with refused, served_in_thread("the app", app, dead, ready_timeout_seconds=2):
        pass
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
