"""Operators' dismissals of false positives, handed to the next retraining of a series."""

from dataclasses import replace
from datetime import datetime

from sqlalchemy import Engine

from models.store import SeriesInfo
from tasks.alerting.dismissal_store import about_series
from tasks.core.forecast.retrain import VersionDraft


def with_dismissals(
    engine: Engine, info: SeriesInfo, draft: VersionDraft, *, since: datetime
) -> VersionDraft:
    """Record in the draft's params the false positives dismissed on this series since ``since``.

    ``params["false_positives"]`` lists, per dismissal, the rule, when the alert fired, its
    value and who dismissed it, so the version says which alerts its training data produced
    and an operator rejected.
    """
    with engine.connect() as conn:
        found = about_series(conn, info.name, info.labels)
    recent = [d for d in found if (d.fired_at or d.until) >= since.timestamp()]
    if not recent:
        return draft
    entries = [
        {"rule": d.rule, "fired_at": d.fired_at, "value": d.value, "by": d.by} for d in recent
    ]
    return replace(draft, params={**draft.params, "false_positives": entries})
