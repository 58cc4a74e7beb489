"""The report flow: build the report of the last span and send it through its channels."""

from datetime import UTC, datetime

from prefect import flow

from models.config import load_config
from models.db import make_engine
from models.settings import get_settings
from tasks.slo.delivery import send_report


@flow(name="report")
def send_scheduled_report() -> dict:
    """Send vigil.yaml's ``report:`` (the file by email, a summary elsewhere).

    The config and the store are the serving process's (``VIGIL_CONFIG_PATH``,
    ``VIGIL_DATABASE_URL``); the span ends now.
    """
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        return send_report(load_config(settings.config_path), engine, datetime.now(UTC))
    finally:
        engine.dispose()
