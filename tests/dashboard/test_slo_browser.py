"""The SLOs and Incidents pages as a person sees them: `vigil dashboard` in a child process,
headless Chromium, a store with a month of check results and an incident.

Screenshots land in test-output/dashboard/; with VIGIL_UPDATE_SCREENSHOTS=1 they also
replace docs/slo-page.png and docs/incidents-page.png.
"""

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from models.db import make_engine
from models.migrate import upgrade
from tasks.alerting.hooks import FiringAlert
from tasks.alerting.incidents import IncidentTracker
from tests.dashboard.helpers import PASSWORD, write_config
from tests.dashboard.test_browser import (
    ERROR_BOXES,
    NEEDS_CHROMIUM,
    SHOTS,
    browser,  # noqa: F401  (the fixture)
    served_dashboard,
    wait_for,
    wait_for_text,
    wait_until_idle,
)
from tests.dashboard.test_slo_pages import SLOS
from tests.slo.history import aligned_now, seed_checks

pytestmark = [pytest.mark.slow, NEEDS_CHROMIUM]
DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def slo_dashboard(tmp_path, password_hash) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """`vigil dashboard` over a store with web-http's month (30 min down) and one incident."""
    db_url = f"sqlite:///{tmp_path / 'vigil.db'}"
    upgrade(db_url)
    engine = make_engine(db_url)
    seed_checks(engine, aligned_now())
    tracker = IncidentTracker(engine, {"web": {"db"}, "db": set()})
    fired = datetime.now(UTC).timestamp() - 600
    tracker.on_firing(FiringAlert("TargetDown", "a1", {"target": "web"}, 1.0, fired))
    tracker.on_firing(FiringAlert("TargetDown", "b2", {"target": "db"}, 1.0, fired + 20))
    engine.dispose()
    config = write_config(tmp_path / "vigil.yaml", password_hash, "", SLOS, refresh="0s")
    env = {**os.environ, "VIGIL_STATE_DIR": str(tmp_path / "state")}
    env["PREFECT_API_URL"] = "http://127.0.0.1:9/api"  # not needed by these pages
    with served_dashboard(tmp_path, config, db_url, env) as url:
        yield url


def shot(driver, name: str) -> None:  # type: ignore[no-untyped-def]
    """Screenshot the page to test-output/dashboard/ (and docs/ when asked); no error box."""
    errors = driver.find_elements(By.CSS_SELECTOR, ERROR_BOXES)
    assert not errors, f"{name}: {[e.text for e in errors]}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    if os.environ.get("VIGIL_UPDATE_SCREENSHOTS"):
        shutil.copyfile(path, DOCS / f"{name}.png")


def wait_visible(driver, text: str) -> None:  # type: ignore[no-untyped-def]
    """Wait until ``text`` is visible on the page."""
    WebDriverWait(driver, 30).until(lambda d: text in d.find_element(By.TAG_NAME, "body").text)


def grid_text(driver) -> str:  # type: ignore[no-untyped-def]
    """The dataframe's cells as the page exposes them to screen readers (it draws on canvas)."""
    cells = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stDataFrame"] [role="gridcell"]')
    return " | ".join(c.get_attribute("textContent") or "" for c in cells)


def test_the_slo_and_incident_pages_show_the_budget_the_chart_and_the_cause(
    slo_dashboard,
    browser,  # noqa: F811
) -> None:
    browser.get(slo_dashboard)
    wait_for(browser, 'input[aria-label="User name"]')
    browser.find_element(By.CSS_SELECTOR, 'input[aria-label="User name"]').send_keys("viewer-user")
    browser.find_element(By.CSS_SELECTOR, 'input[aria-label="Password"]').send_keys(PASSWORD)
    browser.find_element(By.XPATH, "//button[.//p[text()='Log in']]").click()
    wait_for_text(browser, "h1", "Overview")

    browser.find_element(By.PARTIAL_LINK_TEXT, "SLOs").click()
    wait_for_text(browser, "h1", "SLOs")
    wait_visible(browser, "1800 of 2592 bad seconds")
    wait_for(browser, '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg')
    wait_until_idle(browser)
    WebDriverWait(browser, 30).until(lambda d: "web" in grid_text(d))
    cells = grid_text(browser)  # raw values: the canvas shows them as percents
    assert "0.30555" in cells and "ticket-3d" in cells  # budget left 1 - 1800/2592, burning
    shot(browser, "slo-page")

    browser.find_element(By.PARTIAL_LINK_TEXT, "Incidents").click()
    wait_for_text(browser, "h1", "Incidents")
    wait_for(browser, '[data-testid="stDataFrame"]')
    wait_until_idle(browser)
    WebDriverWait(browser, 30).until(lambda d: "db" in grid_text(d))
    cells = grid_text(browser)
    assert "TargetDown" in cells and "db, web" in cells  # the cause db, both targets
    shot(browser, "incidents-page")
