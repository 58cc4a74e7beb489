"""The vigil.yaml schema and its loader."""

from models.config.loader import load_config, parse_config
from models.config.root import VigilConfig

__all__ = ["VigilConfig", "load_config", "parse_config"]
