"""PromQL for the Prometheus-compatible query API: parsing, evaluation, result shapes."""
