"""Pages whose data come from other capabilities: empty states, then seeded data."""

import pytest

from tests.dashboard.helpers import open_page

PAGES = {
    "views/health.py": "Health checks are not available yet",
    "views/alerts.py": "Alerts are not available yet",
    "views/recoveries.py": "Recoveries are not available yet",
    "views/models.py": "Models are not available yet",
}


@pytest.mark.parametrize(("page", "message"), PAGES.items())
def test_a_page_without_its_tables_says_its_data_is_not_available_yet(
    bare_store, dashboard_env, page, message
):
    dashboard_env(bare_store)
    at = open_page(page)
    assert not at.exception
    assert message in at.info[0].value
