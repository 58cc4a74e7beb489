"""Every check type against real things on loopback: HTTP(S), TCP, processes, commands, SQL."""

import asyncio
import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import TypeAdapter

from models.config.checks import CheckConfig
from models.db import make_engine
from models.store import NewSample
from tasks.checks.context import ProbeContext
from tasks.checks.runner import run_check
from tests.checks.loopback import Answer

CHECK = TypeAdapter(CheckConfig)


def check(**fields):
    return CHECK.validate_python({"name": "c", "target": "t", "timeout": "2s", **fields})


def probe(config, ctx=None):
    """Run one check through the real runner (timeout, retries) and return its outcome."""

    async def main():
        context = ctx or ProbeContext()
        try:
            return await run_check(config, context, datetime.now(UTC), asyncio.Semaphore(10))
        finally:
            if ctx is None:
                await context.aclose()

    return asyncio.run(main())


def test_http_passes_on_the_expected_status_body_and_json(http_server):
    http_server.answers["/health"] = Answer(
        body=json.dumps({"status": "ok", "db": {"up": True}}), content_type="application/json"
    )
    outcome = probe(
        check(
            type="http",
            url=f"{http_server.base_url}/health",
            body_contains='"ok"',
            json_fields={"status": "ok", "db.up": True},
        )
    )
    assert outcome.is_passing, outcome.message
    assert outcome.message.startswith("HTTP 200 in ")
    assert outcome.latency_ms is not None and outcome.tries == 1


def test_http_fails_with_every_broken_assertion_named(http_server):
    http_server.answers["/health"] = Answer(503, json.dumps({"status": "degraded"}))
    outcome = probe(
        check(
            type="http",
            url=f"{http_server.base_url}/health",
            body_contains="all good",
            json_fields={"status": "ok"},
        )
    )
    assert not outcome.is_passing
    assert outcome.message == (
        "status 503, expected 200; body does not contain 'all good'; "
        'status is "degraded", expected "ok"'
    )


def test_http_slower_than_its_latency_limit_fails_and_a_hung_one_times_out(http_server):
    http_server.answers["/slow"] = Answer(delay_s=0.3)
    slow = probe(check(type="http", url=f"{http_server.base_url}/slow", max_latency="100ms"))
    assert not slow.is_passing and "limit 100 ms" in slow.message
    hung = probe(check(type="http", url=f"{http_server.base_url}/slow", timeout="100ms"))
    assert hung.message == "no answer within 0.1 s (timeout)"
    assert hung.latency_ms < 290


def test_retries_back_off_and_stop_at_the_first_pass(http_server):
    url = f"{http_server.base_url}/flaky"
    outcome = probe(check(type="http", url=url, retries=2, retry_backoff="50ms"))
    assert (outcome.is_passing, outcome.tries, http_server.hits[url[-6:]]) == (False, 3, 3)
    http_server.answers["/flaky"] = Answer()
    assert probe(check(type="http", url=url, retries=2)).tries == 1


def test_a_retry_that_cannot_get_a_slot_in_time_makes_the_run_late_not_down(http_server):
    """The first try fails; while it backs off, other work holds the only slot for 1.3 s."""
    url = f"{http_server.base_url}/flaky"
    flaky = check(type="http", url=url, retries=1, retry_backoff="100ms", interval="1s")

    async def main():
        ctx, slots = ProbeContext(), asyncio.Semaphore(1)

        async def busy_elsewhere():
            while not http_server.hits:  # the first try is under way: queue behind it
                await asyncio.sleep(0.01)
            async with slots:
                await asyncio.sleep(1.3)

        try:
            outcome, _ = await asyncio.gather(
                run_check(flaky, ctx, datetime.now(UTC), slots), busy_elsewhere()
            )
            return outcome
        finally:
            await ctx.aclose()

    outcome = asyncio.run(main())
    assert (outcome.is_late, outcome.is_passing, outcome.tries) == (True, False, 1)
    assert outcome.message.startswith("late: waited 1.")
    assert outcome.message.endswith("again (try 1: status 404, expected 200)")
    assert http_server.hits == {"/flaky": 1}  # the late retry asked nothing


def test_redirects_are_followed_only_when_asked(http_server):
    http_server.answers["/old"] = Answer(302, "", headers={"Location": "/new"})
    http_server.answers["/new"] = Answer(body="moved here")
    url = f"{http_server.base_url}/old"
    followed = probe(check(type="http", url=url, follow_redirects=True, body_contains="moved"))
    assert followed.is_passing, followed.message
    assert probe(check(type="http", url=url)).message == "status 302, expected 200"


def test_a_refused_connection_is_a_failure_message_not_a_crash(free_port):
    outcome = probe(check(type="http", url=f"http://127.0.0.1:{free_port}/"))
    assert not outcome.is_passing and outcome.message.startswith("ConnectError: ")


@pytest.mark.parametrize("https_server", [5], indirect=True)
def test_https_reports_certificate_days_left(https_server):
    server, certificate = https_server
    server.answers["/"] = Answer()
    base = {"type": "http", "url": server.base_url + "/", "ca_file": str(certificate.cert_file)}
    enough = probe(check(**base, min_cert_days=2))
    assert enough.is_passing, enough.message
    assert f"valid until {certificate.not_after:%Y-%m-%d}" in enough.message
    soon = probe(check(**base, min_cert_days=14))
    assert not soon.is_passing
    assert soon.message.startswith("certificate expires in 5.0 days")
    unverified = probe(
        check(type="http", url=server.base_url + "/", verify_tls=False, min_cert_days=14)
    )
    assert "expires in 5.0 days" in unverified.message


