"""`kiosk demo` (windowed, with the operator panel), `kiosk demo --headless --out DIR`, `kiosk run`.

Qt is imported only when a command runs (`app.main`, `app.ui`), so `kiosk --help`
works on a machine with no display and no Qt plugins.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from kiosk_config import EXAMPLES, ConfigError, check_config, load_config


def register(sub: Any) -> None:
    demo = sub.add_parser(
        "demo", help="the whole kiosk on simulated devices (windowed or headless)"
    )
    demo.add_argument("--config", default=str(EXAMPLES / "demo.toml"), help="site configuration")
    demo.add_argument("--headless", action="store_true", help="no screen: play a scripted patient")
    demo.add_argument(
        "--out", default="demo-out", help="where --headless writes PNGs and report.json"
    )
    demo.add_argument(
        "--port", type=int, default=8780, help="port of the in-process reference platform"
    )
    demo.set_defaults(handler=_demo)
    run = sub.add_parser("run", help="run the kiosk in the cabin (fullscreen, cabin mode)")
    run.add_argument("--config", required=True, help="site configuration of this cabin")
    run.set_defaults(handler=_run)


def _has_screen() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _refused_runtime() -> int | None:
    """Runtime check: a known-crashing Python + PySide6 stops here with one sentence."""
    from app.runtime import refuse_bad_runtime

    return refuse_bad_runtime()


def _load(path: str) -> Any:
    try:
        return load_config(path)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return None


def _demo(args: argparse.Namespace) -> int:
    refused = _refused_runtime()  # runtime check (app/runtime.py, docs/runtime.md)
    if refused is not None:
        return refused
    config = _load(args.config)
    if config is None:
        return 2
    if args.headless or not _has_screen():
        if not args.headless:
            print(
                f"demo: no screen found, running headless (screenshots and report in {args.out}/)"
            )
        else:
            print(f"demo: running headless (screenshots and report in {args.out}/)")
        from app.ui.demo_script import run_headless

        return run_headless(config, Path(args.out), tuple(config.languages))
    from app.cli.demo_world import demo_world
    from app.main import run

    world = _announced(demo_world(config, data_dir=Path(config.storage.data_dir), port=args.port))
    return run(config, cabin_mode=False, world=world)


def _announced(world: Any) -> Any:
    """Print the console's address and the demo doctors once the world runs."""
    import contextlib

    @contextlib.asynccontextmanager
    async def wrapper() -> Any:
        async with world as running:
            print(running.banner(), flush=True)
            yield running

    return wrapper()


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
    from app.main import run

    return run(config, cabin_mode=True)
