"""The last hour of an alert's series as a small PNG chart, for the email of the alert.

The chart travels inside the stored email body as a ``data:`` URI (the outbox keeps text
only); ``inline_images`` turns those into ``cid:`` parts when the email is sent.
"""

import base64
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

WIDTH_IN, HEIGHT_IN, DPI = 6.0, 2.2, 80  # 480 x 176 px: readable, about 15 kB
_DATA_URI_RE = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


@dataclass(frozen=True)
class SeriesChart:
    """What to draw: a series' points (epoch seconds, value) and the rule's threshold."""

    title: str
    points: Sequence[tuple[float, float]]
    threshold: float | None = None


def render_png(chart: SeriesChart) -> bytes:
    """Draw ``chart`` as a line over time, with the threshold dashed; return PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")  # no display: render to memory only
    from matplotlib.dates import DateFormatter, date2num
    from matplotlib.figure import Figure  # a Figure of its own: no pyplot global state

    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    axes = figure.add_subplot()
    times = date2num([datetime.fromtimestamp(t, UTC) for t, _ in chart.points])
    axes.plot(times, [v for _, v in chart.points], color="#1f77b4", linewidth=1.5)
    axes.xaxis_date(tz=UTC)
    if chart.threshold is not None:
        axes.axhline(chart.threshold, color="#d62728", linestyle="--", linewidth=1)
    axes.set_title(chart.title, fontsize=9, loc="left")
    axes.xaxis.set_major_formatter(DateFormatter("%H:%M", tz=UTC))
    axes.set_xlabel("UTC", fontsize=7)
    axes.tick_params(labelsize=7)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def data_uri(png: bytes) -> str:
    """``png`` as a ``data:`` URI for an ``<img src=…>``.

    >>> data_uri(b"\\x89PNG")
    'data:image/png;base64,iVBORw=='
    """
    return "data:image/png;base64," + base64.b64encode(png).decode()


def inline_images(html: str) -> tuple[str, list[tuple[str, bytes]]]:
    """Replace each ``data:`` PNG in ``html`` by ``cid:chart-<n>.png``; return the parts.

    >>> inline_images('<img src="data:image/png;base64,iVBORw==">')
    ('<img src="cid:chart-1.png">', [('chart-1.png', b'\\x89PNG')])
    """
    parts: list[tuple[str, bytes]] = []

    def to_cid(match: re.Match[str]) -> str:
        name = f"chart-{len(parts) + 1}.png"
        parts.append((name, base64.b64decode(match.group(1))))
        return f'src="cid:{name}"'

    return _DATA_URI_RE.sub(to_cid, html), parts
