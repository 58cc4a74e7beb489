"""Remediate-then-escalate per rule, and maintenance windows (recurring or one-off).

``rules[].remediate`` runs the rule's recovery before anyone is paged; top-level
``maintenance_windows`` keep matching alerts quiet and stop their automatic recovery.
"""

from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from pydantic import Field, field_validator, model_validator

from models.config.base import Duration, StrictModel, first_repeat
from models.errors import MatcherError
from models.vocabulary.selectors import parse_selector

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class OnFixed(StrEnum):
    """What Vigil says when the recovery fixed the problem in time."""

    SILENT = "silent"  # nothing: nobody needed to know
    NOTIFY_LOW = "notify_low"  # a "fixed automatically" note, routed as severity info


class Remediate(StrictModel):
    """Run the rule's recovery first, verify it, and page only if it is still failing."""

    first: bool = Field(
        True, description="Hold the firing page until the fix is verified or has failed."
    )
    verify_with: str | None = Field(
        None, description="Check whose UP result proves the fix; default: the rule clearing."
    )
    verify_within: Duration = Field(
        timedelta(minutes=2), description="How long the fix has to prove itself."
    )
    attempts: int = Field(3, ge=1, description="Recoveries within `window` before giving up.")
    window: Duration = Field(timedelta(hours=1), description="The window `attempts` counts in.")
    reset_after_healthy: int = Field(
        5, ge=1, description="Consecutive healthy cycles that reset the attempt count."
    )
    on_fixed: OnFixed = Field(OnFixed.SILENT, description="silent or notify_low.")


class MaintenanceWindow(StrictModel):
    """A planned window: matching alerts stay quiet and their automatic recovery is skipped.

    Either ``schedule`` (cron, five fields, in ``timezone``) with ``duration``, or a
    one-off ``start`` and ``end`` (read in ``timezone`` when written without an offset).
    """

    name: str = Field(pattern=NAME_PATTERN, description="Shown in skips and `vigil maintenance`.")
    match: str = Field(description='Label matchers, like silences: {target="db"}.')
    schedule: str | None = Field(None, description='Cron of each start, e.g. "0 2 * * *".')
    duration: Duration | None = Field(None, description="How long each scheduled window lasts.")
    start: datetime | None = Field(None, description="One-off window: start.")
    end: datetime | None = Field(None, description="One-off window: end.")
    timezone: str = Field("UTC", description="IANA zone of the schedule, e.g. Europe/Berlin.")
    comment: str = Field("", description="Why; shown by `vigil maintenance list`.")

    @field_validator("match")
    @classmethod
    def _matchers_ok(cls, text: str) -> str:
        try:
            selector = parse_selector(text)
        except MatcherError as exc:
            raise ValueError(str(exc)) from None
        if selector.name is not None:
            raise ValueError(f"{text!r} names a metric; write label matchers only, like {{a='b'}}")
        return text

    @field_validator("timezone")
    @classmethod
    def _zone_ok(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}; write an IANA name like UTC") from None
        return name

    @field_validator("schedule")
    @classmethod
    def _cron_ok(cls, text: str | None) -> str | None:
        if text is not None:
            try:
                CronSim(text, datetime(2026, 1, 1))
            except CronSimError as exc:
                raise ValueError(f"{text!r} is not a cron schedule: {exc}") from None
        return text

    @model_validator(mode="after")
    def _one_kind(self) -> "MaintenanceWindow":
        if self.schedule is not None:
            if self.duration is None or self.duration <= timedelta(0):
                raise ValueError("a scheduled window needs `duration:`, e.g. 1h")
            if self.start is not None or self.end is not None:
                raise ValueError("write either `schedule:` and `duration:`, or `start:` and `end:`")
            return self
        if self.start is None or self.end is None:
            raise ValueError("a window needs `schedule:` and `duration:`, or `start:` and `end:`")
        if self.local(self.end) <= self.local(self.start):
            raise ValueError("end must be after start")
        return self

    def local(self, moment: datetime) -> datetime:
        """``moment`` with its zone: as written, or ``timezone`` when written without one."""
        return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(self.timezone))


def remediation_problem(config) -> tuple[tuple[str | int, ...], str] | None:  # type: ignore[no-untyped-def]
    """Return (field path, message) of the first incomplete ``remediate:``, or None."""
    checks = {c.name for c in config.checks}
    for index, rule in enumerate(config.rules):
        if rule.remediate is None:
            continue
        if not any(rule.name in p.triggers or p.name == rule.procedure for p in config.procedures):
            return (
                ("rules", index, "remediate"),
                f"rule {rule.name!r} has nothing to remediate with: name a `procedure:` "
                "or list the rule in a procedure's `triggers:`",
            )
        verify = rule.remediate.verify_with
        if verify is not None and verify not in checks:
            known = ", ".join(sorted(checks)) or "none"
            return (
                ("rules", index, "remediate", "verify_with"),
                f"unknown check {verify!r}; known: {known}",
            )
    repeat = first_repeat(w.name for w in config.maintenance_windows)
    if repeat:
        return ("maintenance_windows", repeat[0], "name"), f"window {repeat[1]!r} is defined twice"
    return None
