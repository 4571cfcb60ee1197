"""`kiosk config check FILE`: is this site configuration ready to run a cabin?

Errors (exit 2) are sentences naming the key, the value found and what was
expected: the schema's (types, ranges, URL schemes, empty paths) and the
cabin's (placeholders and example values of the template left as they are,
example hosts, missing or unusable certificate files): see
`kiosk_config.readiness`. Warnings (exit 0) are printed after "ok". Whatever
the file holds, no traceback: a file that is not UTF-8, is huge or nests
deeply is one more sentence.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from kiosk_config import ConfigError
from kiosk_config.readiness import check_config


def register(sub: Any) -> None:
    p = sub.add_parser("config", help="site configuration tools")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION")
    csub.required = True
    check = csub.add_parser(
        "check",
        help="validate a site configuration file and check it is ready for a cabin",
        description=(
            "Validates the file against the schema, then refuses what the cabin template leaves "
            "to change: 'CHANGE ME' values, example hosts (example.org, *.test, localhost in "
            "production) and certificate or key files that are missing or unusable."
        ),
    )
    check.add_argument("file", help="path of the TOML site configuration")
    check.set_defaults(handler=_check)


def _say(text: str, stream: TextIO) -> None:
    """Print whatever the terminal's encoding (a value may hold any character)."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    print(text.encode(encoding, "backslashreplace").decode(encoding), file=stream)


def _check(args: argparse.Namespace) -> int:
    try:
        report = check_config(args.file)
    except ConfigError as exc:
        _say(str(exc), sys.stderr)
        return 2
    cfg = report.config
    _say(
        f"{args.file}: ok — cabin {cfg.site.cabin_id} ({cfg.site.mode}), "
        f"{len(cfg.devices)} device(s), languages {', '.join(cfg.languages)}",
        sys.stdout,
    )
    for warning in report.warnings:
        _say(f"  note: {warning.sentence()}", sys.stdout)
    return 0
