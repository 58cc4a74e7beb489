"""Collector settings: what is measured and how often."""

from datetime import timedelta

from pydantic import Field

from models.config.base import Duration, StrictModel


class HostCollector(StrictModel):
    """Host metrics (CPU, memory, disks, network) of the machine Vigil runs on."""

    enabled: bool = True
    interval: Duration = Field(timedelta(seconds=10), description="Time between two samples.")
    target: str | None = Field(None, description="Target the metrics belong to; default: hostname.")


class Collectors(StrictModel):
    """Every collector; later sections (processes, scrapes, push) extend this."""

    host: HostCollector = Field(default_factory=HostCollector)
