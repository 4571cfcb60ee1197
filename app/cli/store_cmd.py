"""`kiosk store verify|stats|rekey`: the technician's tools for the encrypted store.

`verify` and `stats` change nothing (they may run while the kiosk runs);
`rekey` needs the kiosk stopped (the store's lock says so). None of them
prints a health datum or the key.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from app.store.errors import StoreError
from app.store.keys import (
    CredentialKeySource,
    FileKeySource,
    KeySource,
    SealedCredentialKeySource,
    sealed_credential_path,
)
from app.store.timeutil import utc_now

DEFAULT_DATA_DIR = Path("var/demo")

EXIT_OK = 0
EXIT_BROKEN = 1
EXIT_CANNOT_OPEN = 2


def register(sub: Any) -> None:
    p = sub.add_parser("store", help="encrypted store tools (verify, stats, rekey)")
    ssub = p.add_subparsers(dest="store_command", metavar="ACTION")
    ssub.required = True
    for name, handler, text in (
        ("verify", _verify, "check the audit chain, cipher integrity and SQLite integrity"),
        ("stats", _stats, "counts, sizes and ages (no health data)"),
        ("rekey", _rekey, "re-encrypt the store in place with a new random key"),
    ):
        cmd = ssub.add_parser(name, help=text)
        where = cmd.add_mutually_exclusive_group()
        where.add_argument("--data-dir", type=Path, help="folder of the store (default: var/demo)")
        where.add_argument("--config", type=Path, help="site configuration: its storage.data_dir")
        cmd.add_argument(
            "--key-source",
            choices=("auto", "file", "credential", "sealed"),
            default="auto",
            help="'credential' reads $CREDENTIALS_DIRECTORY/store.key (systemd); 'sealed' "
            "unseals /etc/telecabine/store.key.cred with systemd-creds (root); 'file' reads "
            "store.key in the data folder (demo); 'auto': credential, else sealed when the "
            "cabin has one, else the file — and never a new key file",
        )
        cmd.set_defaults(handler=handler)


def _where(args: argparse.Namespace) -> tuple[Path, bool]:
    """The store's folder and whether it is a production cabin's."""
    if args.data_dir is not None:
        return Path(args.data_dir), False
    if args.config is not None:
        from kiosk_config import load_config

        config = load_config(args.config)
        return Path(config.storage.data_dir), config.site.mode.value == "production"
    return DEFAULT_DATA_DIR, False


def _data_dir(args: argparse.Namespace) -> Path:
    return _where(args)[0]


def _key_source(args: argparse.Namespace, data_dir: Path) -> KeySource:
    """The key (never a new key file: these tools only look at or rekey an existing store).

    A sealed key is unsealed as root, then the command goes on as the store's
    owner, so no file of the store is left owned by root.
    """
    from app.maintenance.store_binding import become_store_owner, command_key_source

    choice = args.key_source
    source: KeySource
    if choice == "auto":
        _, production = _where(args)
        return command_key_source(data_dir, production=production, create_file=False)
    if choice == "credential":
        source = CredentialKeySource()
    elif choice == "sealed":
        source = SealedCredentialKeySource(sealed_credential_path())
        source.load()
    else:
        source = FileKeySource(data_dir, create=False)
    become_store_owner(data_dir)
    return source


def _fail(exc: Exception) -> int:
    print(f"kiosk store: {exc}", file=sys.stderr)
    return EXIT_CANNOT_OPEN


def _verify(args: argparse.Namespace) -> int:
    from app.store.inspection import verify
    from kiosk_config import ConfigError

    try:
        data_dir = _data_dir(args)
        report = verify(data_dir, _key_source(args, data_dir))
    except (StoreError, ConfigError) as exc:
        return _fail(exc)
    print(f"store {data_dir / 'store.db'}")
    for line in report.lines:
        print(line)
    if report.broken:
        print("verdict: BROKEN")
        return EXIT_BROKEN
    if report.incomplete:
        print("verdict: INCOMPLETE (a check could not run; nothing found broken)")
        return EXIT_CANNOT_OPEN
    print("verdict: ok")
    return EXIT_OK


def _stats(args: argparse.Namespace) -> int:
    from app.store.inspection import stats
    from kiosk_config import ConfigError

    try:
        data_dir = _data_dir(args)
        figures = stats(data_dir, _key_source(args, data_dir), utc_now())
    except (StoreError, ConfigError) as exc:
        return _fail(exc)
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key.ljust(width)}  {'-' if value is None else value}")
    return EXIT_OK


def _rekey(args: argparse.Namespace) -> int:
    from app.store.store import Store
    from kiosk_config import ConfigError

    try:
        data_dir = _data_dir(args)
        source = _key_source(args, data_dir)
        with Store.open(data_dir, source) as store:
            store.rekey(actor=f"cli:{_os_user()}")
    except (StoreError, ConfigError) as exc:
        return _fail(exc)
    print(f"store {data_dir / 'store.db'} re-encrypted with a new key ({source.describe()}).")
    return EXIT_OK


def _os_user() -> str:
    try:
        import pwd

        name = pwd.getpwuid(os.getuid()).pw_name
    except (KeyError, ImportError):
        name = str(os.getuid())
    return "".join(ch for ch in name if ch.isalnum() or ch in "._-")[:32] or "unknown"
