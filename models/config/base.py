"""Shared parts of the vigil.yaml schema: strict models, durations, labels."""

from collections.abc import Iterable
from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from models.vocabulary.durations import format_duration, parse_duration, seconds_to_duration
from models.vocabulary.labels import LABEL_NAME_RE


class LocatedValueError(ValueError):
    """A cross-field problem that knows which field it is about."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


class StrictModel(BaseModel):
    """A config section: unknown keys are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _to_timedelta(value: object) -> object:
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration; write it like 30s, 5m or 1h")
    if isinstance(value, int | float):
        return seconds_to_duration(value)
    return value


Duration = Annotated[
    timedelta,
    BeforeValidator(_to_timedelta),
    PlainSerializer(format_duration, return_type=str),
]
"""A duration written as ``30s``, ``5m``, ``1h30m``, ``7d`` (or a number of seconds)."""


def _check_label_name(name: str) -> str:
    if not LABEL_NAME_RE.fullmatch(name) or name.startswith("__"):
        raise ValueError(
            f"label name {name!r} must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __"
        )
    return name


LabelName = Annotated[str, AfterValidator(_check_label_name)]
Labels = dict[LabelName, str]
"""A label set: names like Prometheus label names, values strings."""


def first_repeat(names: Iterable[str]) -> tuple[int, str] | None:
    """Return ``(index, name)`` of the first name seen before, or None (in linear time).

    >>> first_repeat(["a", "b", "a"])
    (2, 'a')
    """
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            return index, name
        seen.add(name)
    return None


class Breaker(StrictModel):
    """A circuit breaker (channel, scrape target, recovery HTTP step): stop calling a callee
    after consecutive failures, probe it once after the cool-down."""

    failures: int = Field(3, ge=1, description="Consecutive failures that open it.")
    cooldown: Duration = Field(timedelta(minutes=1), description="Open this long, then probe.")
