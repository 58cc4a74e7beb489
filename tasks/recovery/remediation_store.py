"""Remediation rows in the store (SQLAlchemy Core), compare-and-set, and what they mute."""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection, insert, or_, select, update

from models.remediation import RemediationState
from tasks.alerting.store import AlertRow, to_dt, to_ts
from tasks.core.recovery.remediation import Phase, Policy, Remediation, muting

TABLE = RemediationState.__table__  # type: ignore[attr-defined]


@dataclass
class RemediationRow:
    """The remediation of one alert as the adapters work on it."""

    fingerprint: str
    rule: str
    target: str
    state: Remediation = field(default_factory=Remediation)
    run_ids: list[int] = field(default_factory=list)
    id: int | None = None
    version: int = 0

    def columns(self) -> dict:
        """The row's mutable columns, ready to write."""
        s = self.state
        return {
            "phase": str(s.phase),
            "attempts": json.dumps(list(s.attempts)),
            "healthy_cycles": s.healthy_cycles,
            "episode_at": to_dt(s.episode),
            "deadline": to_dt(s.deadline),
            "run_ids": json.dumps(self.run_ids),
        }


def _row(found) -> RemediationRow:  # type: ignore[no-untyped-def]
    m = found._mapping
    state = Remediation(
        Phase(m["phase"]),
        tuple(json.loads(m["attempts"])),
        m["healthy_cycles"],
        to_ts(m["episode_at"]),
        to_ts(m["deadline"]),
    )
    run_ids = json.loads(m["run_ids"])
    return RemediationRow(
        m["fingerprint"], m["rule"], m["target"], state, run_ids, m["id"], m["version"]
    )


def load(conn: Connection, fingerprint: str) -> RemediationRow | None:
    """Return the remediation of one alert, or None when it never started."""
    found = conn.execute(select(TABLE).where(TABLE.c.fingerprint == fingerprint)).first()
    return None if found is None else _row(found)


def load_open(conn: Connection, rules: Iterable[str]) -> list[RemediationRow]:
    """Return the remediations of ``rules``' alerts that are in flight or still count attempts."""
    query = (
        select(TABLE)
        .where(TABLE.c.rule.in_(list(rules)))
        .where(or_(TABLE.c.phase != str(Phase.IDLE), TABLE.c.attempts != "[]"))
        .order_by(TABLE.c.id)
    )
    return [_row(found) for found in conn.execute(query)]


def save(conn: Connection, row: RemediationRow, now: float) -> bool:
    """Insert or compare-and-set ``row``; False when another worker changed it first."""
    values = row.columns() | {"updated_at": to_dt(now)}
    if row.id is None:
        keys = {"fingerprint": row.fingerprint, "rule": row.rule, "target": row.target}
        row.id = conn.execute(
            insert(TABLE).values(**keys, **values, version=0).returning(TABLE.c.id)
        ).scalar_one()
        return True
    done = conn.execute(
        update(TABLE)
        .where(TABLE.c.id == row.id, TABLE.c.version == row.version)
        .values(**values, version=row.version + 1)
    )
    if done.rowcount == 1:
        row.version += 1
    return bool(done.rowcount == 1)


def muted(
    conn: Connection, policies: Mapping[str, Policy], firing: Iterable[AlertRow], now: float
) -> tuple[frozenset[str], frozenset[str]]:
    """Return (quiet, held) fingerprints: fixed in time, or waiting for a verdict."""
    ours = {r.fingerprint: r for r in firing if r.rule in policies}
    if not ours:
        return frozenset(), frozenset()
    # Only these phases mute; they are few, so read them all rather than name 1,000s of alerts.
    query = select(TABLE).where(TABLE.c.phase.in_([str(Phase.VERIFYING), str(Phase.FIXED)]))
    quiet, held = set(), set()
    for found in conn.execute(query):
        row = _row(found)
        alert = ours.get(row.fingerprint)
        if alert is None:
            continue
        how = muting(policies[alert.rule], row.state, fired_at=alert.lifecycle.fired_at, now=now)
        if how == "quiet":
            quiet.add(row.fingerprint)
        elif how == "held":
            held.add(row.fingerprint)
    return frozenset(quiet), frozenset(held)
