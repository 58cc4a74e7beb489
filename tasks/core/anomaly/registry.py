"""All detectors by name, and the fall-back wrapper production scoring goes through."""

import numpy as np

from tasks.core.anomaly.base import DAY_OF_5_MIN, Detector
from tasks.core.anomaly.contextual import ContextualNovelty
from tasks.core.anomaly.knn import Blend, KnnConformal
from tasks.core.anomaly.leak import MemoryLeak
from tasks.core.anomaly.learned import IsolationForestDetector, LofDetector, OneClassSvmDetector
from tasks.core.anomaly.statistical import Cusum, Ensemble, RobustZ, SeasonalESD

DETECTORS: dict[str, type[Detector]] = {
    d.name: d
    for d in (
        ContextualNovelty,
        KnnConformal,
        Blend,
        Ensemble,
        RobustZ,
        SeasonalESD,
        Cusum,
        IsolationForestDetector,
        LofDetector,
        OneClassSvmDetector,
        MemoryLeak,
    )
}
DEFAULT = ContextualNovelty.name  # what `vigil_anomaly_score` uses unless configured


class WithFallback(Detector):
    """Score with ``primary``; if it raises, score with the robust z detector instead."""

    def __init__(self, primary: Detector, fallback: Detector | None = None) -> None:
        super().__init__(primary.period)
        self.primary = primary
        self.fallback = fallback or RobustZ(primary.period)
        self.failure = ""
        self.name = primary.name

    def _score(self, values: np.ndarray) -> np.ndarray:
        try:
            return self.primary.score(values)
        except Exception as exc:  # a detector bug must not blind the series
            self.failure = f"{self.primary.name} failed: {type(exc).__name__}: {exc}"
            self.name = self.fallback.name
            return self.fallback.score(values)


def make_detector(name: str = DEFAULT, period: int = DAY_OF_5_MIN) -> Detector:
    """The named detector wrapped in the fall-back; raise KeyError naming the choices."""
    if name not in DETECTORS:
        raise KeyError(f"unknown detector {name!r}; choose one of {', '.join(DETECTORS)}")
    return WithFallback(DETECTORS[name](period))
