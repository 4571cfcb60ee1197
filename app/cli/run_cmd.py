"""`kiosk run --config FILE`: the cabin (fullscreen, cabin mode).

Qt is imported only when the command runs (`app.main`), so `kiosk --help`
works on a machine with no display and no Qt plugins.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kiosk_config import ConfigError, check_config


def register(sub: Any) -> None:
    run = sub.add_parser("run", help="run the kiosk in the cabin (fullscreen, cabin mode)")
    run.add_argument("--config", required=True, help="site configuration of this cabin")
    run.set_defaults(handler=_run)


def _refused_runtime() -> int | None:
    """Runtime check: a known-crashing Python + PySide6 stops here with one sentence."""
    from app.runtime import refuse_bad_runtime

    return refuse_bad_runtime()


def _run(args: argparse.Namespace) -> int:
    """The cabin: the configuration must be ready (`kiosk config check`), not only valid.

    A cabin started on the untouched template ("CHANGE ME"), an example host or a
    missing certificate would take patients and then fail them; it stops here
    with the same sentences as `kiosk config check` and exit 2 (systemd's unit
    then shows them in the journal).
    """
    refused = _refused_runtime()  # runtime check (app/runtime.py, docs/runtime.md)
    if refused is not None:
        return refused
    try:
        report = check_config(args.config)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        print(
            "kiosk run: this cabin's configuration is not ready; nothing was started.",
            file=sys.stderr,
        )
        return 2
    for warning in report.warnings:
        print(f"config note: {warning.sentence()}", file=sys.stderr)
    config = report.config
    from pathlib import Path

    from app.main import run

    return run(config, cabin_mode=True, config_path=Path(args.config))
