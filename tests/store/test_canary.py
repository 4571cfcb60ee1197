"""A canary in every patient field: after the session and its purge, it is nowhere in clear
(data dir, WAL, temp files, logs, output) — and, decrypting every page with the key, nowhere in
the database either: secure_delete wiped it. The same decryption finds it before the purge,
so the scan is known to work."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from app.domain.nir import nir_key

PAGE = 4096
RESERVE = 80  # SQLCipher 4: 16-byte IV + 64-byte HMAC-SHA512 at the end of each page
ROOT = Path(__file__).resolve().parents[2]


def decrypted_pages(db_bytes: bytes, key: bytes) -> list[bytes]:
    pages = []
    for n in range(len(db_bytes) // PAGE):
        page = db_bytes[n * PAGE : (n + 1) * PAGE]
        start = 16 if n == 0 else 0  # page 1 begins with the clear salt
        iv = page[PAGE - RESERVE : PAGE - RESERVE + 16]
        decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        pages.append(decryptor.update(page[start : PAGE - RESERVE]) + decryptor.finalize())
    return pages


def decrypted_wal_frames(wal_bytes: bytes, key: bytes) -> list[bytes]:
    frames = []
    offset = 32
    while offset + 24 + PAGE <= len(wal_bytes):
        frames.extend(decrypted_pages(wal_bytes[offset + 24 : offset + 24 + PAGE], key))
        offset += 24 + PAGE
    return frames


def _needles(canary: str, nir: str) -> list[bytes]:
    return [canary.encode(), canary.encode("utf-16-le"), nir.encode(), b"39.17"]


def test_no_canary_survives_in_clear_or_after_purge(tmp_path: Path) -> None:
    canary = "CANARY" + uuid.uuid4().hex
    nir13 = "2" + "61" + "07" + "75" + "1" + f"{uuid.uuid4().int % 100:02d}" + "123"
    nir = nir13 + nir_key(nir13)
    data_dir, tmp_dir, control = tmp_path / "data", tmp_path / "tmp", tmp_path / "control"
    tmp_dir.mkdir()
    control.mkdir()
    log_file = tmp_dir / "kiosk.log"
    env = dict(os.environ, TMPDIR=str(tmp_dir), SQLITE_TMPDIR=str(tmp_dir))
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests" / "store" / "canary_session.py"),
            str(data_dir),
            str(control),
            str(log_file),
            canary,
            nir,
        ],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert done.stdout == b"done\n"
    assert "purged 1 session(s)" in log_file.read_text()
    key = bytes.fromhex((data_dir / "store.key").read_text())

    # Positive control: the scanner finds the canary in the decrypted pages of the copy taken
    # before the purge, and not in its raw (encrypted) bytes.
    before = (control / "before-purge.db").read_bytes()
    assert not any(n in before for n in _needles(canary, nir))
    assert any(canary.encode() in p for p in decrypted_pages(before, key))
    assert any(nir.encode() in p for p in decrypted_pages(before, key))

    # Nothing in clear anywhere the kiosk writes: data dir (db, WAL, key files), temp, logs, output.
    scanned = 0
    for folder in (data_dir, tmp_dir):
        for path in folder.rglob("*"):
            if path.is_file():
                content = path.read_bytes()
                scanned += 1
                for needle in _needles(canary, nir):
                    assert needle not in content, f"{needle!r} in clear in {path}"
    assert scanned >= 3
    for stream in (done.stdout, done.stderr):
        assert not any(n in stream for n in _needles(canary, nir))

    # And after the purge not even the decrypted database holds it: secure_delete zeroed it.
    db = (data_dir / "store.db").read_bytes()
    pages = decrypted_pages(db, key)
    wal = data_dir / "store.db-wal"
    if wal.exists():
        pages += decrypted_wal_frames(wal.read_bytes(), key)
    assert any(b"SQLite format 3" in p or b"CREATE TABLE" in p for p in pages)  # decryption works
    for needle in (canary.encode(), nir.encode()):
        assert not any(needle in p for p in pages), f"{needle!r} survives the purge"
