"""Run checks on their intervals for a window of time, storing results in small batches.

Every check runs as its own asyncio task, so a slow target only holds its own check.
Finished results are resolved (soft/hard, dependencies), scored and stored at least
every ``tick_s`` seconds, so alerting hears of a failure within a tick.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from models.config import VigilConfig
from models.config.checks import CheckBase
from tasks.checks.context import ProbeContext
from tasks.checks.runner import run_check
from tasks.checks.store import CheckStore
from tasks.core.checks.health_score import (
    HealthLevel,
    Score,
    ScoredCheck,
    ScoringRules,
    score_tree,
    worth_recording,
)
from tasks.core.checks.machine import CheckState, Outcome, Rules
from tasks.core.checks.round import CheckSpec, Resolved, due, resolve, seconds_until_due

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)


@dataclass
class WindowSummary:
    """What a window did: batches stored, results per status, the last system score.

    ``unstored``: results the store never took (it stayed unreachable past the window's
    drain time, or the held results passed their limit).
    """

    batches: int = 0
    unstored: int = 0
    results: dict[str, int] = field(default_factory=dict)
    system_score: float | None = None
    system_level: str = str(HealthLevel.UNKNOWN)

    def as_dict(self) -> dict:
        """Plain data for a flow's return value."""
        return {
            "batches": self.batches,
            "unstored": self.unstored,
            "results": dict(self.results),
            "system_score": self.system_score,
            "system_level": self.system_level,
        }


def spec_of(check: CheckBase) -> CheckSpec:
    """Return what the pure round logic needs from a configured check."""
    return CheckSpec(
        name=check.name,
        target=check.target,
        interval_s=check.interval.total_seconds(),
        component=check.component_name,
        rules=Rules(check.max_attempts, check.recover_after),
        depends_on=tuple(check.depends_on),
        labels=dict(check.labels),
    )


def scoring_rules(config: VigilConfig) -> ScoringRules:
    """Return the pure scoring rules of the ``health:`` section."""
    health = config.health
    return ScoringRules(
        healthy=health.levels.healthy,
        warning=health.levels.warning,
        degraded=health.levels.degraded,
        soft_down_score=health.soft_down_score,
        component_weights=health.component_weights,
        target_weights=health.target_weights,
    )


class CheckWindow:
    """The loop of one window; ``run()`` returns its summary."""

    def __init__(
        self,
        config: VigilConfig,
        recorder: CheckStore,
        ctx: ProbeContext,
        *,
        clock: Clock,
        tick_s: float = 1.0,
        drain_s: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.config = config
        self.checks = {check.name: check for check in config.checks}
        self.specs = [spec_of(check) for check in config.checks]
        self.recorder = recorder
        self.ctx = ctx
        self.clock = clock
        self.tick_s = tick_s
        self.drain_s = drain_s
        self.sleep = sleep
        self.rules = scoring_rules(config)
        self.states: dict[str, CheckState] = {}
        self.in_flight: dict[str, asyncio.Task[Outcome]] = {}
        self.paused: dict[str, str] = {}
        self.recorded: dict[tuple[str, str], tuple[HealthLevel, float]] = {}
        self.summary = WindowSummary()

    async def run(self, window_s: float, *, force: bool = False) -> WindowSummary:
        """Run due checks until ``window_s`` has passed and nothing is in flight.

        Args:
            window_s: how long to keep starting checks; 0 runs one round.
            force: run every check in the first round, due or not.
        """
        self.states = await asyncio.to_thread(self.recorder.load_states)
        self.recorded = await asyncio.to_thread(self.recorder.last_scores)
        slots = asyncio.Semaphore(self.config.health.max_concurrency)
        self.ctx.max_connections = self.config.health.max_concurrency
        start = self.clock()
        first = True
        while True:
            now = self.clock()
            if first or (now - start).total_seconds() < window_s:
                names = [s.name for s in self.specs] if first and force else self._due(now)
                self._start(names, slots, now)
            first = False
            if self.in_flight:
                await asyncio.wait(self.in_flight.values(), timeout=self.tick_s)
            await self._flush(self.clock())
            left = window_s - (self.clock() - start).total_seconds()
            if left <= 0 and not self.in_flight:
                return await self._drain()
            if not self.in_flight:
                wait = seconds_until_due(self.specs, self.states, self.clock())
                await self.sleep(min(max(wait, 0.01), left))

    async def _drain(self) -> WindowSummary:
        """Retry held results for up to ``drain_s`` (the store was down); count what is left."""
        pending = self.recorder.pending
        end = self.clock().timestamp() + self.drain_s
        while len(pending) and self.clock().timestamp() < end:
            await self.sleep(self.tick_s)
            await asyncio.to_thread(self.recorder.write_pending)
        self.summary.unstored = len(pending) + pending.results.dropped
        if self.summary.unstored:
            log.error("%d check results lost: the store stayed unreachable", self.summary.unstored)
        return self.summary

    def _due(self, now: datetime) -> list[str]:
        return [n for n in due(self.specs, self.states, now) if n not in self.in_flight]

    def _start(self, names: list[str], slots: asyncio.Semaphore, now: datetime) -> None:
        windows = self.config.health.maintenance
        for name in names:
            check = self.checks[name]
            window = next((w for w in windows if w.covers(name, check.target, now)), None)
            if window is not None:
                self.paused[name] = window.name
            else:
                run = run_check(check, self.ctx, now, slots, queued_at=time.perf_counter())
                self.in_flight[name] = asyncio.create_task(run)

    async def _flush(self, now: datetime) -> None:
        """Resolve finished checks and pauses, score everything, store and publish."""
        outcomes = {n: t.result() for n, t in self.in_flight.items() if t.done()}
        if not outcomes and not self.paused:
            return
        for name in outcomes:
            del self.in_flight[name]
        resolved = resolve(self.specs, self.states, outcomes, maintenance=self.paused, now=now)
        self.paused = {}
        self.states.update({item.spec.name: item.state for item in resolved})
        scores = self._scores(now)
        await asyncio.to_thread(self.recorder.record, resolved, scores, now)
        self._count(resolved)
        late = sum(item.outcome.is_late for item in resolved)
        if late:
            log.warning(
                "%d checks could not start on time (health.max_concurrency %d): reported "
                "late, not down; Vigil is overloaded",
                late,
                self.config.health.max_concurrency,
            )

    def _scores(self, now: datetime) -> list[Score]:
        scored = [
            ScoredCheck(s.name, s.target, s.component, self.checks[s.name].weight, state)
            for s in self.specs
            if (state := self.states.get(s.name)) is not None
        ]
        scores = score_tree(scored, self.rules)
        system = scores[-1]
        self.summary.system_score, self.summary.system_level = system.score, str(system.level)
        every_s = self.config.health.score_interval.total_seconds()
        keep = worth_recording(scores, self.recorded, now_s=now.timestamp(), every_s=every_s)
        self.recorded.update({(s.scope, s.name): (s.level, now.timestamp()) for s in keep})
        return keep

    def _count(self, resolved: list[Resolved]) -> None:
        self.summary.batches += 1
        for item in resolved:
            status = str(item.report.status)
            self.summary.results[status] = self.summary.results.get(status, 0) + 1
