"""Vigil watching itself: samples about its outbox, channels, store and deployments."""
