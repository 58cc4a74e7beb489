"""From firing alerts to outbox messages: muting, grouping, flushing, escalation; each
message shaped for its channel's medium (tasks.core.notify.shape)."""

from dataclasses import dataclass

from sqlalchemy import Connection

from models.alerting import AlertEventKind
from models.vocabulary.labels import canonical_labels
from models.vocabulary.media import Medium
from tasks.alerting import store as repo
from tasks.alerting.charts import alert_charts
from tasks.alerting.muting import gather_scene
from tasks.alerting.plan import AlertingPlan
from tasks.alerting.store import AlertRow, GroupRow
from tasks.core.alerting.escalation import reached_level
from tasks.core.alerting.grouping import FlushPlan, group_labels, plan_flush
from tasks.core.alerting.lifecycle import AlertState
from tasks.core.alerting.messages import AlertView, Links
from tasks.core.alerting.muting import AlertFacts, mutes_of
from tasks.core.alerting.routing import RouteSpec, matching_routes
from tasks.core.notify.shape import Notice, shape
from tasks.notify.outbox import Message, enqueue
from tasks.recovery.remediation_store import load as remediation_load
from tasks.recovery.remediation_store import muted as remediation_muted


@dataclass(frozen=True)
class Muting:
    """Why firing alerts stay quiet right now."""

    quiet: frozenset[str]  # silenced, maintenance, DOWN parent, inhibited, fixed, acked: not told
    held: frozenset[str]  # awaiting its fix's verdict, flapping, or within its notify delay


