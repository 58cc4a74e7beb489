"""Alert reactions: skip recovery where alerts are muted; remediate first, then escalate.

``Remediator.on_firing`` (an ``ON_FIRING`` hook) records why a suppressed recovery is
skipped (silence, maintenance window, DOWN parent), and otherwise requests the rule's
recovery through the safety gate; under ``remediate:`` it counts the attempt first (the
page is held meanwhile) or gives up. ``on_evaluated`` (the engine's per-pass hook) feeds
each pass's evidence to the state machine in ``tasks.core.recovery.remediation``: verdicts are
audited and a "fixed automatically" note is queued when the rule asks for one.
"""

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from models.config.recovery import Procedure
from models.config.remediation import OnFixed
from models.config.root import VigilConfig
from models.recovery import AuditEvent, RecoveryRun, RunState
from models.vocabulary.durations import format_duration
from tasks.alerting import store as repo
from tasks.alerting.hooks import Evaluated, FiringAlert
from tasks.alerting.muting import gather_scene
from tasks.alerting.plan import AlertingPlan
from tasks.core.alerting.lifecycle import AlertState, fingerprint
from tasks.core.alerting.routing import matching_routes
from tasks.core.checks.state import CheckStatus
from tasks.core.recovery.remediation import (
    Phase,
    Policy,
    Verdict,
    fixed_note,
    launch_refused,
    on_cycle,
    on_firing,
    run_failed,
    tick,
)
from tasks.core.recovery.suppression import recovery_suppressed
from tasks.notify.outbox import Message, enqueue
from tasks.recovery import remediation_store as store
from tasks.recovery.remediation_store import RemediationRow
from tasks.recovery.store import audit, run_by_id
from tasks.recovery.trigger import (
    Launcher,
    is_allowed_target,
    launch_deployment,
    procedures_for_rule,
    request_recovery,
)

log = logging.getLogger(__name__)
RUN_FAILURES = (RunState.FAILED, RunState.REJECTED)


