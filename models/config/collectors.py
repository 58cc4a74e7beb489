"""Collector settings: what is measured and how often, what push accepts, how long data is kept."""

import re
from datetime import timedelta
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator

from models.config.base import Breaker, Duration, Labels, StrictModel, first_repeat


class HostCollector(StrictModel):
    """Host metrics (CPU, memory, disks, network) of the machine Vigil runs on."""

    enabled: bool = True
    interval: Duration = Field(timedelta(seconds=10), description="Time between two samples.")
    target: str | None = Field(None, description="Target the metrics belong to; default: hostname.")


class ProcessWatch(StrictModel):
    """One process to watch, found by exactly one of: name, command-line pattern, pid file."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", description="The process label.")
    process_name: str | None = Field(None, description="Executable name, e.g. nginx.")
    cmdline: str | None = Field(
        None, description="Regular expression searched in the command line."
    )
    pid_file: Path | None = Field(None, description="File holding the process id.")
    target: str | None = Field(None, description="Target it belongs to; default: host target.")

    @field_validator("cmdline")
    @classmethod
    def _is_a_regex(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
        return pattern

    @model_validator(mode="after")
    def _one_way_to_find_it(self) -> "ProcessWatch":
        ways = [self.process_name, self.cmdline, self.pid_file]
        if sum(way is not None for way in ways) != 1:
            raise ValueError("give exactly one of process_name, cmdline or pid_file")
        return self


class ProcessCollector(StrictModel):
    """Watched processes: up/down, CPU, memory, threads, fds, uptime, restarts."""

    enabled: bool = True
    interval: Duration = Field(timedelta(seconds=10), description="Time between two samples.")
    watch: list[ProcessWatch] = Field(default_factory=list, description="Processes to watch.")

    @field_validator("watch")
    @classmethod
    def _names_are_unique(cls, watch: list[ProcessWatch]) -> list[ProcessWatch]:
        repeat = first_repeat(w.name for w in watch)
        if repeat:
            raise ValueError(f"process {repeat[1]!r} is watched twice; names must be unique")
        return watch


class ScrapeTarget(StrictModel):
    """An endpoint exposing the Prometheus text format."""

    job: str = Field(pattern=r"^[A-Za-z0-9_.:-]+$", description="The job label.")
    url: str = Field(
        pattern=r"^https?://", description="Full URL, e.g. http://10.0.0.5:9100/metrics"
    )
    interval: Duration = Field(timedelta(seconds=15), description="Time between two scrapes.")
    timeout: Duration = Field(timedelta(seconds=5), description="Give up on a scrape after this.")
    labels: Labels = Field(default_factory=dict, description="Labels added to every series.")
    breaker: Breaker = Field(
        default_factory=Breaker, description="Skip the target while it keeps failing."
    )


class PushToken(StrictModel):
    """A bearer token a sender presents; give the token itself or the variable that holds it."""

    name: str = Field(description="Who uses it (shown in logs, never the token).")
    token: SecretStr | None = None
    token_env: str | None = Field(None, description="Environment variable holding the token.")

    @model_validator(mode="after")
    def _one_source(self) -> "PushToken":
        if (self.token is None) == (self.token_env is None):
            raise ValueError("give exactly one of token or token_env")
        return self


class PushSettings(StrictModel):
    """The push endpoint: senders POST samples (Prometheus text or JSON)."""

    enabled: bool = False
    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(9091, ge=0, le=65535)
    max_body_bytes: int = Field(10_000_000, gt=0, description="Bigger bodies get 413.")
    max_ahead: Duration = Field(
        timedelta(minutes=5), description="Samples stamped further in the future are refused."
    )
    tokens: list[PushToken] = Field(default_factory=list, description="Accepted bearer tokens.")
    tls_cert: str | None = Field(None, description="PEM certificate file: serve HTTPS.")
    tls_key: str | None = Field(None, description="PEM private key file of tls_cert.")

    @model_validator(mode="after")
    def _tls_pair(self) -> "PushSettings":
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("give both tls_cert and tls_key, or neither")
        return self

    @property
    def scheme(self) -> str:
        """http, or https when TLS is configured."""
        return "https" if self.tls_cert else "http"


class Retention(StrictModel):
    """How long each kind of stored data is kept; the maintenance flow deletes what is older.

    What an alert's timeline needs (its transitions, events, notifications and the recovery
    runs it started) stays as long as the alert does, whatever the age of those rows.
    """

    raw: Duration = Field(timedelta(days=7), description="Raw samples.")
    rollup_1m: Duration = Field(
        timedelta(days=14),
        description="1-minute rollups (charts of the last two weeks; older ranges use 1-hour).",
    )
    rollup_1h: Duration = Field(timedelta(days=400), description="1-hour rollups.")
    check_results: Duration = Field(timedelta(days=14), description="Every check result.")
    health_scores: Duration = Field(timedelta(days=14), description="Every health score.")
    transitions: Duration = Field(
        timedelta(days=90),
        description="Check results that changed a check's status, and health scores that "
        "changed a level: kept this long, after the others are gone.",
    )
    alerts: Duration = Field(
        timedelta(days=90),
        description="Resolved (or never fired) alerts, counted from their last change, with "
        "their transitions, events and notifications; also expired silences and dismissals.",
    )
    notifications: Duration = Field(
        timedelta(days=90), description="Delivered or failed notifications no kept alert names."
    )
    recoveries: Duration = Field(
        timedelta(days=90), description="Finished recovery runs (no kept alert's) and audits."
    )
    forecasts: Duration = Field(
        timedelta(days=14), description="Forecast issues; each series' newest is always kept."
    )
    anomaly_scores: Duration = Field(
        timedelta(days=14), description="Anomaly scores (charted beside the 1-minute rollups)."
    )
    breaker_events: Duration = Field(
        timedelta(days=90), description="Circuit breaker state changes (the Breakers tab)."
    )
    access_audit: Duration = Field(
        timedelta(days=400),
        description="Logins and lockouts, approval codes, and configuration loads (each "
        "process's newest load is kept).",
    )
    # Deleted by the Prefect server's own db_vacuum service, which `vigil up` enables.
    prefect_runs: Duration = Field(
        timedelta(days=14), description="Prefect's finished flow runs, task runs and logs."
    )
    model_versions: int = Field(
        5, ge=0, description="Model versions kept per series besides the current one."
    )
    batch_rows: int = Field(
        5000, gt=0, description="Rows deleted per transaction, so no delete locks the store."
    )

    @model_validator(mode="after")
    def _coarser_lasts_longer(self) -> "Retention":
        if not self.raw <= self.rollup_1m <= self.rollup_1h:
            raise ValueError("keep rollup_1h at least as long as rollup_1m, and that as raw")
        if self.transitions < max(self.check_results, self.health_scores):
            raise ValueError("keep transitions at least as long as check_results and health_scores")
        if self.prefect_runs <= timedelta(hours=1):
            raise ValueError("prefect_runs must be longer than 1h (Prefect's minimum)")
        return self


class Collectors(StrictModel):
    """Every collector, the push endpoint, retention, and how long one collect run lasts."""

    host: HostCollector = Field(default_factory=HostCollector)
    processes: ProcessCollector = Field(default_factory=ProcessCollector)
    scrapes: list[ScrapeTarget] = Field(default_factory=list)
    push: PushSettings = Field(default_factory=PushSettings)
    retention: Retention = Field(default_factory=Retention)
    run_window: Duration = Field(
        timedelta(minutes=5),
        description="How long one collect flow run lasts (many ticks; ~288 runs a day at 5m).",
    )
