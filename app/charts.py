"""Charts as Altair objects; pages only place them."""

import altair as alt
import pandas as pd

from models.vocabulary.labels import parse_canonical


def series_legend(labels: pd.Series) -> pd.Series:
    """Name each series by the labels that differ between them (all labels if only one).

    >>> series_legend(pd.Series(['{"a":"1","h":"x"}', '{"a":"1","h":"y"}'])).tolist()
    ['h=x', 'h=y']
    """
    parsed = {text: parse_canonical(text) for text in labels.unique()}
    keys = sorted({key for one in parsed.values() for key in one})
    differing = [k for k in keys if len({one.get(k) for one in parsed.values()}) > 1]
    shown = differing or keys
    names = {
        text: ", ".join(f"{k}={one[k]}" for k in shown if k in one) or "(no labels)"
        for text, one in parsed.items()
    }
    return labels.map(names)


_TIME = alt.Tooltip("ts:T", title="time", format="%Y-%m-%d %H:%M:%S")


def history_chart(
    frame: pd.DataFrame,
    *,
    unit: str = "",
    forecast: pd.DataFrame | None = None,
    anomalies: pd.DataFrame | None = None,
    thresholds: pd.DataFrame | None = None,
) -> alt.LayerChart:
    """Line per series over time with its min-max band, plus what else is known about it.

    Args:
        frame: ``series_history`` points (``labels, ts, value, min, max``).
        forecast: ``series_id, labels, ts, yhat, lower, upper``: a dashed line in its band.
        anomalies: ``labels, ts, value, score, detector``: red points on the history.
        thresholds: ``rule, value, severity``: horizontal rules of alerting thresholds.
    """
    data = frame.assign(series=series_legend(frame["labels"]))
    x = alt.X("ts:T", title=None)
    color = alt.Color("series:N", title=None, legend=alt.Legend(orient="bottom"))
    base = alt.Chart(data).encode(x=x, color=color)
    layers: list[alt.Chart] = [
        base.mark_area(opacity=0.15).encode(y="min:Q", y2="max:Q"),
        base.mark_line().encode(
            y=alt.Y("value:Q", title=unit or "value", scale=alt.Scale(zero=False)),
            tooltip=[_TIME, "series:N", alt.Tooltip("value:Q", format=".4~g")],
        ),
    ]
    names = dict(zip(frame["labels"], data["series"], strict=True))
    if forecast is not None and not forecast.empty:
        ahead = alt.Chart(forecast.assign(series=forecast["labels"].map(names))).encode(
            x=x, color=color
        )
        layers.append(ahead.mark_area(opacity=0.25).encode(y="lower:Q", y2="upper:Q"))
        layers.append(
            ahead.mark_line(strokeDash=[6, 4]).encode(
                y="yhat:Q",
                tooltip=[_TIME, "series:N", "yhat:Q", "lower:Q", "upper:Q"],
            )
        )
    if anomalies is not None and not anomalies.empty:
        marked = anomalies.assign(series=anomalies["labels"].map(names))
        layers.append(
            alt.Chart(marked)
            .mark_point(color="#c62828", size=80, filled=True)
            .encode(
                x=x, y="value:Q", tooltip=[_TIME, "series:N", "value:Q", "score:Q", "detector:N"]
            )
        )
    if thresholds is not None and not thresholds.empty:
        layers.append(
            alt.Chart(thresholds)
            .mark_rule(strokeDash=[2, 2], color="#c62828")
            .encode(y="value:Q", tooltip=["rule:N", "value:Q", "severity:N"])
        )
    return alt.layer(*layers).properties(height=360)


LEVEL_COLORS = {
    "healthy": "#2e7d32",
    "warning": "#f9a825",
    "degraded": "#ef6c00",
    "critical": "#c62828",
    "unknown": "#9e9e9e",
}
STATUS_COLORS = {"up": "#2e7d32", "down": "#c62828", "unreachable": "#ef6c00", "unknown": "#9e9e9e"}


def score_trend_chart(frame: pd.DataFrame) -> alt.Chart:
    """Health score (0-100) over time, one line per node."""
    return (
        alt.Chart(frame)
        .mark_line(point=len(frame) < 60)
        .encode(
            x=alt.X("at:T", title=None),
            y=alt.Y("score:Q", title="health score", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("node:N", title=None, legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("at:T", format="%Y-%m-%d %H:%M:%S"),
                "node:N",
                "score:Q",
                "level:N",
            ],
        )
        .properties(height=220)
    )


def latency_chart(frame: pd.DataFrame) -> alt.Chart:
    """A check's latency per run, coloured by the status the run found."""
    return (
        alt.Chart(frame)
        .mark_circle(size=40)
        .encode(
            x=alt.X("at:T", title=None),
            y=alt.Y("latency_ms:Q", title="latency (ms)"),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(
                    domain=["up", "down", "unreachable", "unknown", "late"],
                    range=["#2e7d32", "#c62828", "#ef6c00", "#9e9e9e", "#6a1b9a"],
                ),
            ),
            tooltip=[alt.Tooltip("at:T", format="%Y-%m-%d %H:%M:%S"), "status:N", "latency_ms:Q"],
        )
        .properties(height=260)
    )


def dependency_dot(
    depends_on: dict[str, list[str]], levels: dict[str, str], colors: dict[str, str] = LEVEL_COLORS
) -> str:
    """Return a Graphviz graph: arrows to what each node needs, filled by its level or status.

    >>> print(dependency_dot({"web": ["db"], "db": []}, {"db": "critical"}))
    digraph { rankdir=LR; node [shape=box style="rounded,filled" fontcolor=white];
      "web" [fillcolor="#9e9e9e" tooltip="web: unknown"];
      "db" [fillcolor="#c62828" tooltip="db: critical"];
      "web" -> "db";
    }
    """
    lines = ['digraph { rankdir=LR; node [shape=box style="rounded,filled" fontcolor=white];']
    for name in depends_on:
        level = levels.get(name, "unknown")
        color = colors.get(level, colors["unknown"])
        lines.append(f'  "{name}" [fillcolor="{color}" tooltip="{name}: {level}"];')
    for name, needs in depends_on.items():
        lines.extend(f'  "{name}" -> "{needed}";' for needed in needs)
    lines.append("}")
    return "\n".join(lines)


def budget_chart(frame: pd.DataFrame) -> alt.Chart:
    """Error budget remaining (share) over the SLO's window, with the zero line."""
    line = (
        alt.Chart(frame)
        .mark_area(line=True, opacity=0.3)
        .encode(
            x=alt.X("at:T", title=None),
            y=alt.Y("budget_remaining:Q", title="error budget left", axis=alt.Axis(format="%")),
            tooltip=[
                alt.Tooltip("at:T", format="%Y-%m-%d %H:%M"),
                alt.Tooltip("budget_remaining:Q", format=".1%"),
            ],
        )
    )
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="red").encode(y="y:Q")
    return (line + zero).properties(height=240)
