"""Notification fixtures: the alerting ones (engines from YAML, webhook, SMTP server)."""

from tests.alerting.conftest import make_alert_engine, smtp, sqlite_url, webhook  # noqa: F401
