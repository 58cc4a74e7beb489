"""The slo flow: judge every SLO each minute; burn-rate alerts fire on what it writes."""

from datetime import UTC, datetime

from prefect import flow

from models.config import load_config
from models.settings import get_settings
from tasks.alerting.sweep import on_the_clock
from tasks.core.alerting.sweep_schedule import sweep_times
from tasks.slo.evaluate import evaluate_at


@flow(name="slo")
def evaluate_slos(window_seconds: float = 0.0, every_seconds: float = 60.0) -> dict:
    """Write each SLO's SLI, error budget and burn rates, every ``every_seconds`` for
    ``window_seconds`` (0: once), with alerting listening so burn-rate rules fire at once.

    The config and the store are the serving process's (``VIGIL_CONFIG_PATH``,
    ``VIGIL_DATABASE_URL``).
    """
    settings = get_settings()
    config = load_config(settings.config_path)
    schedule = sweep_times(datetime.now(UTC), window_seconds, every_seconds)
    return evaluate_at(config, settings.database_url, on_the_clock(schedule))
