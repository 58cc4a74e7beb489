"""The alert engine: judges each written batch at once, and sweeps what time alone changes.

``on_batch`` is the subscriber on the batch seam (tasks.store.batch_hooks): it evaluates the
rules that select the new samples and check reports, moves alerts through their
lifecycle (compare-and-set, every transition stored), flushes due groups into the
outbox and wakes the deliverer. ``sweep`` (flows/alert_sweep.py) handles absence, pending
expiry, keep-firing-for, stale series, flap decay, group timers, escalation and retries.
"""

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from models.store import MetricStore
from models.vocabulary.labels import parse_canonical
from models.vocabulary.templates import render
from tasks.alerting import store as repo
from tasks.alerting.events import emit_alert_event
from tasks.alerting.hooks import (
    ON_FIRING,
    Evaluated,
    EvaluatedHook,
    FiringAlert,
    FiringHook,
    call_hooks,
)
from tasks.alerting.notifier import Notifier
from tasks.alerting.plan import AlertingPlan
from tasks.alerting.store import AlertRow
from tasks.alerting.trust import TrustGate
from tasks.core.alerting.conditions import holds
from tasks.core.alerting.external import is_external
from tasks.core.alerting.flapping import flap_percent, next_flapping, observe, recent
from tasks.core.alerting.lifecycle import AlertState, fingerprint, next_lifecycle
from tasks.core.alerting.rules import (
    Observation,
    RuleSet,
    RuleSpec,
    absence_observations,
    check_observations,
    combine,
)
from tasks.notify.outbox import DeliveryReport, Outbox
from tasks.store import shared_counters
from tasks.store.batch_hooks import BatchWritten
from tasks.store.shared_counters import ALERTS_FIRED, ALERTS_RESOLVED, Increment

SAMPLE_KINDS = ("threshold", "rate_of_change", "anomaly", "forecast")
ACTIVE = (AlertState.PENDING, AlertState.FIRING)


@dataclass
class SweepReport:
    """What a sweep changed and delivered."""

    transitions: int
    notifications: int
    delivery: DeliveryReport


