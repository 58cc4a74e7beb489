"""Prefect flows, one job per module."""
