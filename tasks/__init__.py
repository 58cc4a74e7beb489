"""Prefect task adapters: one kind of I/O each; pure logic lives in ``tasks.core``."""
