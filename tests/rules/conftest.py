"""Rule-feature fixtures: the alerting fixtures (engines from YAML, webhook receiver)."""

from tests.alerting.conftest import make_alert_engine, sqlite_url, webhook  # noqa: F401
