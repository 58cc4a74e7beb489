"""The trust gate on the alert path: dismissals, minimum history and corroboration.

Before observations fold into alerts, a breaching observation is turned clear when an
operator dismissed its rule on that series (until the dismissal ends), or when its
anomaly/forecast rule's series is too young or no second signal agrees.
"""

from sqlalchemy import Connection, text

from models.store import MetricStore
from models.vocabulary.selectors import Selector, label_matcher
from tasks.alerting import dismissal_store as dismissals
from tasks.alerting import store as repo
from tasks.core.alerting.lifecycle import AlertState
from tasks.core.alerting.rules import Observation, RuleSpec
from tasks.core.alerting.trust import (
    agrees,
    dismissal_key,
    has_history,
    is_about,
    watched_series,
)

FIRST_SAMPLE = text(
    "SELECT MIN(first_ms) FROM (SELECT MIN(ts_ms) AS first_ms FROM sample WHERE series_id = :id"
    " UNION ALL SELECT MIN(bucket_ms) FROM rollup_1h WHERE series_id = :id) AS firsts"
)


class TrustGate:
    """Clear the breaching observations that are not to be trusted (see module doc)."""

    def __init__(self, specs: dict[str, RuleSpec], store: MetricStore | None) -> None:
        self.specs, self.store = specs, store
        self._gated = {
            name
            for name, spec in specs.items()
            if spec.min_history_s > 0 or spec.corroborate is not None
        }
        self._old_enough: set[tuple] = set()  # type: ignore[type-arg]  # series past min_history

    def judge(
        self, conn: Connection, by_fp: dict[str, list[Observation]], now: float
    ) -> dict[str, list[Observation]]:
        """Return ``by_fp`` with untrusted breaching observations made clear."""
        dismissed = dismissals.active_keys(conn, now)
        if not dismissed and not self._gated:
            return by_fp
        return {
            fp: [self._judged(conn, o, dismissed) for o in found] for fp, found in by_fp.items()
        }

    def _judged(self, conn: Connection, obs: Observation, dismissed: set) -> Observation:  # type: ignore[type-arg]
        if not obs.is_breaching:
            return obs
        if dismissal_key(obs.rule, obs.labels) in dismissed:  # no value: no hysteresis hold
            return obs._replace(is_breaching=False, value=None)
        if obs.rule in self._gated and obs.is_fresh and not self._trusts(conn, obs):
            return obs._replace(is_breaching=False)
        return obs

    def _trusts(self, conn: Connection, obs: Observation) -> bool:
        spec = self.specs[obs.rule]
        name, labels = watched_series(obs.labels, spec.labels)
        if not self._has_history(spec, name, labels, obs.at):
            return False
        check = spec.corroborate
        if check is None:
            return True
        if check.rule is not None:
            firing = repo.load_in_states(conn, [AlertState.FIRING], [check.rule])
            return agrees(
                check,
                newest_value=None,
                is_rule_firing=any(is_about(other.labels, name, labels) for other in firing),
            )
        return agrees(check, newest_value=self._newest(name, labels), is_rule_firing=False)

    def _has_history(self, spec: RuleSpec, name: str, labels: dict[str, str], at: float) -> bool:
        key = (spec.name, name, tuple(sorted(labels.items())))
        if spec.min_history_s <= 0 or key in self._old_enough:
            return True
        first = self._first_sample_at(name, labels)
        if has_history(first, now=at, min_history_s=spec.min_history_s):
            self._old_enough.add(key)
            return True
        return False

    def _series_id(self, name: str, labels: dict[str, str]) -> int | None:
        if self.store is None:
            return None
        selector = Selector(name, tuple(label_matcher(k, "=", v) for k, v in labels.items()))
        found = [s for s in self.store.find_series(selector) if s.labels == labels]
        return found[0].id if found else None

    def _first_sample_at(self, name: str, labels: dict[str, str]) -> float | None:
        series_id = self._series_id(name, labels)
        if series_id is None or self.store is None:
            return None
        with self.store.engine.connect() as conn:
            first_ms = conn.execute(FIRST_SAMPLE, {"id": series_id}).scalar()
        return None if first_ms is None else first_ms / 1000.0

    def _newest(self, name: str, labels: dict[str, str]) -> float | None:
        series_id = self._series_id(name, labels)
        if series_id is None or self.store is None:
            return None
        selector = Selector(name, tuple(label_matcher(k, "=", v) for k, v in labels.items()))
        found = [p.value for p in self.store.latest_points(selector) if p.series_id == series_id]
        return found[-1] if found else None
