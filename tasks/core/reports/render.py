"""Render a report as HTML (inline SVG charts), PDF (reportlab) or CSV (one row per cell)."""

import csv
import html
import io
from typing import TYPE_CHECKING

from tasks.core.reports.content import Report, Table, tables

if TYPE_CHECKING:  # reportlab loads when a chart or PDF is drawn, not with the module
    from reportlab.platypus import Table as PdfTable

FORMATS = ("html", "pdf", "csv")


def to_csv(report: Report) -> str:
    """Long format: ``section, row, column, value`` for every cell of every table."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "row", "column", "value"])
    for table in tables(report):
        for index, row in enumerate(table.rows):
            for column, value in zip(table.headers, row, strict=True):
                writer.writerow([table.title, index, column, value])
    return out.getvalue()


def to_html(report: Report) -> str:
    """A self-contained HTML page: the tables and the charts as inline SVG."""
    from reportlab.graphics import renderSVG

    from tasks.core.reports.charts import report_charts

    charts = "".join(
        f"<figure>{renderSVG.drawToString(d).split('?>', 1)[-1]}</figure>"
        for d in report_charts(report)
    )
    body = "".join(_html_table(t) for t in tables(report))
    title = html.escape(report.title)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>"
        "body{font-family:sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse;"
        "margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
        "th{background:#f0f0f0}</style></head>"
        f"<body><h1>{title}</h1>{charts}{body}</body></html>"
    )


def _html_table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.headers)
    rows = (
        "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
            for row in table.rows
        )
        or f"<tr><td colspan='{len(table.headers)}'>none</td></tr>"
    )
    note = f"<p>{html.escape(table.note)}</p>" if table.note else ""
    return f"<h2>{html.escape(table.title)}</h2>{note}<table><tr>{head}</tr>{rows}</table>"


def to_pdf(report: Report) -> bytes:
    """An A4 PDF: title, charts, then every table."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    from tasks.core.reports.charts import report_charts

    styles = getSampleStyleSheet()
    story: list = [Paragraph(html.escape(report.title), styles["Title"])]
    for drawing in report_charts(report):
        story += [drawing, Spacer(1, 4 * mm)]
    for table in tables(report):
        story.append(Paragraph(html.escape(table.title), styles["Heading2"]))
        if table.note:
            story.append(Paragraph(html.escape(table.note), styles["Normal"]))
        story.append(_pdf_table(table))
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, title=report.title, author="Vigil")
    doc.build(story)
    return out.getvalue()


def _pdf_table(table: Table) -> "PdfTable":
    from reportlab.lib import colors
    from reportlab.platypus import Table as PdfTable
    from reportlab.platypus import TableStyle

    rows = table.rows or [("none",) + ("",) * (len(table.headers) - 1)]
    cells = [list(table.headers), *(list(row) for row in rows)]
    pdf = PdfTable(cells, repeatRows=1, hAlign="LEFT")
    pdf.setStyle(
        TableStyle(
            [
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ]
        )
    )
    return pdf


def render(report: Report, fmt: str) -> bytes:
    """The report in ``fmt`` (html, pdf or csv) as bytes."""
    if fmt == "pdf":
        return to_pdf(report)
    if fmt == "html":
        return to_html(report).encode()
    if fmt == "csv":
        return to_csv(report).encode()
    raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