class Notifier:
    """Turn the stored alert state into outbox messages, once per group change."""

    def __init__(self, plan: AlertingPlan) -> None:
        self.plan = plan
        self._charts: dict[str, bytes] = {}  # this flush's email charts, by fingerprint
        self._charting: tuple[Connection, float] | None = None  # during a flush

    def flush(self, conn: Connection, now: float) -> int:
        """Flush due groups and escalate; enqueue messages; return how many."""
        self._charts, self._charting = {}, (conn, now)
        try:
            return self._flush(conn, now)
        finally:
            self._charts, self._charting = {}, None

    def _flush(self, conn: Connection, now: float) -> int:
        firing = repo.load_in_states(conn, [AlertState.FIRING])
        messages = self._expire_acks(conn, firing, now)
        groups = repo.load_groups(conn)
        told = set().union(*(g.state.notified for g in groups.values()))
        others = repo.load_by_fingerprint(conn, told - {r.fingerprint for r in firing})
        muting = self._muting(conn, firing, list(others.values()), told, now)
        members = self._members(conn, firing, muting)
        for key in members.keys() - groups.keys():
            wait_s = self._route(key[0]).timers.group_wait_s
            groups[key] = repo.insert_group(conn, key[0], key[1], now + wait_s)
        rows = {r.fingerprint: r for r in firing} | others
        resolved = frozenset(
            fp for fp in told if fp not in rows or rows[fp].lifecycle.state != AlertState.FIRING
        )
        for key, group in groups.items():
            messages += self._flush_group(
                conn, group, members.get(key, set()), resolved, muting, rows, now
            )
        messages += self._escalate(conn, firing, muting, now)
        messages += self._resolve_escalated(conn, muting, now)
        enqueue(conn, messages, now)
        return len(messages)

    def _expire_acks(self, conn: Connection, firing: list[AlertRow], now: float) -> list[Message]:
        """End acknowledgements that ran out; re-notify the alerts that still fire.

        The notice counts as their groups' last notification, so no repeat follows at once.
        """
        expired = [r for r in firing if r.ack_by is not None and not r.is_acknowledged(now)]
        if not expired:
            return []
        quiet = self._muting(conn, firing, [], set(), now).quiet
        out = []
        for row in expired:
            expired_at, by = row.ack_expires_at or now, row.ack_by  # set: it expired
            row.clear_ack()
            row.escalation_since = expired_at
            if not repo.update_alert(conn, row, now):
                continue  # changed meanwhile: the next pass decides again
            detail = f"the acknowledgement of {by} ran out"
            repo.record_event(conn, row, AlertEventKind.ACK_EXPIRED, expired_at, "vigil", detail)
            is_muted = row.fingerprint in quiet or row.is_flapping
            if repo.restart_repeats(conn, row.fingerprint, now) and not is_muted:
                out += self._to_routes("ack_expired", row)  # not told yet: its group tells it
        return out

    def _to_routes(self, kind: str, row: AlertRow) -> list[Message]:
        channels = {
            c: None
            for i in matching_routes(row.labels, self.plan.routes)
            for c in self._route(i).channels
        }
        view = self._view(row)
        return [self._message(c, kind, [view], [], [row.fingerprint]) for c in channels]

    def _message(self, channel, kind, firing, resolved, fingerprints) -> Message:  # type: ignore[no-untyped-def]
        """One notice shaped for ``channel``'s medium, with the user's template if any."""
        spec = self.plan.channels.get(channel)
        medium = spec.medium if spec else Medium.TEXT
        charts = self._charts_of([*firing, *resolved]) if medium is Medium.EMAIL else {}
        notice = Notice(kind, firing, resolved, self._links(), charts)
        shaped = shape(medium, notice, self.plan.templates.get(medium))
        return Message(channel, kind, shaped.title, shaped.body, fingerprints, shaped.notify_type)

    def _charts_of(self, views: list[AlertView]) -> dict[str, bytes]:
        """The last hour's chart of each alert's series (drawn once per flush)."""
        if self._charting is None:
            return {}
        conn, now = self._charting
        missing = [v for v in views if v.fingerprint not in self._charts]
        self._charts |= dict.fromkeys((v.fingerprint for v in missing), b"")
        self._charts |= alert_charts(conn, self.plan.rules, missing, now)
        return {
            v.fingerprint: self._charts[v.fingerprint] for v in views if self._charts[v.fingerprint]
        }

    def _route(self, index: int) -> RouteSpec:
        routes = self.plan.routes
        return routes[index] if index < len(routes) else routes[-1]

    def _muting(
        self,
        conn: Connection,
        firing: list[AlertRow],
        others: list[AlertRow],
        told: set[str],
        now: float,
    ) -> Muting:
        """Gather the facts of the firing and the ``others`` told alerts; decide each one."""
        scene = gather_scene(conn, self.plan, firing, now)
        fixed, verifying = remediation_muted(conn, self.plan.remediate, firing, now)
        quiet, held = set(), set()
        for row in [*firing, *others]:
            fp = row.fingerprint
            facts = AlertFacts(
                row.labels,
                row.lifecycle,
                self.plan.notify_delays.get(row.rule, (0.0, 0.0)),
                was_told=fp in told,
                is_acknowledged=row.is_acknowledged(now),
                is_flap_damped=row.is_flapping and not self._is_check_flap(row),
                remediation="quiet" if fp in fixed else "held" if fp in verifying else None,
            )
            mutes = mutes_of(facts, scene, now=now)
            if mutes.quiet is not None:
                quiet.add(fp)
            if mutes.held is not None:
                held.add(fp)
        return Muting(frozenset(quiet), frozenset(held))

    def _is_check_flap(self, row: AlertRow) -> bool:
        spec = next((r for r in self.plan.rules if r.name == row.rule), None)
        return spec is not None and spec.kind == "check_state" and spec.state == "flapping"

    def _members(
        self, conn: Connection, firing: list[AlertRow], muting: Muting
    ) -> dict[tuple[int, str], set[str]]:
        members: dict[tuple[int, str], set[str]] = {}
        incidents = self._incidents(conn, firing)
        for row in firing:
            if row.fingerprint in muting.quiet or row.fingerprint in muting.held:
                continue
            for index in matching_routes(row.labels, self.plan.routes):
                route = self.plan.routes[index]
                incident = incidents.get(row.fingerprint) if route.per_incident else None
                labels = (
                    {"incident": str(incident)}
                    if incident is not None
                    else group_labels(row.labels, route.group_by)
                )
                members.setdefault((index, canonical_labels(labels)), set()).add(row.fingerprint)
        return members

    def _incidents(self, conn: Connection, firing: list[AlertRow]) -> dict[str, int]:
        """Each firing alert's open incident, when a route groups by incident."""
        if not firing or not any(r.per_incident for r in self.plan.routes):
            return {}
        from tasks.alerting.incidents import incident_of

        return incident_of(conn, [r.fingerprint for r in firing])

    def _flush_group(
        self, conn, group: GroupRow, members, resolved, muting, rows, now
    ) -> list[Message]:  # type: ignore[no-untyped-def]
        route = self._route(group.route)
        flush, after = plan_flush(
            group.state,
            frozenset(members),
            resolved,
            now=now,
            timers=route.timers,
            held=muting.held,
            quiet=muting.quiet,
        )
        if flush is None and after == group.state:
            return []
        if not after.notified and not members:
            if not repo.delete_group(conn, group):
                return []  # another worker flushed this group first
        elif not repo.update_group(conn, group, after):
            return []  # another worker flushed this group first
        return self._messages(conn, route, flush, rows) if flush else []

    def _messages(
        self, conn: Connection, route: RouteSpec, flush: FlushPlan, rows: dict[str, AlertRow]
    ) -> list[Message]:
        firing = [self._view(rows[fp]) for fp in flush.firing]
        resolved = [self._view(rows[fp], conn) for fp in flush.resolved if fp in rows]
        kind = "repeat" if flush.is_repeat else ("firing" if firing else "resolved")
        out = []
        for channel in route.channels:
            told_resolved = resolved if self.plan.send_resolved.get(channel, True) else []
            if not firing and not told_resolved:
                continue
            fps = [*flush.firing, *(v.fingerprint for v in told_resolved)]
            out.append(self._message(channel, kind, firing, told_resolved, fps))
        return out

    def _escalate(
        self, conn: Connection, firing: list[AlertRow], muting: Muting, now: float
    ) -> list[Message]:
        out = []
        for row in firing:
            if row.fingerprint in muting.quiet or row.fingerprint in muting.held:
                continue
            route = self._escalation_route(row)
            fired_at = row.lifecycle.fired_at
            if route is None or fired_at is None:
                continue
            first_page_at = fired_at + self.plan.notify_delays.get(row.rule, (0.0, 0.0))[0]
            level = reached_level(
                [after for after, _ in route.escalation],
                fired_at=max(row.escalation_since or fired_at, first_page_at),
                current_level=row.escalation_level,
                is_acknowledged=row.is_acknowledged(now),
                now=now,
            )
            if level <= row.escalation_level:
                continue
            reached = route.escalation[row.escalation_level : level]
            row.escalation_level = level
            if not repo.update_alert(conn, row, now):
                continue  # changed meanwhile (acknowledged?): the next pass decides again
            view = self._view(row)
            out += [
                self._message(channel, "escalation", [view], [], [row.fingerprint])
                for _, channels in reached
                for channel in channels
            ]
        return out

    def _resolve_escalated(self, conn: Connection, muting: Muting, now: float) -> list[Message]:
        """Tell the escalation levels an alert reached that it resolved (once)."""
        out = []
        for row in repo.load_escalated(conn, [AlertState.RESOLVED, AlertState.INACTIVE]):
            if row.fingerprint in muting.held:
                continue
            channels = self._escalated_channels(row)
            row.escalation_level = 0
            if not repo.update_alert(conn, row, now):
                continue
            view = self._view(row, conn)
            out += [
                self._message(channel, "resolved", [], [view], [row.fingerprint])
                for channel in channels
                if self.plan.send_resolved.get(channel, True)
            ]
        return out

    def _escalation_route(self, row: AlertRow) -> RouteSpec | None:
        """The first route of ``row`` with an escalation policy: the one that pages it."""
        taken = matching_routes(row.labels, self.plan.routes)
        return next((self._route(i) for i in taken if self._route(i).escalation), None)

    def _escalated_channels(self, row: AlertRow) -> list[str]:
        """Channels of the escalation levels ``row`` reached, beyond its routes' own."""
        route = self._escalation_route(row)
        if route is None:
            return []
        routed = {
            c
            for i in matching_routes(row.labels, self.plan.routes)
            for c in self._route(i).channels
        }
        paged = dict.fromkeys(
            c for _, channels in route.escalation[: row.escalation_level] for c in channels
        )
        return [c for c in paged if c not in routed]

    def _view(self, row: AlertRow, conn: Connection | None = None) -> AlertView:
        """The alert as a message sees it; with ``conn``, also who or what fixed it."""
        lc = row.lifecycle
        fixed_by = None if conn is None else _fixed_by(conn, row)
        return AlertView(
            row.fingerprint,
            row.labels,
            row.value,
            lc.fired_at,
            lc.resolved_at,
            row.annotations,
            fixed_by,
        )

    def _links(self) -> Links:
        return Links(self.plan.dashboard_url, prefect_run_url(self.plan.prefect_ui_url))


def _fixed_by(conn: Connection, row: AlertRow) -> str | None:
    """The recovery run that fixed a resolved alert, else who acknowledged it, if anyone."""
    remedy = remediation_load(conn, row.fingerprint)
    if remedy is not None and remedy.run_ids and remedy.state.episode == row.lifecycle.fired_at:
        return f"recovery run {remedy.run_ids[-1]}"
    return f"{row.ack_by} (acknowledged it)" if row.ack_by else None


def prefect_run_url(ui_url: str | None) -> str | None:
    """Link to the Prefect flow run this code runs in (collect, checks, sweep), if any."""
    if not ui_url:
        return None
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return None
    return f"{ui_url.rstrip('/')}/runs/flow-run/{context.flow_run.id}"
