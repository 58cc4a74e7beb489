"""scikit-learn detectors on windowed features: IsolationForest, LOF, One-Class SVM.

Online by refitting: rows t..t+R-1 are scored by a model fitted on the ``history`` rows
before t, so no score sees its own or later rows. A row's raw outlyingness becomes a
score through its robust z among the last ``history`` raw values (one alarm per event).
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import LocalOutlierFactor
from sklearn.svm import OneClassSVM

from tasks.core.anomaly.base import Detector
from tasks.core.anomaly.online import keep_new_highs, squash, trailing_robust_z

Z_SCALE = 10.0  # how far beyond its usual outlyingness a window must be to score 0.63

WIDTH = 8  # values per feature window (40 minutes of 5-minute data)
HISTORY = 1000  # rows a model is fitted on
REFIT_EVERY = 500  # rows scored by one fitted model
MIN_HISTORY = 200  # rows needed before the first fit
SUBSAMPLE = 500  # windows used per fit: keeps the One-Class SVM and LOF fits fast


def window_features(values: np.ndarray, center: float, scale: float) -> np.ndarray:
    """Standardised last-``WIDTH`` values and their differences, one row per window end."""
    windows = (sliding_window_view(values, WIDTH) - center) / scale
    return np.hstack([windows, np.diff(windows, axis=1)])


class WindowedModel(Detector):
    """Refit a scikit-learn novelty model on trailing windows; score the next rows."""

    def _model(self):  # type: ignore[no-untyped-def]
        """A fresh, unfitted scikit-learn novelty model."""
        raise NotImplementedError

    def _score(self, values: np.ndarray) -> np.ndarray:
        n = len(values)
        raw = np.full(n, np.nan)
        for t in range(WIDTH - 1 + MIN_HISTORY, n, REFIT_EVERY):
            history = values[max(0, t - HISTORY) : t]
            center = float(np.median(history))
            q75, q25 = np.percentile(history, [75, 25])
            scale = float(q75 - q25) or float(np.std(history)) or 1.0
            train = window_features(history, center, scale)
            step = max(len(train) // SUBSAMPLE, 1)
            model = self._model().fit(train[::step])
            end = min(n, t + REFIT_EVERY)
            query = window_features(values[t - WIDTH + 1 : end], center, scale)
            raw[t:end] = -model.score_samples(query)
        surprise = trailing_robust_z(raw, HISTORY, upper_only=True)
        return squash(keep_new_highs(surprise, self.period), Z_SCALE)


class IsolationForestDetector(WindowedModel):
    """Isolation forest: windows that few random splits isolate are anomalous."""

    name = "isolation_forest"

    def _model(self) -> IsolationForest:
        return IsolationForest(n_estimators=25, random_state=0)


class LofDetector(WindowedModel):
    """Local outlier factor (novelty mode): windows in sparse neighbourhoods are anomalous."""

    name = "lof"

    def _model(self) -> LocalOutlierFactor:
        return LocalOutlierFactor(n_neighbors=20, novelty=True)


class OneClassSvmDetector(WindowedModel):
    """One-class SVM (RBF): windows outside the learned support are anomalous."""

    name = "one_class_svm"

    def _model(self) -> OneClassSVM:
        return OneClassSVM(nu=0.05, gamma="scale")
