"""Schedules, entrypoints and the `vigil up` wiring for every Vigil flow."""
