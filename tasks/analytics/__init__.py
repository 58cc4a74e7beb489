"""Analytics adapters: which series, retrain/forecast/score, model versions."""
