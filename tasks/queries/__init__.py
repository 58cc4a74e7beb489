"""Everything the dashboard and the API read, as DataFrames: one module per capability.

Pages call ``queries.<capability>.<function>`` (``queries.alerting.alerts(engine)``), so each
call site names the capability it reads. The modules select from the real SQLModel tables
of ``models/`` (or call the capability's read functions in ``tasks/``): a renamed column
fails when the module is imported, not when a page happens to run the query. pandas is
imported by the functions that build a frame: the API server imports these modules too and
idles without it.
"""

from tasks.queries import (
    alerting,
    analytics,
    breakers,
    checks,
    incidents,
    metrics,
    recovery,
    runs,
    self_watch,
    slo,
)  # fmt: skip
from tasks.queries.frames import has_tables
from tasks.queries.runs import prefect_client  # app.actions resumes paused runs with it

__all__ = [
    "alerting", "analytics", "breakers", "checks", "has_tables", "incidents", "metrics",
    "prefect_client", "recovery", "runs", "self_watch", "slo",
]  # fmt: skip
