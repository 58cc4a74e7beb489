"""The markdown report of one recovery run (a Prefect artifact and the CLI's summary)."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AuditLine:
    """One audited decision, as the report shows it."""

    at: datetime
    event: str
    actor: str
    detail: str


def report_markdown(
    title: str, outcome: str, plan_text: str, lines: list[AuditLine], *, is_dry_run: bool
) -> str:
    """Render a run's outcome, plan and decisions as markdown.

    >>> from datetime import UTC
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> print(report_markdown("r", "succeeded", "- `x`", [AuditLine(t, "verified", "vigil", "a|b")],
    ...                       is_dry_run=False))
    # r
    <BLANKLINE>
    **Outcome:** succeeded
    <BLANKLINE>
    - `x`
    <BLANKLINE>
    | time (UTC) | decision | by | detail |
    |---|---|---|---|
    | 00:00:00.000 | verified | vigil | a\\|b |
    """
    head = f"**Outcome:** {outcome}" + (" (dry run: nothing was changed)" if is_dry_run else "")
    rows = ["| time (UTC) | decision | by | detail |", "|---|---|---|---|"]
    rows += [
        f"| {line.at:%H:%M:%S.%f}"[:-3] + f" | {line.event} | {line.actor} | {_cell(line.detail)} |"
        for line in lines
    ]
    return "\n".join([f"# {title}", "", head, "", plan_text, "", *rows])


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:300]
