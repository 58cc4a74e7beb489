"""Health checks and health scoring: the ``checks:`` and ``health:`` sections of vigil.yaml."""

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    field_validator,
    model_validator,
)

from models.config.base import Duration, Labels, LocatedValueError, StrictModel, first_repeat
from models.errors import MatcherError
from models.vocabulary.selectors import parse_selector

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"


class CheckBase(StrictModel):
    """What every check has: identity, place in the health tree, schedule and state rules."""

    name: str = Field(pattern=NAME_PATTERN, description="Unique check name.")
    target: str = Field(pattern=NAME_PATTERN, description="Target the check is about.")
    component: str | None = Field(
        None, description="Component of the target it scores (default: the check's name)."
    )
    interval: Duration = Field(timedelta(seconds=60), description="Time between two runs.")
    timeout: Duration = Field(timedelta(seconds=10), description="Limit for one try.")
    retries: int = Field(0, ge=0, le=10, description="Extra tries within one run on failure.")
    retry_backoff: Duration = Field(
        timedelta(milliseconds=500), description="Wait before the first retry; doubles each time."
    )
    max_attempts: int = Field(
        3, ge=1, le=100, description="Consecutive failed runs before the state is hard DOWN."
    )
    recover_after: int = Field(
        1, ge=1, le=100, description="Consecutive passing runs before a hard DOWN is UP again."
    )
    depends_on: list[str] = Field(
        default_factory=list,
        description="Parent checks; while one is down, failures here are "
        "UNREACHABLE and not alerted.",
    )
    weight: float = Field(1.0, gt=0, description="Weight in its component's health score.")
    labels: Labels = Field(default_factory=dict, description="Labels added to its report.")

    @field_validator("interval")
    @classmethod
    def _at_least_a_second(cls, interval: timedelta) -> timedelta:
        if interval < timedelta(seconds=1):
            raise ValueError("interval must be at least 1s")
        return interval

    @property
    def component_name(self) -> str:
        """The component this check scores."""
        return self.component or self.name


class HttpCheck(CheckBase):
    """An HTTP(S) request: status, latency, body and TLS certificate assertions."""

    type: Literal["http"]
    url: str = Field(pattern=r"^https?://", description="URL to request (http:// or https://).")
    method: Literal["GET", "HEAD", "POST", "PUT", "OPTIONS"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = Field(None, description="Request body to send.")
    expect_status: list[int] = Field(
        default_factory=lambda: [200], min_length=1, description="Acceptable status codes."
    )
    max_latency: Duration | None = Field(None, description="Slower answers fail the check.")
    body_contains: str | None = Field(None, description="Substring the answer must contain.")
    json_fields: dict[str, Any] = Field(
        default_factory=dict,
        description="Dotted paths into a JSON answer and the values they must equal "
        "(`status: ok`, `checks.0.healthy: true`).",
    )
    min_cert_days: float | None = Field(
        None, ge=0, description="HTTPS only: the certificate must be valid this many more days."
    )
    verify_tls: bool = Field(True, description="Verify the certificate chain and host name.")
    ca_file: str | None = Field(None, description="PEM bundle to verify against (self-signed).")
    follow_redirects: bool = False


class TcpCheck(CheckBase):
    """A TCP connect to host:port."""

    type: Literal["tcp"]
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)


class ProcessCheck(CheckBase):
    """Processes on this host matched by name or command line: count, CPU and memory."""

    type: Literal["process"]
    process: str | None = Field(None, description="Exact process name (as `ps -o comm`).")
    cmdline: str | None = Field(None, description="Regular expression over the command line.")
    min_count: int = Field(1, ge=0)
    max_count: int | None = Field(None, ge=0)
    max_cpu_percent: float | None = Field(None, gt=0, description="Summed over the matches.")
    max_rss_bytes: int | None = Field(None, gt=0, description="Summed resident memory.")

    @model_validator(mode="after")
    def _needs_a_matcher(self) -> "ProcessCheck":
        if not self.process and not self.cmdline:
            raise ValueError("a process check needs `process:` (name) or `cmdline:` (regex)")
        return self


class CommandCheck(CheckBase):
    """A program run with an argument list (never a shell): exit code and output."""

    type: Literal["command"]
    argv: list[str] = Field(min_length=1, description="Program and arguments; no shell.")
    env: dict[str, str] = Field(default_factory=dict, description="Added to the environment.")
    cwd: str | None = None
    expect_exit: int = 0
    output_contains: str | None = Field(None, description="Substring of stdout+stderr.")
    output_matches: str | None = Field(None, description="Regex searched in stdout+stderr.")


class SqlCheck(CheckBase):
    """A query against a database URL; its first value must equal ``expect``."""

    type: Literal["sql"]
    url: str = Field(min_length=1, description="SQLAlchemy URL (sqlite:///…, postgresql://…).")
    query: str = Field(min_length=1)
    expect: str | int | float | bool | None = Field(
        None, description="Expected first column of the first row; omit to only require success."
    )