class AlertEngine:
    """Evaluate rules against batches and time; keep alerts, groups and the outbox."""

    def __init__(
        self,
        db: Engine,
        plan: AlertingPlan,
        *,
        store: MetricStore | None = None,
        outbox: Outbox | None = None,
        emit=emit_alert_event,  # type: ignore[no-untyped-def]
        on_firing: Sequence[FiringHook] | None = None,
        on_evaluated: Sequence[EvaluatedHook] = (),
    ) -> None:
        self.db, self.plan, self.store = db, plan, store
        self.specs = {r.name: r for r in plan.rules}
        self.ruleset = RuleSet(plan.rules)
        self.trust = TrustGate(self.specs, store)
        self.outbox = outbox or Outbox(
            db,
            plan.channels,
            backoff_first_s=plan.backoff[0],
            backoff_max_s=plan.backoff[1],
            dashboard_url=plan.dashboard_url,
        )
        self.notifier = Notifier(plan)
        self.emit = emit
        self.on_firing = ON_FIRING if on_firing is None else on_firing
        self.on_evaluated = on_evaluated
        self._lock = threading.Lock()  # one evaluation at a time in this process
        self._is_warm = store is None

    # -- entry points ---------------------------------------------------------------------

    def on_batch(self, batch: BatchWritten) -> None:
        """Judge a just-written batch; notify what became due (the fast path)."""
        now = batch.now.timestamp()
        with self._lock:
            self._warm(now)
            found = self.ruleset.observe(batch.samples)
            found += self._absence_cleared(batch.samples)
            reports = list(batch.check_results)
            for spec in self.plan.rules:
                if spec.kind == "check_state" and reports:
                    found += check_observations(spec, reports)
            changed = self._apply(found, now)
            if changed:
                changed += self._apply(self._combinations(now), now)
            call_hooks(Evaluated(now, found, reports), self.on_evaluated)
            has_news = self._notify(now, force=changed > 0)
        if has_news:
            self.outbox.kick()

    def on_external(self, found: Sequence[Observation], now: float) -> int:
        """Fold alerts posted by another system (``tasks.core.alerting.external``) into the
        lifecycle, as a batch's verdicts are; notify what became due. Return the transitions."""
        with self._lock:
            changed = self._apply(list(found), now)
            if changed:
                changed += self._apply(self._combinations(now), now)
            has_news = self._notify(now, force=changed > 0)
        if has_news:
            self.outbox.kick()
        return changed

    def sweep(self, now: float, *, deliver: bool = True) -> SweepReport:
        """Apply time-driven transitions, flush groups, escalate, deliver due notifications.

        ``deliver=False`` leaves the outbox alone (replays count messages, never send them).
        """
        with self._lock:
            self._warm(now)
            absences = self._absences(now)
            changed = self._apply(absences, now)
            changed += self._apply(self._ticks(now), now)
            changed += self._apply(self._combinations(now), now)
            call_hooks(Evaluated(now, absences), self.on_evaluated)
            with self.db.begin() as conn:
                sent = self.notifier.flush(conn, now)
        delivery = self.outbox.deliver_due(now) if deliver else DeliveryReport()
        return SweepReport(changed, sent, delivery)

    # -- observations ---------------------------------------------------------------------

    def _warm(self, now: float) -> None:
        """Fill rule windows from the store once, so a restart does not forget history."""
        if self._is_warm or self.store is None:
            return
        self._is_warm = True
        for rule in self.ruleset.windowed_rules():
            assert rule.selector is not None
            for point in self.store.range_points(rule.selector, _dt(now - rule.window_s), _dt(now)):
                key = (point.name, tuple(sorted(parse_canonical(point.labels).items())))
                self.ruleset.windows.add(rule, key, point.ts, point.value)

    def _absence_cleared(self, samples: Iterable) -> list[Observation]:  # type: ignore[type-arg]
        """A sample of a series clears its absence alert at once."""
        rules = [r for r in self.plan.rules if r.kind == "absence"]
        out = []
        for sample in samples if rules else ():
            for rule in rules:
                assert rule.selector is not None
                if rule.selector.matches(sample[0], sample[1]):
                    labels = rule.alert_labels(sample[1])
                    out.append(Observation(rule.name, labels, False, None, _epoch(sample[2])))
        return out

    def _absences(self, now: float) -> list[Observation]:
        out: list[Observation] = []
        for rule in self.plan.rules:
            if rule.kind != "absence" or self.store is None:
                continue
            assert rule.selector is not None
            seen = {
                point.labels: (parse_canonical(point.labels), point.ts)
                for point in self.store.latest_points(rule.selector)
            }
            out += absence_observations(rule, seen, now)
        return out

    def _ticks(self, now: float) -> list[Observation]:
        """Re-judge live alerts with no new data: pending expiry, keep-firing-for, staleness."""
        with self.db.connect() as conn:
            live = repo.load_live(conn)
        out = []
        stale_s = self.plan.stale_after_s * 1.25  # observed_at is refreshed every stale/4
        for row in live:
            spec = self.specs.get(row.rule)
            is_breaching = row.lifecycle.is_breaching
            if is_external(row.rule):  # not re-sent within the resolve timeout: resolved
                seen = row.observed_at if row.observed_at is not None else now
                is_breaching = is_breaching and now - seen <= self.plan.resolve_timeout_s
            elif spec is None:  # the rule left the config: its alerts resolve
                is_breaching = False
            elif spec.kind in SAMPLE_KINDS and row.observed_at is not None:
                is_breaching = is_breaching and now - row.observed_at <= stale_s
            value = row.value
            found = Observation(row.rule, row.labels, is_breaching, value, now, _for(spec), False)
            out.append(found)
        return out

    def _combinations(self, now: float) -> list[Observation]:
        out: list[Observation] = []
        combos = [r for r in self.plan.rules if r.kind in ("all", "any")]
        if not combos:
            return out
        with self.db.connect() as conn:
            firing = repo.load_in_states(conn, [AlertState.FIRING])
            live = repo.load_in_states(conn, ACTIVE, [r.name for r in combos])
        for rule in combos:
            by_rule = {src: [r.labels for r in firing if r.rule == src] for src in rule.sources}
            found = combine(rule, by_rule, now)
            holding = {fingerprint(o.labels) for o in found}
            out += found
            out += [
                Observation(r.rule, r.labels, False, None, now)
                for r in live
                if r.rule == rule.name and r.fingerprint not in holding
            ]
        return out

    # -- lifecycle ------------------------------------------------------------------------

    def _apply(self, observations: list[Observation], now: float) -> int:
        """Fold observations into alerts (compare-and-set); return the number of transitions."""
        if not observations:
            return 0
        by_fp: dict[str, list[Observation]] = {}
        for found in observations:
            by_fp.setdefault(fingerprint(found.labels), []).append(found)
        with self.db.begin() as conn:
            by_fp = self.trust.judge(conn, by_fp, now)
            live = repo.live_fingerprints(conn)
            needed = [  # a clear observation of a quiet alert changes nothing: skip its read
                fp
                for fp, found in by_fp.items()
                if fp in live or self._keeps_history(found[0].rule) or _any_breach(found)
            ]
            rows = repo.load_by_fingerprint(conn, needed)
            moves: list[tuple[AlertRow, str, str, float]] = []
            for fp in needed:
                moves += self._write(conn, fp, rows.get(fp), by_fp[fp], now)
            repo.record_transitions(
                conn,
                [
                    {
                        "alert_id": row.id,
                        "fingerprint": row.fingerprint,
                        "rule": row.rule,
                        "from_state": old,
                        "to_state": new,
                        "at": _dt(at),
                        "value": row.value,
                        "reason": "",
                    }
                    for row, old, new, at in moves
                ],
            )
            shared_counters.add(conn, _alert_counts(moves))
        for row, _, new, _ in moves:
            self._announce(row, new)
        return len(moves)

    def _write(self, conn: Connection, fp: str, row: AlertRow | None, found, now):  # type: ignore[no-untyped-def]
        """Fold into one alert and store it; on a compare-and-set conflict, re-read once."""
        for _ in range(2):
            is_new = row is None
            if row is None:
                row = AlertRow(fp, found[0].rule, found[0].labels)
            before = row.columns()
            moves = self._fold(row, found)
            if is_new:
                if row.lifecycle.state is AlertState.INACTIVE and not self._keeps_history(row.rule):
                    return []
                repo.insert_alert(conn, row, now)
                return moves
            if row.columns() == before or repo.update_alert(conn, row, now):
                return moves
            row = repo.load_by_fingerprint(conn, [fp]).get(fp)
        raise RuntimeError(f"alert {fp} keeps changing under this engine; giving up this batch")

    def _keeps_history(self, rule: str) -> bool:
        """Check-flapping alerts keep a row while inactive: it holds the check's history."""
        spec = self.specs.get(rule)
        return spec is not None and spec.kind == "check_state" and spec.state == "flapping"

    def _fold(self, row: AlertRow, found: Sequence[Observation]) -> list[tuple]:  # type: ignore[type-arg]
        """Step ``row`` through ``found`` in order; return its transitions."""
        spec = self.specs.get(row.rule)
        keep_s = spec.keep_firing_for_s if spec else 0.0
        is_check_flap = self._keeps_history(row.rule)
        clear = spec.clear_line(row.labels) if spec else None
        moves = []
        for obs in found:
            is_breaching = self._check_flap(row, obs) if is_check_flap else obs.is_breaching
            if spec is not None and clear is not None and obs.is_fresh and obs.value is not None:
                # hysteresis: an active alert stays active until the value passes `clear`
                is_breaching = is_breaching or (
                    row.lifecycle.is_breaching and holds(spec.op, clear, obs.value)
                )
            old = row.lifecycle
            new = next_lifecycle(
                old, is_breaching, now=obs.at, for_s=obs.for_s, keep_firing_for_s=keep_s
            )
            row.lifecycle = new
            if (
                obs.is_fresh
                and new.state in ACTIVE
                and (
                    row.observed_at is None
                    or is_external(row.rule)  # its resolve timeout counts from the last post
                    or obs.at - row.observed_at >= self.plan.stale_after_s / 4
                    or old.state != new.state
                )
            ):
                row.observed_at = obs.at
            if new.state is old.state:
                continue
            moves.append((row, str(old.state), str(new.state), obs.at))
            if new.state is AlertState.FIRING:
                self._on_fire(row, spec, obs, is_check_flap)
            if new.state in (AlertState.FIRING, AlertState.RESOLVED) and not is_check_flap:
                row.flap_changes = recent(
                    [*row.flap_changes, obs.at], now=obs.at, window_s=self.plan.flap[0]
                )
        if not is_check_flap and (row.is_flapping or moves):
            at = found[-1].at
            window, high, low, most = self.plan.flap
            percent = flap_percent(row.flap_changes, now=at, window_s=window, max_changes=most)
            row.is_flapping = next_flapping(row.is_flapping, percent, high=high, low=low)
        return moves

    def _on_fire(self, row: AlertRow, spec: RuleSpec | None, obs: Observation, is_check_flap):  # type: ignore[no-untyped-def]
        if not is_check_flap:
            row.value = obs.value
        row.escalation_level = 0
        row.escalation_since = None
        row.clear_ack()
        if spec is not None:
            row.annotations = {
                key: render(text, row.labels, row.value) for key, text in spec.annotations.items()
            }
        elif obs.annotations is not None:
            row.annotations = dict(obs.annotations)

    def _check_flap(self, row: AlertRow, obs: Observation) -> bool:
        """Track a check's up/down changes (``value`` 1 = down) and say whether it flaps."""
        changed = row.value is not None and obs.value is not None and obs.value != row.value
        if obs.value is not None:
            row.value = obs.value
        row.flap_changes, row.is_flapping = observe(
            row.flap_changes, row.is_flapping, at=obs.at, changed=changed, flap=self.plan.flap
        )
        return row.is_flapping

    def _announce(self, row: AlertRow, new_state: str) -> None:
        """Tell Prefect (events) and recovery (hooks) after the transition is stored."""
        if new_state not in (AlertState.FIRING, AlertState.RESOLVED):
            return
        payload = {"value": row.value, "annotations": row.annotations, "rule": row.rule}
        if self.emit is not None:
            self.emit(str(new_state), row.fingerprint, row.labels, payload)
        if new_state == AlertState.FIRING:
            spec = self.specs.get(row.rule)
            alert = FiringAlert(
                rule=row.rule,
                fingerprint=row.fingerprint,
                labels=dict(row.labels),
                value=row.value,
                fired_at=row.lifecycle.fired_at or 0.0,
                procedure=spec.procedure if spec else None,
                annotations=dict(row.annotations),
            )
            call_hooks(alert, self.on_firing)

    def _notify(self, now: float, *, force: bool) -> bool:
        with self.db.begin() as conn:
            if not force and not repo.any_group_due(conn, now):
                return False
            return self.notifier.flush(conn, now) > 0


def _any_breach(found: Sequence[Observation]) -> bool:
    return any(o.is_breaching for o in found)


def _for(spec: RuleSpec | None) -> float:
    return spec.for_s if spec else 0.0


def _epoch(ts) -> float:  # type: ignore[no-untyped-def]
    return ts if isinstance(ts, int | float) else ts.timestamp()


def _dt(ts: float):  # type: ignore[no-untyped-def]
    return repo.to_dt(ts)


def _alert_counts(moves: Sequence[tuple[AlertRow, str, str, float]]) -> list[Increment]:
    """One increment per alert that started firing or resolved, by its severity."""
    counters: dict[str, str] = {
        AlertState.FIRING: ALERTS_FIRED,
        AlertState.RESOLVED: ALERTS_RESOLVED,
    }
    return [
        (counters[new], {"severity": row.labels.get("severity", "")}, 1.0)
        for row, _, new, _ in moves
        if new in counters
    ]
