"""``/api/v1/rules``: the configured rules; unit tests in the `vigil rules test` notation;
backtests of a rule on stored history.

A test file sent here may name the server's own config as ``rule_files: [vigil.yaml]``
(no other file: the API reads nothing else of the server's disk) or carry ``rules:``.
"""

import json
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, Field

from models.config.dashboard import Role
from models.errors import ConfigError
from models.vocabulary.durations import parse_duration
from tasks.api.auth import require
from tasks.api.context import ApiContext, context
from tasks.api.errors import ApiError, refused_input

router = APIRouter(prefix="/api/v1/rules", tags=["rules"])
SERVER_CONFIG = "vigil.yaml"  # the one rule file a test sent here may name
MAX_BACKTEST_SPAN = timedelta(days=31)
MAX_BACKTEST_SWEEPS = 200_000  # bounds the work one request can ask for
MAX_TEST_BYTES = 1_000_000


class BacktestRequest(BaseModel):
    """How far back to replay, and the sweep cadence."""

    since: str = Field("7d", description="How far back, e.g. 1d (at most 31d).")
    step: str = Field("15s", description="Sweep cadence of the replay, e.g. 15s.")


@router.get("", dependencies=[Depends(require(Role.VIEWER))])
def list_rules(ctx: ApiContext = Depends(context)) -> list[dict[str, Any]]:
    """Every rule of vigil.yaml, as configured."""
    return [rule.model_dump(mode="json") for rule in ctx.config.rules]


@router.post("/test", dependencies=[Depends(require(Role.VIEWER))])
def test_rules(
    file: str = Body(
        ...,
        media_type="text/plain",
        max_length=MAX_TEST_BYTES,
        description="A rule test file (YAML), as for `vigil rules test`.",
    ),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Run the test cases of a rule test file; each case passes or lists its failures."""
    from tasks.alerting.rule_tests import load_tests, run_tests  # the engine: import when asked

    with tempfile.TemporaryDirectory(prefix="vigil-api-rules-test-") as scratch:
        path = Path(scratch) / "rules-test.yaml"
        path.write_text(file, encoding="utf-8")
        _only_server_config(file)  # before anything reads a rule file
        _offer_server_config(ctx, Path(scratch))
        try:
            loaded = load_tests(path)
        except ConfigError as error:
            raise ApiError(422, str(error).replace(f"{scratch}/", ""), "file") from None
        results = run_tests(loaded, Path(scratch))
    cases = [{"name": r.name, "passed": not r.failures, "failures": r.failures} for r in results]
    return {"passed": all(c["passed"] for c in cases), "cases": cases}


@router.post("/{rule}/backtest", dependencies=[Depends(require(Role.OPERATOR))])
def backtest_rule(
    rule: str, asked: BacktestRequest, ctx: ApiContext = Depends(context)
) -> dict[str, Any]:
    """Replay stored history through a rule: the alerts, notifications and recoveries it
    would have caused. Nothing is sent, launched or written."""
    from tasks.alerting.backtest import backtest  # the replay engine: import when asked
    from tasks.alerting.replay import as_json

    if rule not in {r.name for r in ctx.config.rules}:
        known = ", ".join(sorted(r.name for r in ctx.config.rules)) or "none"
        raise ApiError(404, f"no rule {rule!r}; known: {known}", "rule")
    span, step = _duration(asked.since, "since"), _duration(asked.step, "step")
    if span > MAX_BACKTEST_SPAN:
        raise ApiError(
            422, "since is at most 31d through the API; use `vigil rules backtest`", "since"
        )
    if span / step > MAX_BACKTEST_SWEEPS:
        raise ApiError(422, f"since/step asks for more than {MAX_BACKTEST_SWEEPS} sweeps", "step")
    end = ctx.clock().timestamp()
    start = end - span.total_seconds()
    with tempfile.TemporaryDirectory(prefix="vigil-api-backtest-") as scratch:
        report = backtest(
            ctx.config,
            rule,
            ctx.store,
            start=start,
            end=end,
            scratch=Path(scratch) / "replay.db",
            step_s=step.total_seconds(),
        )
    return {
        "rule": rule,
        "start": start,
        "end": end,
        "samples": report.samples,
        "check_results": report.check_results,
        "counts": json.loads(as_json(report.counts)),
    }


def _offer_server_config(ctx: ApiContext, scratch: Path) -> None:
    if ctx.config_path is not None and ctx.config_path.is_file():
        shutil.copyfile(ctx.config_path, scratch / SERVER_CONFIG)


def _only_server_config(text: str) -> None:
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError:
        return  # load_tests says where
    rule_files = spec.get("rule_files") if isinstance(spec, dict) else None
    if not isinstance(rule_files, list):
        return
    others = [name for name in rule_files if name != SERVER_CONFIG]
    if others:
        raise ApiError(
            422,
            f"rule_files may name {SERVER_CONFIG} (the server's config) only, "
            f"not {others[0]!r}; put other rules under rules:",
            "file",
        )


def _duration(text: str, field: str) -> timedelta:
    try:
        lasting = parse_duration(text)
    except ValueError as exc:
        raise refused_input(exc, field) from None
    if lasting <= timedelta(0):
        raise ApiError(422, f"{field} must be longer than 0s", field)
    return lasting
