"""Keep-alive connections per origin (tasks/checks/http_pool.py) against real loopback servers."""

import asyncio
from datetime import UTC, datetime

from pydantic import TypeAdapter

from models.config.checks import CheckConfig
from tasks.checks.context import ProbeContext
from tasks.checks.runner import run_check
from tests.checks.loopback import Answer, serve

CHECK = TypeAdapter(CheckConfig)


def http_check(url: str):
    return CHECK.validate_python(
        {"name": "c", "target": "t", "type": "http", "url": url, "timeout": "2s"}
    )


def run_in_turn(checks, max_connections: int = 10):
    """Run ``checks`` one after the other through one context; return their outcomes."""

    async def main():
        ctx = ProbeContext(max_connections=max_connections)
        slots = asyncio.Semaphore(1)
        try:
            return [await run_check(c, ctx, datetime.now(UTC), slots) for c in checks]
        finally:
            await ctx.aclose()

    return asyncio.run(main())


def test_checks_in_turn_share_one_kept_alive_connection(http_server):
    http_server.answers["/health"] = Answer()
    outcomes = run_in_turn([http_check(f"{http_server.base_url}/health")] * 20)
    assert all(o.is_passing for o in outcomes), [o.message for o in outcomes]
    assert len(http_server.hits) == 1 and http_server.hits["/health"] == 20
    assert len(set(http_server.client_ports)) == 1


def test_a_connection_the_server_closes_is_not_reused(http_server):
    http_server.answers["/bye"] = Answer(headers={"Connection": "close"})
    outcomes = run_in_turn([http_check(f"{http_server.base_url}/bye")] * 5)
    assert all(o.is_passing for o in outcomes), [o.message for o in outcomes]
    assert len(set(http_server.client_ports)) == 5


def test_idle_connections_beyond_the_limit_are_closed_oldest_first(http_server):
    other = serve()
    second = next(other)
    try:
        for server in (http_server, second):
            server.answers["/health"] = Answer()
        first_check = http_check(f"{http_server.base_url}/health")
        second_check = http_check(f"{second.base_url}/health")
        outcomes = run_in_turn([first_check, second_check] * 3, max_connections=1)
        assert all(o.is_passing for o in outcomes), [o.message for o in outcomes]
        # one idle connection in all: each origin's was closed when the other's came back
        assert len(set(http_server.client_ports)) == 3
        assert len(set(second.client_ports)) == 3
        both = run_in_turn([first_check, first_check, second_check], max_connections=2)
        assert all(o.is_passing for o in both)
        assert len(set(http_server.client_ports)) == 4  # one more, reused by the second check
    finally:
        next(other, None)


def test_a_timed_out_exchange_closes_its_connection_and_the_next_check_passes(http_server):
    http_server.answers["/slow"] = Answer(delay_s=1.5)
    http_server.answers["/health"] = Answer()
    slow = CHECK.validate_python(
        {
            "name": "s",
            "target": "t",
            "type": "http",
            "url": f"{http_server.base_url}/slow",
            "timeout": "300ms",
        }
    )
    outcomes = run_in_turn([slow, http_check(f"{http_server.base_url}/health")])
    assert not outcomes[0].is_passing and "no answer within 0.3 s" in outcomes[0].message
    assert outcomes[1].is_passing, outcomes[1].message
    assert len(set(http_server.client_ports)) == 2
