"""Charts as Altair objects; pages only place them."""

import altair as alt
import pandas as pd

from tasks.core.labels import parse_canonical


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


def history_chart(frame: pd.DataFrame, *, unit: str = "") -> alt.LayerChart:
    """Line per series over time, with the min-max range of each point as a light band."""
    data = frame.assign(series=series_legend(frame["labels"]))
    base = alt.Chart(data).encode(
        x=alt.X("ts:T", title=None),
        color=alt.Color("series:N", title=None, legend=alt.Legend(orient="bottom")),
    )
    band = base.mark_area(opacity=0.15).encode(y="min:Q", y2="max:Q")
    line = base.mark_line().encode(
        y=alt.Y("value:Q", title=unit or "value", scale=alt.Scale(zero=False)),
        tooltip=[
            alt.Tooltip("ts:T", title="time", format="%Y-%m-%d %H:%M:%S"),
            "series:N",
            alt.Tooltip("value:Q", format=".4~g"),
        ],
    )
    return alt.layer(band, line).properties(height=360)
