"""`vigil slo list|show` over a store with a month of check results and two outages."""

from typer.testing import CliRunner

from models.db import make_engine
from tests.slo.history import aligned_now, seed_checks
from vigil.cli import app

CONFIG = """
checks:
  - {name: web-http, type: tcp, target: web, host: 127.0.0.1, port: 9}
  - {name: db-tcp, type: tcp, target: db, host: 127.0.0.1, port: 9}
slos:
  - {name: web, check: web-http, target: 99.9, window: 30d, description: The shop answers.}
  - {name: db, check: db-tcp, target: 99.5, window: 28d}
"""


def seeded(tmp_path, sqlite_url):  # type: ignore[no-untyped-def]
    engine = make_engine(sqlite_url)
    seed_checks(engine, aligned_now())
    engine.dispose()
    config = tmp_path / "vigil.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    return ["-c", str(config), "--db", sqlite_url]


def test_list_shows_each_slos_sli_and_budget_left(tmp_path, sqlite_url):
    where = seeded(tmp_path, sqlite_url)
    result = CliRunner().invoke(app, ["slo", "list", *where])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()[1:]}
    # web: 30 min down in 30 days: SLI 1 - 1800/2592000; budget 1 - 1800/2592 = 30.6 % left.
    assert "99.931%" in lines["web"] and "30.6%" in lines["web"]
    assert "100.000%" in lines["db"] and "100.0%" in lines["db"]


def test_show_explains_the_budget_and_each_burn_rate_pair(tmp_path, sqlite_url):
    where = seeded(tmp_path, sqlite_url)
    result = CliRunner().invoke(app, ["slo", "show", "web", *where])
    assert result.exit_code == 0, result.output
    assert "web: The shop answers." in result.output
    assert "1800 of 2592 bad seconds spent" in result.output
    assert "page-1h" in result.output and "alert at 14.4x, critical" in result.output


def test_an_unknown_slo_names_the_known_ones(tmp_path, sqlite_url):
    where = seeded(tmp_path, sqlite_url)
    result = CliRunner().invoke(app, ["slo", "show", "shop", *where])
    assert result.exit_code == 2
    assert "no SLO named 'shop'; known: web, db" in result.output
