"""Vigil watching itself: its built-in rules, routes and heartbeat schedule (pure)."""
