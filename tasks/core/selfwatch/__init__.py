"""Vigil watching itself: when its heartbeat is due (pure)."""
