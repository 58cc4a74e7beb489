"""The dashboard as a person sees it: `vigil dashboard` in a child process, headless Chromium.

Screenshots of every page land in test-output/dashboard/.
"""

import csv
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from prefect.settings import PREFECT_API_URL
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from models.db import make_engine
from models.migrate import upgrade
from models.store import MetricStore
from tests.dashboard.helpers import PASSWORD, seed_metrics, write_config
from tests.dashboard.test_capability_data import seed_alerts, seed_run
from tests.dashboard.test_health_page import CONFIG, seed_checks
from tests.dashboard.test_runs_page import probe
from tests.ports import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "dashboard"
ERROR_BOXES = '[data-testid="stException"], [data-testid="stAlertContentError"]'

NEEDS_CHROMIUM = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (make system-deps)",
)
pytestmark = [pytest.mark.slow, NEEDS_CHROMIUM]


@pytest.fixture
def dashboard_url(tmp_path, password_hash, prefect_harness) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Start `vigil dashboard` on a free loopback port over a seeded store; stop it after."""
    probe(fail=False)  # one flow run for the run history
    db_url = f"sqlite:///{tmp_path / 'vigil.db'}"
    upgrade(db_url)
    engine = make_engine(db_url)
    seed_metrics(MetricStore(engine))
    seed_checks(engine)
    seed_alerts(engine)
    seed_run(engine, "failed")
    engine.dispose()
    extra = f"  prefect_api_url: {PREFECT_API_URL.value()}\n"
    config = write_config(tmp_path / "vigil.yaml", password_hash, extra, CONFIG, refresh="3s")
    with served_dashboard(tmp_path, config, db_url) as url:
        yield url


@contextmanager
def served_dashboard(
    tmp_path: Path, config: Path, db_url: str, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run `vigil dashboard` on a free loopback port; yield its URL once healthy, stop it after."""
    port = free_port()
    command = [sys.executable, "-m", "vigil.cli", "dashboard", "--config", str(config)]
    command += ["--db", db_url, "--host", "127.0.0.1", "--port", str(port)]
    log = (tmp_path / "dashboard.log").open("wb")
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, tmp_path / "dashboard.log")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        log.close()


def wait_healthy(url: str, process: subprocess.Popen, log: Path) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"dashboard exited: {log.read_text()}"
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"dashboard did not become healthy: {log.read_text()}")


@pytest.fixture
def browser(tmp_path) -> Iterator[WebDriver]:  # type: ignore[no-untyped-def]
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--window-size=1400,1800",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior",
        {"behavior": "allow", "downloadPath": str(tmp_path / "downloads")},
    )
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver: WebDriver, css: str, timeout: float = 30) -> None:
    WebDriverWait(driver, timeout).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def wait_for_text(driver: WebDriver, css: str, text: str, timeout: float = 30) -> None:
    WebDriverWait(driver, timeout).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text)
    )


def wait_until_idle(driver: WebDriver) -> None:
    """Wait until the app is no longer running its script (the status widget disappears)."""
    time.sleep(0.5)
    WebDriverWait(driver, 30).until_not(
        ec.presence_of_element_located((By.CSS_SELECTOR, '[data-testid="stStatusWidget"]'))
    )


def visit(driver: WebDriver, title: str, ready_css: str) -> None:
    """Open a page from the sidebar, wait for its content, screenshot it, fail on error boxes."""
    driver.find_element(By.PARTIAL_LINK_TEXT, title).click()
    wait_for_text(driver, "h1", title)
    wait_for(driver, ready_css)
    wait_until_idle(driver)
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{title.lower().replace(' ', '-')}.png"))
    errors = driver.find_elements(By.CSS_SELECTOR, ERROR_BOXES)
    assert not errors, f"{title}: {[e.text for e in errors]}"


def test_every_page_renders_in_chromium_without_an_error_box(dashboard_url, browser, tmp_path):
    browser.get(dashboard_url)
    wait_for(browser, 'input[aria-label="User name"]')
    browser.find_element(By.CSS_SELECTOR, 'input[aria-label="User name"]').send_keys("admin-user")
    browser.find_element(By.CSS_SELECTOR, 'input[aria-label="Password"]').send_keys(PASSWORD)
    browser.find_element(By.XPATH, "//button[.//p[text()='Log in']]").click()
    wait_for_text(browser, "h1", "Overview")

    visit(browser, "Overview", '[data-testid="stMetric"]')
    visit(browser, "Metrics", '[data-testid="stVegaLiteChart"]')
    browser.find_element(By.XPATH, "//button[.//p[text()='Download CSV']]").click()
    exported = wait_for_download(tmp_path / "downloads" / "cpu_busy_ratio.csv")
    assert exported[0] == ["ts", "name", "labels", "value", "min", "max"]
    assert len(exported) > 900
    visit(browser, "Health checks", '[data-testid="stGraphVizChart"]')
    visit(browser, "Alerts", '[data-testid="stDataFrame"]')
    visit(browser, "Recoveries", '[data-testid="stDataFrame"]')
    for title in ("Models",):
        visit(
            browser,
            title,
            '[data-testid="stMain"] [data-testid="stAlert"], [data-testid="stDataFrame"]',
        )
    visit(browser, "Run history", '[data-testid="stDataFrame"]')
    visit(browser, "Access", '[data-testid="stDataFrame"]')

    # auto-refresh: the Overview's "last sample" age moves on without any click
    visit(browser, "Overview", '[data-testid="stMetric"]')
    age = browser.find_element(By.CSS_SELECTOR, '[data-testid="stMetricValue"]').text
    WebDriverWait(browser, 15).until(
        lambda d: d.find_element(By.CSS_SELECTOR, '[data-testid="stMetricValue"]').text != age
    )


def wait_for_download(path: Path) -> list[list[str]]:
    deadline = time.monotonic() + 20
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    with path.open(newline="") as handle:
        return list(csv.reader(handle))
