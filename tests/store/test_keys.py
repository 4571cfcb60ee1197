"""The key: where it comes from, how it is kept, and that it never shows."""

from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path

import pytest

from app.store import (
    CredentialKeySource,
    FileKeySource,
    KeyUnavailable,
    KeyUnavailableReason,
    StoreKey,
)


def test_file_source_creates_a_0600_key_once_and_reuses_it(tmp_path: Path) -> None:
    source = FileKeySource(tmp_path / "data")
    first = source.load()
    path = tmp_path / "data" / "store.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_bytes()) == 64 and bytes.fromhex(path.read_text())
    assert source.load() == first
    assert FileKeySource(tmp_path / "data").load() == first
    assert StoreKey.generate() != first


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    source = FileKeySource(tmp_path)
    source.load()
    os.chmod(tmp_path / "store.key", 0o644)
    with pytest.raises(KeyUnavailable) as exc:
        source.load()
    assert exc.value.why is KeyUnavailableReason.INSECURE_PERMISSIONS
    assert str(exc.value) == (
        f"The store key file {tmp_path / 'store.key'} can be read by other users (mode 0644); "
        "it must be 0600. The key was not used."
    )


def test_a_missing_key_is_not_invented_when_creation_is_off(tmp_path: Path) -> None:
    with pytest.raises(KeyUnavailable) as exc:
        FileKeySource(tmp_path, create=False).load()
    assert exc.value.why is KeyUnavailableReason.MISSING
    assert not (tmp_path / "store.key").exists()


@pytest.mark.parametrize("content", [b"", b"abc", b"x" * 31, b"g" * 64])
def test_malformed_key_material_is_refused_without_echoing_it(
    tmp_path: Path, content: bytes
) -> None:
    (tmp_path / "store.key").write_bytes(content)
    os.chmod(tmp_path / "store.key", 0o600)
    with pytest.raises(KeyUnavailable) as exc:
        FileKeySource(tmp_path).load()
    assert exc.value.why is KeyUnavailableReason.MALFORMED
    assert str(exc.value) == (
        f"The store key in {tmp_path / 'store.key'} is not 32 bytes or 64 hexadecimal digits "
        f"(it holds {len(content)} bytes)."
    )


def test_the_key_never_prints_or_pickles() -> None:
    raw = bytes(range(32))
    key = StoreKey(raw)
    for text in (repr(key), str(key), f"{key}", repr([key])):
        assert raw.hex() not in text and "StoreKey(<hidden>)" in text
    with pytest.raises(TypeError):
        pickle.dumps(key)
    assert raw.hex() not in key.fingerprint()


def test_credential_source_reads_what_systemd_decrypted(tmp_path: Path) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    raw = os.urandom(32)
    (creds / "store.key").write_bytes(raw)  # systemd-creds seals the raw 32 bytes
    os.chmod(creds / "store.key", 0o400)
    assert CredentialKeySource(credentials_dir=creds).load() == StoreKey(raw)
    (creds / "hex").write_bytes(raw.hex().encode() + b"\n")
    os.chmod(creds / "hex", 0o400)
    assert CredentialKeySource("hex", credentials_dir=creds).load() == StoreKey(raw)
    assert CredentialKeySource(credentials_dir=creds).staged() is None


def test_credential_source_without_systemd_says_what_is_missing() -> None:
    saved = os.environ.pop("CREDENTIALS_DIRECTORY", None)
    try:
        with pytest.raises(KeyUnavailable) as exc:
            CredentialKeySource().load()
    finally:
        if saved is not None:
            os.environ["CREDENTIALS_DIRECTORY"] = saved
    assert exc.value.why is KeyUnavailableReason.NO_CREDENTIALS_DIRECTORY


def test_credential_name_cannot_escape_the_directory(tmp_path: Path) -> None:
    with pytest.raises(KeyUnavailable) as exc:
        CredentialKeySource("../store.key", credentials_dir=tmp_path)
    assert exc.value.why is KeyUnavailableReason.MALFORMED
