"""The ``report:`` section of vigil.yaml: the scheduled report and where it goes."""

from datetime import datetime, timedelta
from typing import Literal

from cronsim import CronSim, CronSimError
from pydantic import Field, field_validator

from models.config.base import Duration, StrictModel


class ReportSchedule(StrictModel):
    """Send a report of the last ``since`` on a cron schedule: email gets the file attached,
    other channels a summary with a link to the dashboard."""

    channels: list[str] = Field(min_length=1, description="Channel names to send it to.")
    since: Duration = Field(timedelta(days=7), description="The span it covers.")
    cron: str = Field("0 7 * * 1", description="When to send (cron; default Monday 07:00).")
    timezone: str = Field("UTC", description="Time zone of the cron schedule.")
    format: Literal["pdf", "html"] = Field("pdf", description="The attached file's format.")

    @field_validator("cron")
    @classmethod
    def _cron_ok(cls, text: str) -> str:
        try:
            CronSim(text, datetime(2026, 1, 1))
        except CronSimError as exc:
            raise ValueError(f"{text!r} is not a cron expression: {exc}") from None
        return text


def report_problem(config) -> tuple[tuple[str | int, ...], str] | None:  # type: ignore[no-untyped-def]
    """Return (field path, message) when the report names an unknown channel."""
    if config.report is None:
        return None
    known = {c.name for c in config.channels}
    for index, name in enumerate(config.report.channels):
        if name not in known:
            listed = ", ".join(sorted(known)) or "none"
            return ("report", "channels", index), f"unknown channel {name!r}; known: {listed}"
    return None
