"""A dashboard login lasts across page reloads (signed HttpOnly cookie, set by the server)
and ends for good on logout.

`vigil dashboard` in a child process, headless Chromium.
"""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By

from models.migrate import upgrade
from tests.dashboard.helpers import PASSWORD, write_config
from tests.dashboard.test_browser import (
    CHROMEDRIVER,
    CHROMIUM,
    browser,  # noqa: F401  (the fixture)
    wait_for,
    wait_for_text,
    wait_healthy,
    wait_until_idle,
)
from tests.ports import free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs Debian's chromium and chromium-driver (make system-deps)",
    ),
]
LOGIN = 'input[aria-label="User name"]'


@pytest.fixture
def plain_dashboard(tmp_path, password_hash) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """`vigil dashboard` over an empty migrated store; yields its URL and the store URL."""
    db_url = f"sqlite:///{tmp_path / 'vigil.db'}"
    upgrade(db_url)
    config = write_config(tmp_path / "vigil.yaml", password_hash, "", "", refresh="0s")
    port = free_port()
    command = [sys.executable, "-m", "vigil.cli", "dashboard", "--config", str(config)]
    command += ["--db", db_url, "--host", "127.0.0.1", "--port", str(port)]
    env = {**os.environ, "VIGIL_STATE_DIR": str(tmp_path / "state")}
    env["PREFECT_API_URL"] = "http://127.0.0.1:9/api"  # not needed by these pages
    log = (tmp_path / "dashboard.log").open("wb")
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, tmp_path / "dashboard.log")
        yield url, db_url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        log.close()


def test_a_login_survives_a_reload_and_a_logout_kills_the_cookie(plain_dashboard, browser):  # noqa: F811
    url, db_url = plain_dashboard
    browser.get(url)
    wait_for(browser, LOGIN)
    browser.find_element(By.CSS_SELECTOR, LOGIN).send_keys("admin-user")
    browser.find_element(By.CSS_SELECTOR, 'input[aria-label="Password"]').send_keys(PASSWORD)
    browser.find_element(By.XPATH, "//button[.//p[text()='Log in']]").click()
    wait_for_text(browser, "h1", "Overview")
    wait_until_idle(browser)
    cookie = browser.get_cookie("vigil_session")
    assert cookie is not None and cookie["value"].count(".") == 3
    assert PASSWORD not in cookie["value"]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert "vigil_session" not in browser.execute_script("return document.cookie")

    browser.refresh()  # a new Streamlit session: only the cookie remembers the login
    wait_for_text(browser, "h1", "Overview")
    assert not browser.find_elements(By.CSS_SELECTOR, LOGIN)

    browser.find_element(By.XPATH, "//button[.//p[text()='Log out']]").click()
    wait_for(browser, LOGIN)
    wait_until_idle(browser)
    assert browser.get_cookie("vigil_session") is None  # the server cleared it
    browser.add_cookie({"name": "vigil_session", "value": cookie["value"], "path": "/"})
    browser.refresh()  # the old cookie, replayed: its session ended in the store
    wait_for(browser, LOGIN)
    wait_until_idle(browser)
    assert not browser.find_elements(By.XPATH, "//h1[text()='Overview']")

    from sqlalchemy import text

    from models.db import make_engine

    engine = make_engine(db_url)
    with engine.connect() as conn:
        events = [r[0] for r in conn.execute(text("SELECT event FROM login_audit ORDER BY id"))]
    engine.dispose()
    assert events == ["login", "logout"]
