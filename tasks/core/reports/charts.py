"""The report's charts as reportlab drawings: placed in the PDF, rendered to SVG for HTML."""

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.lib import colors

from tasks.core.reports.content import Points, Report

WIDTH = 460


def burn_down_chart(name: str, points: Points) -> Drawing:
    """Error budget left (%) over the SLO's window; days before the report's end on x."""
    drawing = Drawing(WIDTH, 170)
    drawing.add(String(0, 155, f"Error budget left: {name}", fontSize=10))
    if not points:
        return drawing
    end = points[-1][0]
    data = [((t - end) / 86400, v * 100) for t, v in points]
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 40, 20, WIDTH - 60, 120
    plot.data = [data]
    plot.lines[0].strokeColor = colors.HexColor("#1f77b4")
    plot.lines[0].strokeWidth = 1.5
    low = min(0.0, min(v for _, v in data))
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax = low, max(100.0, *(v for _, v in data))
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = data[0][0], 0
    plot.yValueAxis.labelTextFormat = "%d%%"
    plot.xValueAxis.labelTextFormat = "%dd"
    drawing.add(plot)
    if low < 0:
        y = plot.y + plot.height * (0 - low) / (plot.yValueAxis.valueMax - low)
        drawing.add(Line(plot.x, y, plot.x + plot.width, y, strokeColor=colors.red))
    return drawing


def bar_chart(title: str, items: list[tuple[str, float]], *, is_percent: bool = False) -> Drawing:
    """Horizontal bars, one per item, largest first as given."""
    height = 40 + 16 * max(len(items), 1)
    drawing = Drawing(WIDTH, height)
    drawing.add(String(0, height - 14, title, fontSize=10))
    if not items:
        return drawing
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 160, 10, WIDTH - 180, height - 34
    chart.data = [[value for _, value in reversed(items)]]
    chart.categoryAxis.categoryNames = [label[:28] for label, _ in reversed(items)]
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labelTextFormat = "%g%%" if is_percent else "%g"
    chart.bars[0].fillColor = colors.HexColor("#4c78a8")
    drawing.add(chart)
    return drawing


def report_charts(report: Report) -> list[Drawing]:
    """Availability per target (7 d), budget burn-down per SLO, alerts per rule."""
    targets = [(r["name"], r["7d"] * 100) for r in report.uptime.get("targets", []) if r["7d"]]
    rules = list(report.operations.alerts_per_rule.items())[:10]
    return [
        bar_chart("Availability per target over 7 days (%)", targets, is_percent=True),
        *(burn_down_chart(name, points) for name, points in report.burn_downs.items()),
        bar_chart("Alerts per rule (noisiest first)", [(r, float(n)) for r, n in rules]),
    ]
