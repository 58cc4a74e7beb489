"""What a report holds, and the same content as titled tables for every format."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from tasks.core.slo.operations import OperationsFigures

Points = list[tuple[float, float]]


@dataclass(frozen=True)
class Table:
    """A titled table of text cells; ``note`` says how to read it."""

    title: str
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]
    note: str = ""


@dataclass(frozen=True)
class Report:
    """The figures of one span (epoch seconds), gathered from the store."""

    since: float
    until: float
    slos: list[dict]
    burn_downs: dict[str, Points]
    uptime: dict
    operations: OperationsFigures
    forecast: list[dict]
    top_series: list[dict]
    incidents: list[dict] = field(default_factory=list)

    @property
    def title(self) -> str:
        """``Vigil report 2026-03-01 to 2026-03-08``."""
        return f"Vigil report {_day(self.since)} to {_day(self.until)}"


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def percent(share: float | None, digits: int = 3) -> str:
    """``99.950%``; ``-`` for no data.

    >>> percent(0.9995), percent(None)
    ('99.950%', '-')
    """
    return "-" if share is None else f"{share * 100:.{digits}f}%"


def duration(seconds: float | None) -> str:
    """``1h 05m``, ``4m 10s``, ``12s``; ``-`` for no data.

    >>> duration(3900), duration(250), duration(None)
    ('1h 05m', '4m 10s', '-')
    """
    if seconds is None:
        return "-"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def tables(report: Report) -> list[Table]:
    """Every section of ``report`` as a table, in reading order."""
    ops = report.operations
    out = [
        Table(
            "Operations",
            ("figure", "value"),
            [
                ("alerts fired", str(ops.alerts)),
                ("MTTA (fire to acknowledge)", duration(ops.mtta_s)),
                ("MTTR (fire to resolve)", duration(ops.mttr_s)),
                ("fixed automatically", percent(ops.auto_fixed_share, 1)),
            ],
        ),
        Table(
            "SLOs",
            ("SLO", "objective", "SLI", "budget left", "burning"),
            [
                (
                    row["slo"],
                    f"{percent(row['target'])} / {row['window_days']:g}d",
                    percent(row["sli"]),
                    percent(row["budget_remaining"], 1),
                    ", ".join(row["burning"]) or "-",
                )
                for row in report.slos
            ],
        ),
        _uptime_table("Availability per target", report.uptime.get("targets", [])),
        _uptime_table("Availability per check", report.uptime.get("checks", [])),
        Table(
            "Outages",
            ("check", "from", "to", "lasted"),
            [
                (row["name"], _day(start), _day(end), duration(end - start))
                for row in report.uptime.get("checks", [])
                for start, end in row["outages"]
                if end > report.since
            ],
            "Each outage of a check within the last 30 days that reaches into the span.",
        ),
        Table(
            "Incidents",
            ("started", "likely cause", "alerts", "ended", "how"),
            [
                (
                    _day(i["started_at"]),
                    i["cause"],
                    str(i["alerts"]),
                    _day(i["ended_at"]) if i.get("ended_at") else "ongoing",
                    i.get("ending") or "-",
                )
                for i in report.incidents
            ],
        ),
        Table(
            "Noisiest rules",
            ("rule", "alerts", "dismissed as false"),
            [
                (rule, str(count), str(ops.dismissed_per_rule.get(rule, 0)))
                for rule, count in list(ops.alerts_per_rule.items())[:10]
            ],
        ),
        Table(
            "Recovery success per procedure",
            ("procedure", "succeeded", "finished", "success"),
            [
                (name, str(won), str(runs), percent(won / runs if runs else None, 1))
                for name, (won, runs) in ops.recovery_success.items()
            ],
        ),
        Table(
            "Forecast accuracy (MASE, below 1 beats the naive forecast)",
            ("series", "model", "MASE"),
            [
                (f"{r['series']} {r['labels']}", r["model"], f"{r['mase']:.3f}")
                for r in report.forecast
            ],
        ),
        Table(
            "Top series by p95",
            ("series", "p95", "p99", "points"),
            [
                (r["series"], f"{r['p95']:.4g}", f"{r['p99']:.4g}", str(r["points"]))
                for r in report.top_series
            ],
            f"Over {report.top_series[0]['resolution']}." if report.top_series else "",
        ),
    ]
    return out


def _uptime_table(title: str, rows: list[dict]) -> Table:
    return Table(
        title,
        ("name", "24 h", "7 d", "30 d", "outages (30 d)"),
        [
            (
                row["name"],
                percent(row["24h"]),
                percent(row["7d"]),
                percent(row["30d"]),
                str(len(row["outages"])),
            )
            for row in rows
        ],
    )
