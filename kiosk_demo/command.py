"""`kiosk demo` (windowed, with the operator panel) and `kiosk demo --headless --out DIR`.

The `kiosk` command finds this subcommand through the entry point
`telecabine.kiosk.commands` of the demo's project (kiosk_demo/pyproject.toml):
the cabin's code never imports the demo. Qt is imported only when the command
runs, so `kiosk --help` works on a machine with no display and no Qt plugins.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from kiosk_config import EXAMPLES, ConfigError, load_config


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
        from kiosk_demo.script import run_headless

        return run_headless(config, Path(args.out), tuple(config.languages))
    from app.main import run
    from kiosk_demo.world import demo_world

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