class MetricCheck(CheckBase):
    """The newest value of every series a selector matches satisfies a condition."""

    type: Literal["metric"]
    selector: str = Field(description='Prometheus selector, e.g. disk_free_ratio{host="db-1"}.')
    op: Literal["<", "<=", ">", ">=", "==", "!="]
    value: float
    max_age: Duration = Field(timedelta(minutes=5), description="Older newest samples fail.")

    @field_validator("selector")
    @classmethod
    def _selector_parses(cls, text: str) -> str:
        try:
            parse_selector(text)
        except MatcherError as exc:  # not a ValueError, so pydantic would not locate it
            raise ValueError(str(exc)) from None
        return text


CHECK_TYPES = ("http", "tcp", "process", "command", "sql", "metric")


def _known_type(value: Any) -> Any:
    """Name an unknown or missing ``type:`` plainly (pydantic would echo the whole check)."""

    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if kind not in CHECK_TYPES:
        problem = "is missing" if kind is None else f"{kind!r} is not a check type"
        raise LocatedValueError(("type",), f"{problem}; use one of {', '.join(CHECK_TYPES)}")
    return value


CheckConfig = Annotated[
    HttpCheck | TcpCheck | ProcessCheck | CommandCheck | SqlCheck | MetricCheck,
    Field(discriminator="type"),
    BeforeValidator(_known_type),
]


def _checks_are_consistent(checks: list[Any]) -> list[Any]:
    """Names are unique, parents exist and dependencies have no cycle."""

    repeat = first_repeat(check.name for check in checks)
    if repeat:
        raise LocatedValueError((repeat[0], "name"), f"check {repeat[1]!r} is defined twice")
    names = {check.name: index for index, check in enumerate(checks)}
    for index, check in enumerate(checks):
        for parent in check.depends_on:
            if parent not in names:
                raise LocatedValueError(
                    (index, "depends_on"), f"depends on unknown check {parent!r}"
                )
    cycle = _find_cycle({c.name: c.depends_on for c in checks})
    if cycle:
        index = names[cycle[0]]
        raise LocatedValueError((index, "depends_on"), f"dependency cycle: {' -> '.join(cycle)}")
    return checks


def _find_cycle(parents: dict[str, list[str]]) -> list[str]:
    """Return one dependency cycle as a list of names (first repeated last), or [].

    Iterative, so a long chain of dependencies cannot exhaust the stack.

    >>> _find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]})
    ['a', 'b', 'c', 'a']
    """
    done: set[str] = set()
    for start in parents:
        path: list[str] = []
        on_path: dict[str, int] = {}
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            name, next_parent = stack.pop()
            if next_parent == 0:
                if name in on_path:
                    return [*path[on_path[name] :], name]
                if name in done:
                    continue
                on_path[name] = len(path)
                path.append(name)
            todo = parents.get(name, [])
            if next_parent < len(todo):
                stack += [(name, next_parent + 1), (todo[next_parent], 0)]
            else:
                done.add(path.pop())
                del on_path[name]
    return []


CheckList = Annotated[list[CheckConfig], AfterValidator(_checks_are_consistent)]


class CheckPause(StrictModel):
    """A time span in which checks do not run, count or alert (their state is UNKNOWN)."""

    name: str = Field(min_length=1)
    start: AwareDatetime = Field(description="ISO time with zone, e.g. 2026-11-24T02:00:00Z.")
    end: AwareDatetime
    targets: list[str] = Field(default_factory=list, description="Targets covered.")
    checks: list[str] = Field(default_factory=list, description="Checks covered.")

    @model_validator(mode="after")
    def _is_a_real_span(self) -> "CheckPause":
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if not self.targets and not self.checks:
            raise ValueError("name the `targets:` and/or `checks:` the window covers")
        return self

    def covers(self, check: str, target: str, now: datetime) -> bool:
        """Return True when ``check`` on ``target`` is in this window at ``now``."""
        return self.start <= now < self.end and (check in self.checks or target in self.targets)


class Levels(StrictModel):
    """Lowest score of each level; below ``degraded`` is critical."""

    healthy: float = Field(90, ge=0, le=100)
    warning: float = Field(70, ge=0, le=100)
    degraded: float = Field(40, ge=0, le=100)

    @model_validator(mode="after")
    def _descending(self) -> "Levels":
        if not self.healthy >= self.warning >= self.degraded:
            raise ValueError("levels must satisfy healthy >= warning >= degraded")
        return self


class HealthConfig(StrictModel):
    """How check results roll up into scores, and when checks are paused."""

    levels: Levels = Field(default_factory=Levels)
    soft_down_score: float = Field(
        50, ge=0, le=100, description="Score of a check that failed but is not hard DOWN yet."
    )
    component_weights: dict[str, float] = Field(
        default_factory=dict, description="Weight per component name (default 1)."
    )
    target_weights: dict[str, float] = Field(
        default_factory=dict, description="Weight per target name in the system score (default 1)."
    )
    score_interval: Duration = Field(
        timedelta(minutes=1), description="Record unchanged scores this often (changes: at once)."
    )
    maintenance: list[CheckPause] = Field(default_factory=list)
    max_concurrency: int = Field(200, ge=1, le=10_000, description="Checks in flight at once.")

    @field_validator("component_weights", "target_weights")
    @classmethod
    def _positive(cls, weights: dict[str, float]) -> dict[str, float]:
        for name, weight in weights.items():
            if weight <= 0:
                raise ValueError(f"weight of {name!r} must be > 0 (got {weight})")
        return weights
