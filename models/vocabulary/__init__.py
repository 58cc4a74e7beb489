"""The words every layer shares: labels, selectors, durations, resolutions, templates.

Standard library and jinja2 only: models/ and tasks/core/ import it, it imports neither.
"""
