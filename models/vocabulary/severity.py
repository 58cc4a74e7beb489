"""Alert severities and their one ranking: info < warning < critical."""

from enum import StrEnum


class Severity(StrEnum):
    """How urgent an alert is (members listed from least to most severe)."""

    INFO = "info"  # worth knowing; never pages
    WARNING = "warning"  # needs attention during working hours
    CRITICAL = "critical"  # needs attention now; pages


SEVERITY_RANK: dict[str, int] = {severity: rank for rank, severity in enumerate(Severity)}
"""Higher is more severe."""

MOST_SEVERE_FIRST: tuple[Severity, ...] = tuple(reversed(Severity))


def severity_rank(severity: str) -> int:
    """Return the rank of ``severity`` (higher is more severe); an unknown one ranks lowest.

    >>> severity_rank("critical") > severity_rank("warning") > severity_rank("info")
    True
    >>> severity_rank("page-me") < severity_rank("info")
    True
    """
    return SEVERITY_RANK.get(severity, -1)