class Remediator:
    """What a firing alert does to recovery, and what each pass's evidence concludes."""

    def __init__(
        self,
        config: VigilConfig,
        db: Engine,
        plan: AlertingPlan,
        launch: Launcher = launch_deployment,
    ) -> None:
        self.procedures, self.db, self.plan, self.launch = config.procedures, db, plan, launch
        self.rules = {r.name: r for r in config.rules}

    # -- firing -----------------------------------------------------------------------------

    def on_firing(self, alert: FiringAlert) -> None:
        """Skip (with its reason), remediate under the rule's policy, or launch the recovery."""
        target = alert.labels.get("target", "")
        procedures = [
            p
            for p in procedures_for_rule(self.procedures, alert.rule, alert.procedure)
            if is_allowed_target(p, target)
        ]
        if not target or not procedures:
            return
        trigger = f"alert:{alert.rule}"
        reason = self.suppressed(alert.labels, alert.fired_at)
        if reason is not None:
            self._skip(procedures, target, trigger, reason, alert.fired_at)
            return
        policy = self.plan.remediate.get(alert.rule)
        if policy is None:
            self._launch(alert, target)
        else:
            self._remediate(alert, target, procedures, policy)

    def suppressed(self, labels: Mapping[str, str], now: float) -> str | None:
        """Return why recovery may not act for an alert with ``labels`` now, or None."""
        is_parent_aware = self.plan.parent_down_inhibits and bool(self.plan.down_rules)
        with self.db.connect() as conn:
            down_rows = (
                repo.load_in_states(conn, [AlertState.FIRING], sorted(self.plan.down_rules))
                if is_parent_aware
                else []
            )
            scene = gather_scene(conn, self.plan, down_rows, now)
        return recovery_suppressed(labels, scene, now=now)

    def _remediate(
        self, alert: FiringAlert, target: str, procedures: list[Procedure], policy: Policy
    ) -> None:
        now = alert.fired_at
        with self.db.begin() as conn:
            row = store.load(conn, alert.fingerprint) or RemediationRow(
                alert.fingerprint, alert.rule, target
            )
            row.state, is_go = on_firing(policy, row.state, fired_at=alert.fired_at, now=now)
            row.run_ids = []
            try:
                is_ours = store.save(conn, row, now)
            except IntegrityError:  # another worker started this episode's remediation
                is_ours = False
        if not is_ours:
            return
        if not is_go:
            window = format_duration(timedelta(seconds=policy.window_s))
            reason = (
                f"given up: {len(row.state.attempts)} attempts within {window}; "
                f"resets after {policy.reset_after_healthy} healthy cycles"
            )
            self._skip(procedures, target, f"alert:{alert.rule}", reason, now)
            return
        runs = self._launch(alert, target)
        row.run_ids = [run.id for run in runs if run.id is not None]
        if not runs:
            row.state = launch_refused(row.state)
        with self.db.begin() as conn:
            store.save(conn, row, now)

    def _launch(self, alert: FiringAlert, target: str) -> list[RecoveryRun]:
        return request_recovery(
            self.db,
            self.procedures,
            alert.rule,
            target,
            dict(alert.labels),
            launch=self.launch,
            named=alert.procedure,
        )

    def _skip(
        self, procedures: list[Procedure], target: str, trigger: str, reason: str, now: float
    ) -> None:
        """Record a skip like the safety gate records its refusals: triggered, then skipped."""
        at = datetime.fromtimestamp(now, UTC)
        for procedure in procedures:
            audit(self.db, procedure.name, target, AuditEvent.TRIGGERED, trigger, now=at)
            audit(self.db, procedure.name, target, AuditEvent.SKIPPED, reason, now=at)
        log.info("recovery for %s on %s skipped: %s", trigger, target, reason)

    # -- evidence ---------------------------------------------------------------------------

    def on_evaluated(self, evaluated: Evaluated) -> None:
        """Judge every open remediation against this pass's evidence."""
        if not self.plan.remediate:
            return
        with self.db.connect() as conn:
            rows = store.load_open(conn, self.plan.remediate)
        for row in rows:
            self._judge(row, evaluated)

    def _judge(self, row: RemediationRow, evaluated: Evaluated) -> None:
        policy, now = self.plan.remediate[row.rule], evaluated.now
        state, verdict = tick(row.state, now=now)
        verdicts = [verdict]
        if state.phase is Phase.VERIFYING and self._has_failed_run(row.run_ids):
            state, verdict = run_failed(state)
            verdicts.append(verdict)
        for is_healthy in self._cycles(row, evaluated):
            state, verdict = on_cycle(policy, state, is_healthy=is_healthy, now=now)
            verdicts.append(verdict)
        if state == row.state:
            return
        row.state = state
        reached = [v for v in verdicts if v is not None]
        with self.db.begin() as conn:
            if not store.save(conn, row, now):
                return  # another worker judged it first
            if Verdict.FIXED in reached and self._on_fixed(row) is OnFixed.NOTIFY_LOW:
                enqueue(conn, self._fixed_messages(conn, row, now), now)
            releases = {Verdict.FAILED, Verdict.REGRESSED, Verdict.RESET}
            if releases & set(reached) and policy.holds_page:  # levels count from the page
                repo.restart_escalation(conn, row.fingerprint, now)
        for verdict in reached:
            self._record(row, verdict, now, is_held=policy.holds_page)

    def _cycles(self, row: RemediationRow, evaluated: Evaluated) -> list[bool]:
        """Healthy (True) or not, per fresh judgement of the verifying evidence in this pass."""
        remediate = self.rules[row.rule].remediate
        check = remediate.verify_with if remediate else None
        if check is not None:
            return [r.status is CheckStatus.UP for r in evaluated.check_results if r.check == check]
        return [
            not o.is_breaching
            for o in evaluated.observations
            if o.rule == row.rule and o.is_fresh and fingerprint(o.labels) == row.fingerprint
        ]

    def _has_failed_run(self, run_ids: Sequence[int]) -> bool:
        runs = [run_by_id(self.db, run_id) for run_id in run_ids]
        return any(run is not None and run.state in RUN_FAILURES for run in runs)

    def _on_fixed(self, row: RemediationRow) -> OnFixed | None:
        remediate = self.rules[row.rule].remediate
        return remediate.on_fixed if remediate else None

    def _fixed_messages(self, conn, row: RemediationRow, now: float) -> list[Message]:  # type: ignore[no-untyped-def]
        """The "fixed automatically" note, routed as an info alert (low priority)."""
        alert = repo.load_by_fingerprint(conn, [row.fingerprint]).get(row.fingerprint)
        if alert is None:
            return []
        names = self._procedure_names(row)
        fired_at = row.state.episode if row.state.episode is not None else now
        title, body = fixed_note(alert.labels, names, fired_at=fired_at, now=now)
        routes = self.plan.routes
        info = {**alert.labels, "severity": "info"}
        taken = matching_routes(info, routes)
        channels = dict.fromkeys(c for i in taken for c in routes[i].channels)
        return [Message(c, "fixed", title, body, [row.fingerprint]) for c in channels]

    def _procedure_names(self, row: RemediationRow) -> list[str]:
        named = self.rules[row.rule].procedure
        return [p.name for p in procedures_for_rule(self.procedures, row.rule, named)]

    def _record(self, row: RemediationRow, verdict: Verdict, now: float, *, is_held: bool) -> None:
        at = datetime.fromtimestamp(now, UTC)
        detail = f"{verdict}: {row.rule} on {row.target}"
        detail += {
            Verdict.FIXED: ", verified in time" + ("; nothing paged" if is_held else ""),
            Verdict.FAILED: ", not fixed in time" + ("; paging" if is_held else ""),
            Verdict.REGRESSED: ", unhealthy again after the fix",
            Verdict.RESET: ", healthy long enough; the attempt count starts again",
        }[verdict]
        for name in self._procedure_names(row):
            audit(self.db, name, row.target, AuditEvent.REMEDIATION, detail, now=at)
