"""Send the scheduled report: the file attached by email, a summary with a link elsewhere."""

import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from models.config.root import VigilConfig
from models.vocabulary.media import Medium
from tasks.core.reports.content import Report, duration, percent
from tasks.core.reports.render import render
from tasks.notify.channels import send
from tasks.slo.report import build_report


def summary(report: Report, link: str) -> str:
    """A few lines for chat and SMS: alerts, MTTA/MTTR, incidents, SLO budgets, the link."""
    ops = report.operations
    lines = [
        f"{ops.alerts} alerts, MTTA {duration(ops.mtta_s)}, MTTR {duration(ops.mttr_s)}, "
        f"{percent(ops.auto_fixed_share, 1)} fixed automatically; "
        f"{len(report.incidents)} incidents.",
        *(
            f"SLO {row['slo']}: {percent(row['sli'])} (budget left "
            f"{percent(row['budget_remaining'], 1)})"
            for row in report.slos
        ),
        f"Details: {link}",
    ]
    return "\n".join(lines)


def send_report(config: VigilConfig, engine: Engine, now: datetime) -> dict:
    """Build the report of ``config.report.since`` up to ``now`` and send it to its channels.

    Returns ``{"sent": [channel, …], "format": …, "bytes": size of the file}``; a channel
    that fails raises (the flow run fails and says which).
    """
    schedule = config.report
    if schedule is None:
        raise ValueError("vigil.yaml has no `report:` section")
    report = build_report(config, engine, now - schedule.since, now)
    content = render(report, schedule.format)
    channels = {c.name: c for c in config.channels}
    text = summary(report, config.alerting.dashboard_url)
    with tempfile.TemporaryDirectory(prefix="vigil-report-") as folder:
        path = Path(folder) / f"vigil-report-{now:%Y%m%d}.{schedule.format}"
        path.write_bytes(content)
        for name in schedule.channels:
            channel = channels[name]
            is_email = channel.medium is Medium.EMAIL
            send(
                channel.url,
                report.title,
                text,
                body_format="text",
                timeout_s=channel.timeout.total_seconds(),
                attach=str(path) if is_email else None,
            )
    return {"sent": list(schedule.channels), "format": schedule.format, "bytes": len(content)}
