"""Vigil's HTTP APIs: its own /api/v1 and the Prometheus- and Alertmanager-compatible ones."""
