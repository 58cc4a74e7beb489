"""Replay: the real alert engine on a scratch SQLite store, driven by a controlled clock.

``vigil rules test`` and ``vigil rules backtest`` both feed batches through a ``Replay``:
each batch is written to the scratch store and handed to ``AlertEngine.on_batch`` at its
instant, and the engine is swept on the alert-sweep cadence in between, exactly as the
collect and alert-sweep flows do. Notifications are planned into the scratch outbox and
never delivered; firing alerts ask for recoveries through the real safety gate (rate limit,
cooldown) on the scratch store, and an admitted run is taken to succeed at once.
"""

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from models.alerting import AlertTransition, Notification
from models.config.root import VigilConfig
from models.db import make_engine
from models.migrate import upgrade
from models.recovery import AuditEvent, RecoveryAudit, RecoveryRun, RunState
from models.store import MetricStore, NewSample
from tasks.alerting import store as repo
from tasks.alerting.engine import AlertEngine
from tasks.alerting.hooks import FiringAlert
from tasks.alerting.plan import build_plan
from tasks.core.alerting.lifecycle import AlertState
from tasks.core.checks.state import CheckReport
from tasks.recovery.store import finish
from tasks.recovery.trigger import request_recovery
from tasks.store.batch_hooks import BatchWritten


@dataclass
class ReplayCounts:
    """What a replay caused: alerts, notifications and recoveries."""

    alerts: int = 0  # firing episodes (transitions to firing)
    resolved: int = 0  # firing episodes that ended
    notifications: dict[str, int] = field(default_factory=dict)  # by kind
    by_channel: dict[str, int] = field(default_factory=dict)
    recoveries: int = 0  # admitted by the safety gate (launched)
    recoveries_refused: int = 0  # asked for, refused by the gate (rate limit, cooldown)


def rules_with_their_inputs(config: VigilConfig, names: Sequence[str]) -> VigilConfig:
    """Keep only the rules ``names`` and the rules they read (all/any sources, corroboration)."""
    by_name = {r.name: r for r in config.rules}
    wanted, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in wanted or name not in by_name:
            continue
        wanted.add(name)
        rule = by_name[name]
        todo += rule.rules + (
            [rule.corroborate.rule] if rule.corroborate and rule.corroborate.rule else []
        )
    return config.model_copy(update={"rules": [r for r in config.rules if r.name in wanted]})


class Replay:
    """A scratch store and a real engine over it; time moves only when told to."""

    def __init__(
        self, config: VigilConfig, scratch: Path, *, start: float, sweep_every_s: float = 15.0
    ) -> None:
        url = f"sqlite:///{scratch}"
        upgrade(url)
        self.db = make_engine(url)
        self.store = MetricStore(self.db)
        self.procedures = config.procedures
        hooks = [self._recover] if config.procedures else []
        plan = build_plan(config)
        self.engine = AlertEngine(self.db, plan, store=self.store, emit=None, on_firing=hooks)
        self.sweep_every_s = sweep_every_s
        self.next_sweep = start
        self.now = start  # the replay's clock: the batch or sweep being handled

    def close(self) -> None:
        """Release the scratch store."""
        self.engine.outbox.stop()
        self.db.dispose()

    def feed(
        self, at: float, samples: Sequence[NewSample], reports: Sequence[CheckReport] = ()
    ) -> None:
        """Sweep up to just before ``at``, then write and judge one batch at ``at``."""
        self.advance(at, inclusive=False)
        self.now = at
        if samples:
            self.store.write(samples)
        stamp = datetime.fromtimestamp(at, UTC)
        self.engine.on_batch(BatchWritten("replay", stamp, list(samples), list(reports)))

    def advance(self, until: float, *, inclusive: bool = True) -> None:
        """Run every sweep due up to ``until``, on the alert-sweep cadence."""
        while self.next_sweep < until or (inclusive and self.next_sweep == until):
            self.now = self.next_sweep
            self.engine.sweep(self.next_sweep, deliver=False)
            self.next_sweep += self.sweep_every_s

    def firing(self) -> list[repo.AlertRow]:
        """The alerts firing now."""
        with self.db.connect() as conn:
            return repo.load_in_states(conn, [AlertState.FIRING])

    def counts(self) -> ReplayCounts:
        """Count what the replay caused so far, from the scratch store."""
        return count_effects(self.db)

    def _recover(self, alert: FiringAlert) -> None:
        target = alert.labels.get("target", "")
        if not target:
            return
        now = datetime.fromtimestamp(self.now, UTC)  # a live hook asks when it runs
        launched = request_recovery(
            self.db,
            self.procedures,
            alert.rule,
            target,
            dict(alert.labels),
            launch=lambda run: None,
            named=alert.procedure,
            now=now,
        )
        by_name = {p.name: p for p in self.procedures}
        for run in launched:
            finish(
                self.db, by_name[run.procedure], run.id or 0, RunState.SUCCEEDED, "replay", now=now
            )


def count_effects(db) -> ReplayCounts:  # type: ignore[no-untyped-def]
    """Count firing episodes, planned notifications and admitted recoveries in a store."""
    moves = AlertTransition.__table__  # type: ignore[attr-defined]
    sent = Notification.__table__  # type: ignore[attr-defined]
    runs = RecoveryRun.__table__  # type: ignore[attr-defined]
    audits = RecoveryAudit.__table__  # type: ignore[attr-defined]
    with db.connect() as conn:
        to_state = Counter(conn.execute(select(moves.c.to_state)).scalars())
        resolved = conn.execute(
            select(func.count()).where(
                moves.c.from_state == "firing", moves.c.to_state == "resolved"
            )
        ).scalar_one()
        kinds = Counter(conn.execute(select(sent.c.kind)).scalars())
        channels = Counter(conn.execute(select(sent.c.channel)).scalars())
        admitted = conn.execute(
            select(func.count()).select_from(runs).where(runs.c.is_dry_run.is_(False))
        ).scalar_one()
        events = Counter(conn.execute(select(audits.c.event)).scalars())
    skipped = AuditEvent.SKIPPED
    return ReplayCounts(
        alerts=to_state.get(str(AlertState.FIRING), 0),
        resolved=resolved,
        notifications=dict(sorted(kinds.items())),
        by_channel=dict(sorted(channels.items())),
        recoveries=admitted,
        recoveries_refused=events.get(skipped.name, 0) + events.get(skipped.value, 0),
    )


def describe(counts: ReplayCounts) -> str:
    """One paragraph of what a replay caused."""
    kinds = ", ".join(f"{n} {k}" for k, n in counts.notifications.items()) or "none"
    channels = ", ".join(f"{c}: {n}" for c, n in counts.by_channel.items()) or "none"
    return "\n".join(
        [
            f"alerts fired:   {counts.alerts} (resolved: {counts.resolved})",
            f"notifications:  {sum(counts.notifications.values())} ({kinds})",
            f"  by channel:   {channels}",
            f"recoveries:     {counts.recoveries} launched, {counts.recoveries_refused} refused "
            "by the safety gate",
        ]
    )


def as_json(counts: ReplayCounts) -> str:
    """The counts as JSON (for scripts)."""
    return json.dumps(counts.__dict__, sort_keys=True)
