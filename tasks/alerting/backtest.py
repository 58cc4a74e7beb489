"""Backtest a rule on stored history (``vigil rules backtest``) before it is enabled.

The samples the rule reads (and the check results of ``check_state`` rules) are read from
the store for the window, cut into batches on the sweep step (one batch per step, handed
to the engine at the step's end, as a collection tick would), and replayed through the real
engine in a scratch store (``tasks.alerting.replay``). The report counts what would have
happened: alerts, notifications as grouping and routing plan them, recoveries after the
safety gate.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from models.checks import CheckResult
from models.config.root import VigilConfig
from models.store import MetricStore, NewSample
from models.vocabulary.labels import parse_canonical
from models.vocabulary.selectors import Selector, parse_selector
from tasks.alerting.replay import Replay, ReplayCounts, rules_with_their_inputs
from tasks.core.alerting.rules import SAMPLE_RULES, compile_rule
from tasks.core.checks.state import CheckReport, CheckStatus

Progress = Callable[[float, float], None]  # (fraction done, instant reached)
PROGRESS_EVERY = 0.05


@dataclass(frozen=True)
class BacktestReport:
    """What replaying ``rule`` over [start, end] caused."""

    rule: str
    start: float
    end: float
    samples: int
    check_results: int
    counts: ReplayCounts


def backtest(
    config: VigilConfig,
    rule: str,
    store: MetricStore,
    *,
    start: float,
    end: float,
    scratch: Path,
    step_s: float = 15.0,
    progress: Progress | None = None,
) -> BacktestReport:
    """Replay the stored history of [start, end] through ``rule`` (and the rules it reads)."""
    config = rules_with_their_inputs(config, [rule])
    samples = _samples(config, store, start, end)
    reports = _check_reports(config, store, start, end)
    replay = Replay(config, scratch, start=start, sweep_every_s=step_s)
    try:
        replay.store.write(_first_samples(config, store, start))
        told = -1.0
        for at, batch, checks in _batches(samples, reports, start, end, step_s):
            replay.feed(at, batch, checks)
            fraction = (at - start) / max(end - start, 1.0)
            if progress is not None and fraction >= told + PROGRESS_EVERY:
                progress(fraction, at)
                told = fraction
        replay.advance(end)
        counts = replay.counts()
    finally:
        replay.close()
    return BacktestReport(rule, start, end, len(samples), len(reports), counts)


def _selectors(config: VigilConfig) -> list[Selector]:
    """Every series the rules read: their own, plus the raw series of trust gates."""
    out = []
    for rule in config.rules:
        spec = compile_rule(rule)
        if spec.kind in (*SAMPLE_RULES, "absence") and spec.selector is not None:
            out.append(spec.selector)
        if rule.series and (rule.min_history or rule.corroborate):
            out.append(parse_selector(rule.series))
    return out


def _samples(config: VigilConfig, store: MetricStore, start: float, end: float) -> pd.DataFrame:
    frames = [
        store.query_range(selector, _dt(start), _dt(end))[["name", "labels", "ts", "value"]]
        for selector in _selectors(config)
    ]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=["name", "labels", "ts", "value"])
    both = pd.concat(frames).drop_duplicates(["name", "labels", "ts"])
    return both.sort_values("ts", kind="stable").reset_index(drop=True)


def _first_samples(config: VigilConfig, store: MetricStore, start: float) -> list[NewSample]:
    """The oldest stored sample of each series a ``min_history`` rule watches (its age)."""
    out = []
    for rule in config.rules:
        if not rule.series or not rule.min_history:
            continue
        for info in store.find_series(rule.series):
            frame = store.query_range(info.name, _dt(0), _dt(start - 0.001))
            frame = frame[frame["series_id"] == info.id]
            if not frame.empty:
                first = frame.iloc[0]
                moment = first["ts"].to_pydatetime()
                out.append(NewSample(info.name, info.labels, moment, float(first["value"])))
    return out


def _check_reports(
    config: VigilConfig, store: MetricStore, start: float, end: float
) -> list[CheckReport]:
    if not any(str(r.kind) == "check_state" for r in config.rules):
        return []
    labels = {c.name: dict(c.labels) for c in config.checks}
    table = CheckResult.__table__  # type: ignore[attr-defined]
    query = (
        select(table)
        .where(table.c.at >= _dt(start), table.c.at <= _dt(end))
        .order_by(table.c.at, table.c.id)
    )
    with store.engine.connect() as conn:
        rows = [r._mapping for r in conn.execute(query)]
    return [
        CheckReport(
            check=r["check"],
            target=r["target"],
            status=_status(r["status"]),
            is_hard=r["is_hard"],
            at=_aware(r["at"]),
            message=r["message"],
            latency_ms=r["latency_ms"],
            labels=labels.get(r["check"], {}),
        )
        for r in rows
    ]


def _batches(
    samples: pd.DataFrame, reports: list[CheckReport], start: float, end: float, step_s: float
) -> Iterator[tuple[float, list[NewSample], list[CheckReport]]]:
    """One batch per step that has data: the samples and reports of (t - step, t], fed at t."""
    stamps = [ts.timestamp() for ts in samples["ts"]]
    rows = list(samples[["name", "labels", "value"]].itertuples(index=False))
    i = j = 0
    at = start
    while at < end:
        at = min(at + step_s, end)
        batch = []
        while i < len(rows) and stamps[i] <= at:
            name, labels, value = rows[i]
            batch.append(NewSample(name, parse_canonical(labels), stamps[i], float(value)))
            i += 1
        checks = []
        while j < len(reports) and reports[j].at.timestamp() <= at:
            checks.append(reports[j])
            j += 1
        if batch or checks:
            yield at, batch, checks


def _status(text: str) -> CheckStatus:
    """A stored status, written by value or (SQLModel's habit) by member name."""
    return CheckStatus[text] if text in CheckStatus.__members__ else CheckStatus(text)


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
