"""The `kiosk` command line.

Each subcommand lives in its own module and exposes ``register(subparsers)``.
The cabin's own subcommands are listed below; to add one, write
`app/cli/<name>_cmd.py` with `register` and add it to `_COMMANDS`. Other
installed projects add theirs through the entry point group
`telecabine.kiosk.commands` (the demo: kiosk_demo/pyproject.toml), so the cabin's
code never imports them. Modules are cheap to import (no Qt at import time) so
that `kiosk config check` works on a machine without a screen or Qt plugins.

The cabin's install carries no demo: there, `kiosk demo` says in one sentence
how to install it and exits with 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import Any

from app.cli import accounts_cmd, config_cmd, devices_cmd, maintenance_cmd, run_cmd, store_cmd

COMMAND_GROUP = "telecabine.kiosk.commands"
_COMMANDS = (config_cmd, store_cmd, devices_cmd, accounts_cmd, maintenance_cmd)

DEMO_NOT_INSTALLED = (
    "The demo is not installed with this kiosk: run ./scripts/setup.sh from a clone of "
    "the repository (it installs it), or `pip install -e ./kiosk_demo` there, then try again."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk",
        description=(
            "Télécabine teleconsultation kiosk. Runs the cabin, the demo on "
            "simulated devices, and the technician's command-line tools."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in _COMMANDS:
        module.register(sub)
    for entry in sorted(entry_points(group=COMMAND_GROUP), key=lambda e: e.name):
        if entry.name in sub.choices:
            continue
        try:
            register = entry.load()
        except ImportError:  # its metadata is installed but its code is gone
            continue
        register(sub)
    if "demo" not in sub.choices:
        _register_missing_demo(sub)
    run_cmd.register(sub)
    return parser


def _register_missing_demo(sub: Any) -> None:
    """`kiosk demo` on a cabin: the same options, one sentence, exit 2."""
    demo = sub.add_parser("demo", help="the demo on simulated devices (not installed here)")
    demo.add_argument("--config")
    demo.add_argument("--headless", action="store_true")
    demo.add_argument("--out")
    demo.add_argument("--port", type=int)
    demo.set_defaults(handler=_demo_not_installed)


def _demo_not_installed(args: argparse.Namespace) -> int:
    print(DEMO_NOT_INSTALLED, file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = args.handler
    code = handler(args)
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
