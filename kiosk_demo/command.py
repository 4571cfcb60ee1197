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


PRIVATE_UMASK = 0o077  # what the demo creates: folders 0700, files 0600


def private_output(*folders: Path) -> None:
    """Make what the demo writes readable by its user only, from now on and already there.

    demo-out/ holds fictional but health-shaped data (the platform's SQLite with the
    uploaded FHIR bundles, report.json, working document links, screenshots of
    the screens): the process umask becomes 0077 and folders left by an older run
    are tightened to 0700, their files to 0600.
    """
    os.umask(PRIVATE_UMASK)
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder.chmod(0o700)
        for root, dirs, files in os.walk(folder):
            for name in dirs:
                (Path(root) / name).chmod(0o700)
            for name in files:
                path = Path(root) / name
                if not path.is_symlink():
                    path.chmod(0o600)


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

        private_output(Path(args.out))
        return run_headless(config, Path(args.out), tuple(config.languages))
    from app.main import run
    from kiosk_demo.world import demo_world

    private_output(Path(config.storage.data_dir))
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
