"""The `kiosk` command line.

Each subcommand lives in its own module under `app.cli` and exposes
``register(subparsers)``; the module list below is the only place to add one.
Modules are imported lazily-cheap (no Qt at import time) so that `kiosk config
check` works on a machine without a screen or Qt plugins.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMAND_MODULES: tuple[str, ...] = (
    "app.cli.config_cmd",
    "app.cli.store_cmd",
    "app.cli.devices_cmd",
    "app.cli.accounts_cmd",
    "app.cli.demo_cmd",
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
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # subcommand not built yet
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = args.handler
    code = handler(args)
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
