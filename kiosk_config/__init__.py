"""Site configuration: schema, loader, and example files."""

from kiosk_config.errors import ConfigError, ConfigProblem
from kiosk_config.loader import EXAMPLES, load_config, parse_config
from kiosk_config.readiness import CheckReport, check_config
from kiosk_config.schema import Address, KioskConfig, Mode, Site

__all__ = [
    "EXAMPLES",
    "Address",
    "CheckReport",
    "ConfigError",
    "ConfigProblem",
    "KioskConfig",
    "Mode",
    "Site",
    "check_config",
    "load_config",
    "parse_config",
]
