"""SLO figures for people: the table of every SLO and one SLO's budget burn-down.

Computed from the store at the time asked (reads only), so the CLI, the dashboard, reports
and a later API show the same numbers whether or not the `slo` flow has run.
"""

from models.config.root import VigilConfig
from models.config.slo import Slo
from models.store import MetricStore
from tasks.core.slo.budget import SloStatus, burn_down, slo_status
from tasks.slo.source import load_timeline, objective_of


def slo_rows(config: VigilConfig, store: MetricStore, now: float) -> list[dict]:
    """One row per SLO: objective, SLI, budget remaining and each burn-rate pair's rate."""
    return [status_row(slo, judge(store, slo, now)) for slo in config.slos]


def judge(store: MetricStore, slo: Slo, now: float) -> SloStatus:
    """The SLO's status at ``now`` (epoch seconds)."""
    objective = objective_of(slo)
    timeline = load_timeline(store, slo, now - objective.window_s, now)
    return slo_status(objective, timeline, now)


def status_row(slo: Slo, status: SloStatus) -> dict:
    """The status as a flat row (shares, not percents; ``None`` SLI before any data)."""
    return {
        "slo": slo.name,
        "source": f"check {slo.check}" if slo.check else f"{slo.good} / {slo.total}",
        "target": slo.target / 100,
        "window_days": slo.window.total_seconds() / 86400,
        "sli": status.sli,
        "budget_remaining": status.budget_remaining,
        "bad": status.window.bad,
        "allowed_bad": status.allowed_bad,
        "unit": "seconds" if slo.check else "events",
        "burning": [b.pair.name for b in status.burns if b.is_burning],
        "burn_rates": {b.pair.name: (b.long_rate, b.short_rate) for b in status.burns},
    }


def budget_burn_down(
    store: MetricStore, slo: Slo, now: float, points: int = 120
) -> list[tuple[float, float]]:
    """``(epoch seconds, budget remaining)`` at ``points`` instants over the SLO's window."""
    return slo_figures(store, slo, now, points)[1]


def slo_figures(
    store: MetricStore, slo: Slo, now: float, points: int = 120
) -> tuple[dict, list[tuple[float, float]]]:
    """The SLO's row (``status_row``) and its burn-down, from one read of its data."""
    objective = objective_of(slo)
    window = objective.window_s
    timeline = load_timeline(store, slo, now - 2 * window, now)
    step = window / max(points - 1, 1)
    times = [now - window + i * step for i in range(points)]
    row = status_row(slo, slo_status(objective, timeline, now))
    return row, burn_down(objective, timeline, times)
