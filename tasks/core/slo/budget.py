"""Error budgets and burn rates: the SRE workbook's arithmetic over tallied windows.

A burn rate is the window's error ratio over the ratio the objective allows: 1 spends the
budget exactly over the SLO window, 14.4 spends 2 % of a 30-day budget in an hour.
"""

from dataclasses import dataclass

from tasks.core.slo.timeline import Tally, Timeline


@dataclass(frozen=True)
class BurnPair:
    """Alert when both windows (seconds) burn at ``factor`` or faster."""

    name: str
    long_s: float
    short_s: float
    factor: float


@dataclass(frozen=True)
class Objective:
    """An SLO as plain numbers: target as a share (0.999) and its window in seconds."""

    name: str
    target: float
    window_s: float
    pairs: tuple[BurnPair, ...] = ()

    @property
    def error_budget(self) -> float:
        """The share that may be bad (0.001 for 0.999)."""
        return 1.0 - self.target


@dataclass(frozen=True)
class PairBurn:
    """One pair's burn rates now; it fires when both reach the factor."""

    pair: BurnPair
    long_rate: float
    short_rate: float

    @property
    def rate(self) -> float:
        """The pair's burn: the smaller of its two windows' rates."""
        return min(self.long_rate, self.short_rate)

    @property
    def is_burning(self) -> bool:
        """Both windows at or above the factor."""
        return self.rate >= self.pair.factor


@dataclass(frozen=True)
class SloStatus:
    """An SLO at one instant: its SLI, its budget and how fast it burns."""

    objective: Objective
    at: float
    window: Tally
    allowed_bad: float
    burns: tuple[PairBurn, ...]

    @property
    def sli(self) -> float | None:
        """Good over total within the window (None before any data)."""
        return self.window.good / self.window.total if self.window.total > 0 else None

    @property
    def budget_remaining(self) -> float:
        """The share of the error budget left (negative once overspent)."""
        return budget_remaining(self.window.bad, self.allowed_bad)


def burn_rate(tally: Tally, error_budget: float) -> float:
    """How many times faster than sustainable ``tally`` spends the budget.

    >>> round(burn_rate(Tally(good=98, total=100), 0.001), 6)
    20.0
    """
    return tally.error_ratio / error_budget


def allowed_bad(objective: Objective, window: Tally, *, is_time_based: bool) -> float:
    """The budget in the window's unit: bad seconds of the whole window, or bad events.

    A time-based budget counts the whole window (43.2 min for 99.9 % over 30 days) even
    before the window has filled; an event budget is a share of the events seen.

    >>> round(allowed_bad(Objective("a", 0.999, 30 * 86400), Tally(0, 0), is_time_based=True))
    2592
    """
    base = objective.window_s if is_time_based else window.total
    return objective.error_budget * base


def budget_remaining(bad: float, allowed: float) -> float:
    """1 - bad / allowed; 1.0 when nothing was allowed and nothing was bad.

    >>> budget_remaining(648, 2592)
    0.75
    """
    if allowed <= 0:
        return 1.0 if bad <= 0 else float("-inf")
    return 1.0 - bad / allowed


def slo_status(objective: Objective, timeline: Timeline, now: float) -> SloStatus:
    """Judge ``objective`` at ``now``: the window's tally, the budget, every pair's burn."""
    window = timeline.tally(now - objective.window_s, now)
    budget = objective.error_budget
    burns = tuple(
        PairBurn(
            pair,
            burn_rate(timeline.tally(now - pair.long_s, now), budget),
            burn_rate(timeline.tally(now - pair.short_s, now), budget),
        )
        for pair in objective.pairs
    )
    allowed = allowed_bad(objective, window, is_time_based=timeline.is_time_based)
    return SloStatus(objective, now, window, allowed, burns)


def burn_down(
    objective: Objective, timeline: Timeline, times: list[float]
) -> list[tuple[float, float]]:
    """Budget remaining at each of ``times`` (each over its own rolling window)."""
    out = []
    for at in times:
        window = timeline.tally(at - objective.window_s, at)
        allowed = allowed_bad(objective, window, is_time_based=timeline.is_time_based)
        out.append((at, budget_remaining(window.bad, allowed)))
    return out
