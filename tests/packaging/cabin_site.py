"""A cabin's files laid out as the package and systemd lay them out, for tests that run
the real `kiosk run`: the cabin template filled as a technician would
(packaging/ci/fill-site.py) and the store key in a credentials directory (0700, key 0400)
as systemd's LoadCredentialEncrypted= hands it to the service."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def filled_cabin(tmp_path: Path) -> tuple[str, Path]:
    """(the filled site file's path, the credentials directory)."""
    site = subprocess.run(  # noqa: S603
        [
            sys.executable,
            str(ROOT / "packaging" / "ci" / "fill-site.py"),
            str(tmp_path / "etc"),
            str(ROOT / "kiosk_config" / "examples" / "cabin-template.toml"),
            str(tmp_path / "data"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    creds = tmp_path / "credentials"
    creds.mkdir(mode=0o700)
    (creds / "store.key").write_bytes(os.urandom(32).hex().encode())
    (creds / "store.key").chmod(0o400)
    return site, creds
