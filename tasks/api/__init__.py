"""Vigil's HTTP API: one FastAPI app with the push endpoint and ``/api/v1`` (see app.py)."""
