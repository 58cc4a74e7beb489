"""Vigil's data: configuration schema, settings, database engine, tables and migrations.

Nothing here connects to anything at import time.
"""
