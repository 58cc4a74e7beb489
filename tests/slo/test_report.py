"""Reports: `vigil report` in every format over a seeded store; the PDF read back by poppler;
the scheduled `report` flow mails the PDF to a real SMTP server on loopback."""

import email
import subprocess
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from flows.report import send_scheduled_report
from models.db import make_engine
from tests.alerting.helpers import smtp_server
from tests.slo.history import aligned_now, seed_checks, seed_operations
from vigil.cli import app

CONFIG = """
checks:
  - {name: web-http, type: tcp, target: web, host: 127.0.0.1, port: 9}
slos:
  - {name: web, check: web-http, target: 99.9, window: 30d}
"""


@pytest.fixture
def seeded(sqlite_url, tmp_path):  # type: ignore[no-untyped-def]
    """A store with a month of check results and a week of operations up to now."""
    end = aligned_now()
    engine = make_engine(sqlite_url)
    seed_checks(engine, end)
    seed_operations(engine, end - timedelta(days=7) + timedelta(seconds=1))
    engine.dispose()
    config = tmp_path / "vigil.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    return config, sqlite_url


def run_report(config, url, fmt, out):  # type: ignore[no-untyped-def]
    args = ["report", "--since", "7d", "--format", fmt, "-o", str(out), "-c", str(config)]
    result = CliRunner().invoke(app, [*args, "--db", url])
    assert result.exit_code == 0, result.output
    return result


def test_the_pdf_report_holds_the_figures_and_a_page_renders_to_png(seeded, tmp_path):
    config, url = seeded
    pdf = tmp_path / "week.pdf"
    run_report(config, url, "pdf", pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for figure in (
        "MTTA (fire to acknowledge)", "5m 40s", "MTTR (fire to resolve)", "36m 15s",
        "fixed automatically", "25.0%", "DiskFull", "restart-web", "50.0%",
        "Availability per target", "99.504%",  # web over 7 d: 1 - 3000 s / 7 d
        "Error budget left: web", "Forecast accuracy", "0.800",
    ):  # fmt: skip
        assert figure in text, f"{figure!r} not in the PDF's text"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    page = tmp_path / "page-1.png"
    assert page.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and page.stat().st_size > 10_000


def test_the_html_and_csv_reports_hold_the_same_figures(seeded, tmp_path):
    config, url = seeded
    run_report(config, url, "html", tmp_path / "r.html")
    run_report(config, url, "csv", tmp_path / "r.csv")
    html = (tmp_path / "r.html").read_text()
    assert "<svg" in html and "5m 40s" in html and "99.504%" in html
    rows = (tmp_path / "r.csv").read_text().splitlines()
    assert rows[0] == "section,row,column,value"
    assert "Operations,1,value,5m 40s" in rows
    assert "Availability per target,1,7 d,99.504%" in rows


def test_an_unknown_format_is_refused_with_the_choices(seeded, tmp_path):
    config, url = seeded
    result = CliRunner().invoke(app, ["report", "--format", "docx", "-c", str(config), "--db", url])
    assert result.exit_code == 2
    assert "use one of html, pdf, csv" in result.output


def test_the_report_flow_mails_the_pdf_to_a_real_smtp_server(
    prefect_harness, seeded, serve_with, tmp_path
):
    config, url = seeded
    with smtp_server() as (box, port):
        mail = f"mailto://127.0.0.1:{port}?from=vigil@example.com&to=boss@example.com&mode=insecure"
        config.write_text(
            CONFIG + f"channels:\n  - {{name: boss, url: '{mail}'}}\n"
            "report: {channels: [boss], since: 7d}\n",
            encoding="utf-8",
        )
        serve_with(config, url)
        sent = send_scheduled_report()
    assert sent["sent"] == ["boss"] and sent["format"] == "pdf"
    assert len(box.messages) == 1
    message = email.message_from_string(box.messages[0][2])
    assert message["Subject"].startswith("Vigil report")
    parts = {p.get_content_type(): p for p in message.walk()}
    attached = parts["application/pdf"].get_payload(decode=True)
    assert attached.startswith(b"%PDF-") and len(attached) == sent["bytes"]
    assert "MTTA 5m 40s" in parts["text/plain"].get_payload(decode=True).decode()
