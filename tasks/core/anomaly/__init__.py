"""Anomaly detectors: higher score = more anomalous, in [0, 1], computed online."""
