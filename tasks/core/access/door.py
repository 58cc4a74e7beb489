"""Login throttling: an exponential delay after each wrong password, then a lockout.

Decided from the audit of one user name, oldest event first, with ``now`` passed in.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from models.vocabulary.access import LoginEvent


@dataclass(frozen=True)
class DoorPolicy:
    """How hard the door is: delays double per failure up to a cap; enough failures lock."""

    lockout_after: int = 20
    lockout_for: timedelta = timedelta(minutes=15)
    first_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(seconds=60)

    def delay(self, failures: int) -> timedelta:
        """The wait after the ``failures``-th failure in a row.

        >>> [DoorPolicy().delay(n).total_seconds() for n in (1, 2, 3, 8)]
        [1.0, 2.0, 4.0, 60.0]
        """
        return min(self.first_delay * 2 ** (failures - 1), self.max_delay)


class Entry(StrEnum):
    """Whether a login attempt may be checked now."""

    OPEN = "open"  # check the password
    WAIT = "wait"  # too soon after a failure; not checked
    LOCKED = "locked"  # locked out; not checked


@dataclass(frozen=True)
class DoorState:
    """Where one user name stands."""

    entry: Entry
    failures: int  # wrong passwords in a row since the last login, unlock or lockout
    until: datetime | None = None  # when WAIT or LOCKED ends


def door_state(
    events: Iterable[tuple[datetime, LoginEvent]], policy: DoorPolicy, *, now: datetime
) -> DoorState:
    """Return whether a login for this name may be checked at ``now``.

    >>> from datetime import UTC
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> door_state([(t, LoginEvent.FAILED)], DoorPolicy(), now=t).entry
    <Entry.WAIT: 'wait'>
    >>> door_state([(t, LoginEvent.LOCKED)], DoorPolicy(), now=t + timedelta(minutes=16)).entry
    <Entry.OPEN: 'open'>
    """
    failures, last_failure, locked_until = 0, None, None
    for at, event in events:
        if event in (LoginEvent.LOGIN, LoginEvent.UNLOCKED):
            failures, locked_until = 0, None
        elif event == LoginEvent.FAILED:
            failures, last_failure = failures + 1, at
        elif event == LoginEvent.LOCKED:  # the lockout replaces the count of failures
            failures, locked_until = 0, at + policy.lockout_for
    if locked_until is not None and now < locked_until:
        return DoorState(Entry.LOCKED, failures, locked_until)
    if failures and last_failure is not None:
        ready = last_failure + policy.delay(failures)
        if now < ready:
            return DoorState(Entry.WAIT, failures, ready)
    return DoorState(Entry.OPEN, failures)