def test_https_with_an_untrusted_certificate_fails_verification(https_server):
    server, _ = https_server
    server.answers["/"] = Answer()
    outcome = probe(check(type="http", url=server.base_url + "/"))
    assert not outcome.is_passing and "CERTIFICATE_VERIFY_FAILED" in outcome.message


def test_tcp_follows_a_listener_being_opened_and_closed(tcp_listener):
    config = check(type="tcp", host="127.0.0.1", port=tcp_listener.port)
    assert probe(config).is_passing
    tcp_listener.close()
    closed = probe(config)
    assert not closed.is_passing and "ConnectionRefusedError" in closed.message
    tcp_listener.open()
    assert probe(config).is_passing


def test_process_checks_count_a_real_child_process():
    marker = f"vigil-probe-{uuid.uuid4().hex[:8]}"
    code = f"import time; time.sleep(30)  # {marker}"
    config = check(type="process", cmdline=marker, min_count=1, max_count=1, max_rss_bytes=10**9)
    assert not probe(config).is_passing
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        outcome = probe(config)
        assert outcome.is_passing, outcome.message
        assert outcome.message.startswith("1 processes")
        tiny = probe(check(type="process", cmdline=marker, max_rss_bytes=1024))
        assert "memory" in tiny.message
        busy = probe(check(type="process", cmdline=marker, max_cpu_percent=1000))
        assert busy.is_passing, busy.message
    finally:
        child.kill()
        child.wait()
    assert not probe(config).is_passing


def test_commands_run_without_a_shell_with_env_and_exit_code():
    config = check(
        type="command",
        argv=[
            sys.executable,
            "-c",
            "import os, sys; print(os.environ['GREETING'], sys.argv[1:])",
            "$HOME; echo injected",
        ],
        env={"GREETING": "hello"},
        output_matches=r"hello \['\$HOME; echo injected'\]",
    )
    outcome = probe(config)
    assert outcome.is_passing, outcome.message
    failing = probe(check(type="command", argv=[sys.executable, "-c", "raise SystemExit(3)"]))
    assert failing.message.startswith("exit code 3, expected 0")
    missing = probe(check(type="command", argv=["/no/such/program"]))
    assert missing.message.startswith("FileNotFoundError")


def test_a_command_past_its_timeout_is_killed(tmp_path):
    pid_file = tmp_path / "pid"
    code = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(30)"
    outcome = probe(check(type="command", argv=[sys.executable, "-c", code], timeout="1s"))
    assert outcome.message == "no answer within 1 s (timeout)"
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        import os

        os.kill(pid, 0)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_sql_checks_compare_the_first_value(backend, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    if backend == "postgres":
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE jobs (state VARCHAR(10))")
        conn.exec_driver_sql("INSERT INTO jobs VALUES ('ok'), ('ok'), ('failed')")
    engine.dispose()
    query = "SELECT count(*) FROM jobs WHERE state = 'failed'"

    async def both():
        ctx = ProbeContext()
        try:
            now, slots = datetime.now(UTC), asyncio.Semaphore(2)
            good = await run_check(
                check(type="sql", url=url, query=query, expect=1), ctx, now, slots
            )
            bad = await run_check(
                check(type="sql", url=url, query=query, expect=0), ctx, now, slots
            )
            broken = await run_check(
                check(type="sql", url=url, query="SELECT * FROM nope"), ctx, now, slots
            )
            return good, bad, broken
        finally:
            await ctx.aclose()

    good, bad, broken = asyncio.run(both())
    assert good.is_passing, good.message
    assert bad.message == "value 1, expected 0"
    assert not broken.is_passing and "nope" in broken.message


def test_metric_checks_judge_the_newest_stored_samples(store):
    now = datetime.now(UTC)
    store.write(
        [
            NewSample("disk_free_ratio", {"host": "a"}, now - timedelta(seconds=5), 0.5),
            NewSample("disk_free_ratio", {"host": "b"}, now - timedelta(seconds=5), 0.05),
            NewSample("disk_free_ratio", {"host": "c"}, now - timedelta(hours=1), 0.9),
        ]
    )
    ctx = ProbeContext(store=store)
    good = probe(check(type="metric", selector='disk_free_ratio{host="a"}', op=">", value=0.1), ctx)
    assert good.is_passing, good.message
    bad = probe(check(type="metric", selector="disk_free_ratio", op=">", value=0.1), ctx)
    assert bad.message == (
        '{"host":"b"} = 0.05, expected > 0.1; {"host":"c"} is stale: newest sample 3600 s old'
    )
    none = probe(check(type="metric", selector="no_such_metric", op=">", value=0), ctx)
    assert none.message == "no series matches the selector"


@pytest.mark.postgres
def test_a_hung_query_times_out_without_holding_the_others(postgres_url):
    async def both():
        ctx = ProbeContext()
        try:
            now, slots = datetime.now(UTC), asyncio.Semaphore(10)
            slow = check(type="sql", url=postgres_url, query="SELECT pg_sleep(3)", timeout="500ms")
            fast = check(type="sql", url=postgres_url, query="SELECT 1", expect=1, name="fast")
            started = time.perf_counter()
            outcomes = await asyncio.gather(
                *(run_check(c, ctx, now, slots) for c in [slow] * 8),
                run_check(fast, ctx, now, slots),
            )
            return outcomes, time.perf_counter() - started
        finally:
            await ctx.aclose()

    outcomes, elapsed = asyncio.run(both())
    assert {o.message for o in outcomes[:8]} == {"no answer within 0.5 s (timeout)"}
    assert outcomes[8].is_passing, outcomes[8].message
    assert elapsed < 2.5
