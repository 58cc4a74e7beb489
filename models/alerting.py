"""Alerting tables: alerts, their transitions and events, groups, silences, the outbox."""

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


def _ts(nullable: bool = True, index: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), nullable=nullable, index=index)


class Alert(SQLModel, table=True):
    """One alert, identified by the fingerprint of its labels; updated compare-and-set."""

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(max_length=32, unique=True)
    rule: str = Field(max_length=255, index=True)
    labels: str = Field(sa_column=Column(Text, nullable=False), description="Canonical JSON.")
    annotations: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    state: str = Field(max_length=16, index=True, description="AlertState.")
    value: float | None = None
    active_since: datetime | None = Field(default=None, sa_column=_ts())
    fired_at: datetime | None = Field(default=None, sa_column=_ts())
    cleared_at: datetime | None = Field(default=None, sa_column=_ts())
    resolved_at: datetime | None = Field(default=None, sa_column=_ts())
    observed_at: datetime | None = Field(default=None, sa_column=_ts())
    is_flapping: bool = False
    flap_changes: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    ack_by: str | None = Field(default=None, max_length=255)
    ack_at: datetime | None = Field(default=None, sa_column=_ts())
    ack_comment: str | None = Field(default=None, sa_column=Column(Text))
    ack_expires_at: datetime | None = Field(
        default=None, sa_column=_ts(), description="None: until the alert resolves."
    )
    escalation_level: int = 0
    escalation_since: datetime | None = Field(
        default=None, sa_column=_ts(), description="Escalation counts from here (None: fired_at)."
    )
    version: int = 0
    updated_at: datetime = Field(default_factory=_now, sa_column=_ts(nullable=False))


class AlertTransition(SQLModel, table=True):
    """Every state change of every alert, in order."""

    __tablename__ = "alert_transition"

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(index=True)
    fingerprint: str = Field(max_length=32)
    rule: str = Field(max_length=255)
    from_state: str = Field(max_length=16)
    to_state: str = Field(max_length=16)
    at: datetime = Field(sa_column=_ts(nullable=False))
    value: float | None = None
    reason: str = Field(default="", max_length=255)


class AlertEventKind(StrEnum):
    """What a person (or time) did to an alert, besides its state changes."""

    ACKNOWLEDGED = "acknowledged"  # someone took it (actor, comment, optional expiry)
    UNACKNOWLEDGED = "unacknowledged"  # someone gave it back
    ACK_EXPIRED = "ack_expired"  # the acknowledgement ran out while the alert still fired
    DISMISSED = "dismissed"  # someone dismissed it as a false positive (actor, comment, until)


class AlertEvent(SQLModel, table=True):
    """Acknowledgements and their end, in order (the alert row keeps only the current one)."""

    __tablename__ = "alert_event"

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(index=True)
    fingerprint: str = Field(max_length=32)
    kind: str = Field(max_length=32, description="AlertEventKind.")
    at: datetime = Field(sa_column=_ts(nullable=False))
    actor: str = Field(default="vigil", max_length=255)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))


class AlertGroup(SQLModel, table=True):
    """A notification group of one route: its timers and what it last told."""

    __tablename__ = "alert_group"
    __table_args__ = (UniqueConstraint("route", "group_key", name="uq_alert_group_route_key"),)

    id: int | None = Field(default=None, primary_key=True)
    route: int
    group_key: str = Field(sa_column=Column(Text, nullable=False), description="Canonical JSON.")
    next_flush_at: datetime = Field(sa_column=_ts(nullable=False, index=True))
    last_notified_at: datetime | None = Field(default=None, sa_column=_ts())
    notified: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    repeats: int = Field(default=0, description="Repeats sent since the group last changed.")
    version: int = 0


class Silence(SQLModel, table=True):
    """An operator's silence: label matchers over a time span; it expires by itself."""

    id: int | None = Field(default=None, primary_key=True)
    matchers: str = Field(sa_column=Column(Text, nullable=False), description='{a="b", …}')
    starts_at: datetime = Field(sa_column=_ts(nullable=False))
    ends_at: datetime = Field(sa_column=_ts(nullable=False, index=True))
    created_by: str = Field(max_length=255)
    comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=_now, sa_column=_ts(nullable=False))
    expired_by: str | None = Field(default=None, max_length=255, description="Who ended it early.")


class DeliveryStatus(StrEnum):
    """Where a notification is in the outbox."""

    PENDING = "pending"  # waiting for its (next) attempt
    SENDING = "sending"  # claimed by a deliverer; reclaimed if it stays here too long
    SENT = "sent"  # the channel accepted it
    FAILED = "failed"  # cannot ever succeed (unknown channel, bad URL, missing secret)
    SUPPRESSED = "suppressed"  # over the channel's rate limit, after its summary: not sent


class Notification(SQLModel, table=True):
    """One message to one channel; kept after delivery as the notification history."""

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=255, description="Channel name; its URL stays in config.")
    kind: str = Field(
        max_length=16, description="firing, repeat, resolved, escalation or ack_expired."
    )
    title: str = Field(sa_column=Column(Text, nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    fingerprints: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    status: str = Field(default=DeliveryStatus.PENDING, max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=_ts(nullable=False, index=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=_now, sa_column=_ts(nullable=False))
    claimed_at: datetime | None = Field(default=None, sa_column=_ts())
    sent_at: datetime | None = Field(default=None, sa_column=_ts())
    notify_type: str = Field(
        default="info", max_length=16, description="apprise's: info, success, warning, failure."
    )


class ChannelBreaker(SQLModel, table=True):
    """A channel's circuit breaker, shared by every process that delivers (compare-and-set)."""

    __tablename__ = "channel_breaker"

    channel: str = Field(primary_key=True, max_length=255)
    state: str = Field(max_length=16, description="closed, open or half_open.")
    failures: int = 0
    opened_at: datetime | None = Field(default=None, sa_column=_ts())
    version: int = 0
