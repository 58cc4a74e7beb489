"""Forecasters sharing one contract: ``fit(frame) -> self``, ``predict(horizon) -> frame``."""
