"""Vigil: watch services and hosts, forecast trouble, alert once, heal under human control."""

__version__ = "0.1.0"
