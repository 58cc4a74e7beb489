"""Collection adapters: psutil host and processes, scrapes, the push endpoint."""
