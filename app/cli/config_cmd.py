"""`kiosk config check FILE`: validate a site configuration for a technician."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kiosk_config import ConfigError, load_config


def register(sub: Any) -> None:
    p = sub.add_parser("config", help="site configuration tools")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION")
    csub.required = True
    check = csub.add_parser("check", help="validate a site configuration file")
    check.add_argument("file", help="path of the TOML site configuration")
    check.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    try:
        cfg = load_config(args.file)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(
        f"{args.file}: ok — cabin {cfg.site.cabin_id} ({cfg.site.mode}), "
        f"{len(cfg.devices)} device(s), languages {', '.join(cfg.languages)}"
    )
    return 0
