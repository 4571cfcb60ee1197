"""Site configuration: schema, loader, and example files."""

from kiosk_config.errors import ConfigError, ConfigProblem
from kiosk_config.loader import EXAMPLES, load_config, parse_config
from kiosk_config.schema import KioskConfig, Mode

__all__ = [
    "EXAMPLES",
    "ConfigError",
    "ConfigProblem",
    "KioskConfig",
    "Mode",
    "load_config",
    "parse_config",
]
