"""A dashboard login lasts across page reloads (signed HttpOnly cookie, set by the server)
and ends for good on logout.

`vigil dashboard` in a child process, headless Chromium.
"""

import os
from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By

from models.migrate import upgrade
from tests.dashboard.helpers import PASSWORD, write_config
from tests.dashboard.test_browser import (
    NEEDS_CHROMIUM,
    browser,  # noqa: F401  (the fixture)
    served_dashboard,
    wait_for,
    wait_for_text,
    wait_until_idle,
)

pytestmark = [pytest.mark.slow, NEEDS_CHROMIUM]
LOGIN = 'input[aria-label="User name"]'


@pytest.fixture
def plain_dashboard(tmp_path, password_hash) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """`vigil dashboard` over an empty migrated store; yields its URL and the store URL."""
    db_url = f"sqlite:///{tmp_path / 'vigil.db'}"
    upgrade(db_url)
    config = write_config(tmp_path / "vigil.yaml", password_hash, "", "", refresh="0s")
    env = {**os.environ, "VIGIL_STATE_DIR": str(tmp_path / "state")}
    env["PREFECT_API_URL"] = "http://127.0.0.1:9/api"  # not needed by these pages
    with served_dashboard(tmp_path, config, db_url, env) as url:
        yield url, db_url


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
