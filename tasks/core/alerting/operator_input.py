"""Check an operator's acknowledgement, silence or dismissal once, for every door to it.

The CLI, the dashboard and the HTTP API to come hand the raw input here and store only
what comes back; a refusal (``OperatorInputError``, or ``MatcherError`` for matchers that
do not parse) says what to write instead, in the same words at every door.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from models.errors import OperatorInputError
from models.vocabulary.selectors import parse_selector


@dataclass(frozen=True)
class Acknowledgement:
    """An acknowledgement to store: why, and until when (None: until the alert resolves)."""

    comment: str
    expires_at: datetime | None


@dataclass(frozen=True)
class Silence:
    """A silence to store: its matchers, span and comment."""

    matchers: str
    starts_at: datetime
    ends_at: datetime
    comment: str


@dataclass(frozen=True)
class Dismissal:
    """A dismissal to store: the rule stays quiet on the series until ``until``."""

    comment: str
    until: datetime


def acknowledgement(comment: str, *, lasting: timedelta | None, now: datetime) -> Acknowledgement:
    """Accept an acknowledgement with a comment, lasting ``lasting`` (None: until resolved).

    >>> from datetime import UTC
    >>> acknowledgement(" ", lasting=None, now=datetime(2026, 3, 1, tzinfo=UTC))
    Traceback (most recent call last):
    ...
    models.errors.OperatorInputError: write a comment: what is being done about it
    """
    if not comment.strip():
        raise OperatorInputError("write a comment: what is being done about it")
    if lasting is None:
        return Acknowledgement(comment.strip(), None)
    return Acknowledgement(comment.strip(), now + _positive(lasting, "the acknowledgement"))


def silence(matchers: str, *, lasting: timedelta, comment: str, now: datetime) -> Silence:
    """Accept a silence of at least one label matcher for a positive ``lasting``.

    Raises:
        MatcherError: the matchers do not parse (the message says where).
        OperatorInputError: no matcher, or a span that is not positive.
    """
    if not parse_selector(matchers).matchers:
        raise OperatorInputError('give at least one label matcher, like {target="db-1"}')
    return Silence(matchers, now, now + _positive(lasting, "the silence"), comment.strip())


def dismissal(comment: str, *, lasting: timedelta, now: datetime) -> Dismissal:
    """Accept a dismissal of an alert as a false positive for a positive ``lasting``."""
    return Dismissal(comment.strip(), now + _positive(lasting, "the dismissal"))


def _positive(lasting: timedelta, what: str) -> timedelta:
    if lasting <= timedelta(0):
        raise OperatorInputError(f"{what} must last longer than 0s")
    return lasting
