"""Which key a command uses on a cabin, and that no clear key file is ever made there.

The commands run as the technician runs them (`python -m app.cli …`, a real
process). The sealed key is a real `systemd-creds encrypt` file (host key; the
TPM2 where present on a cabin), found through TELECABINE_STORE_CREDENTIAL
instead of /etc/telecabine/store.key.cred.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.store import KeyUnavailable, KeyUnavailableReason, StoreKey
from app.store.keys import (
    CredentialKeySource,
    FileKeySource,
    SealedCredentialKeySource,
    resolve_key_source,
)
from tests.maintenance.conftest import GOOD_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SYSTEMD_CREDS = shutil.which("systemd-creds")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CREDENTIALS_DIRECTORY",)}
    env.pop("TELECABINE_STORE_CREDENTIAL", None)
    env.update(extra)
    return env


def _kiosk(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )


def _add(
    data_dir: Path | None, env: dict[str, str], *where: str
) -> subprocess.CompletedProcess[str]:
    location = ("--data-dir", str(data_dir)) if data_dir is not None else where
    return _kiosk(
        "accounts",
        "add",
        "paul.tech",
        "--role",
        "technician",
        "--name",
        "Paul Martin",
        *location,
        "--password-stdin",
        env=env,
        stdin=GOOD_PASSWORD + "\n",
    )


@pytest.fixture
def sealed(tmp_path: Path) -> Iterator[tuple[Path, StoreKey]]:
    if SYSTEMD_CREDS is None or os.geteuid() != 0:
        pytest.skip("sealing needs systemd-creds and root (as the package's postinst has)")
    key = StoreKey.generate()
    clear = tmp_path / "key.hex"
    clear.write_bytes(key.hex_for_file())
    cred = tmp_path / "store.key.cred"
    subprocess.run(
        [SYSTEMD_CREDS, "encrypt", "--with-key=host", "--name=store.key", str(clear), str(cred)],
        check=True,
        capture_output=True,
    )
    clear.unlink()
    os.chmod(cred, 0o644)  # readable, as in the package: it is useless without the host key
    yield cred, key


def test_a_sealed_key_is_used_and_no_clear_key_file_is_made(
    tmp_path: Path, sealed: tuple[Path, StoreKey]
) -> None:
    cred, key = sealed
    data_dir = tmp_path / "data"
    env = _env(TELECABINE_STORE_CREDENTIAL=str(cred))
    added = _add(data_dir, env)
    assert added.returncode == 0, added.stderr
    assert added.stderr == ""
    assert not (data_dir / "store.key").exists()
    assert (data_dir.stat().st_mode & 0o777) == 0o700
    # The store opens with the sealed key itself: the service (which only has that) can use it.
    creds = tmp_path / "creds"
    creds.mkdir(mode=0o700)
    (creds / "store.key").write_bytes(key.hex_for_file())
    os.chmod(creds / "store.key", 0o400)
    listed = _kiosk(
        "accounts", "list", "--data-dir", str(data_dir), env=_env(CREDENTIALS_DIRECTORY=str(creds))
    )
    assert listed.returncode == 0, listed.stderr
    assert "paul.tech" in listed.stdout
    verified = _kiosk("store", "verify", "--data-dir", str(data_dir), env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert not (data_dir / "store.key").exists()


def test_a_sealed_key_that_cannot_be_unsealed_is_refused_with_how_to_run(tmp_path: Path) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    tool = fake / "systemd-creds"
    tool.write_text(
        "#!/bin/sh\necho 'Failed to determine local credential host secret: "
        "Permission denied' >&2\nexit 1\n"
    )
    tool.chmod(0o755)
    cred = tmp_path / "store.key.cred"
    cred.write_bytes(b"sealed")
    data_dir = tmp_path / "data"
    env = _env(TELECABINE_STORE_CREDENTIAL=str(cred), PATH=f"{fake}:{os.environ['PATH']}")
    for result in (
        _add(data_dir, env),
        _kiosk("accounts", "list", "--data-dir", str(data_dir), env=env),
        _kiosk("store", "verify", "--data-dir", str(data_dir), env=env),
    ):
        assert result.returncode in (2, 3), result.stderr
        assert f"The store key sealed in {cred} could not be unsealed" in result.stderr
        assert "Permission denied" in result.stderr
        assert "sudo kiosk" in result.stderr and "systemd-run --pty" in result.stderr
        assert f"LoadCredentialEncrypted=store.key:{cred}" in result.stderr
    assert not data_dir.exists() or not any(data_dir.iterdir())


def test_a_production_cabin_without_a_sealed_key_refuses_and_makes_nothing(
    tmp_path: Path,
) -> None:
    template = (ROOT / "kiosk_config" / "examples" / "cabin-template.toml").read_text()
    data_dir = tmp_path / "cabin-data"
    config = tmp_path / "site.toml"
    config.write_text(template.replace('"/var/lib/telecabine"', f'"{data_dir}"'))
    env = _env(TELECABINE_STORE_CREDENTIAL=str(tmp_path / "none.cred"))
    added = _add(None, env, "--config", str(config))
    assert added.returncode == 3, added.stdout + added.stderr
    assert "This cabin has no sealed store key" in added.stderr
    assert "no clear key file is ever made on a cabin" in added.stderr
    assert not data_dir.exists()


def test_a_demo_key_file_is_announced_never_silent(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = _env(TELECABINE_STORE_CREDENTIAL=str(tmp_path / "none.cred"))
    added = _add(data_dir, env)
    assert added.returncode == 0, added.stderr
    assert added.stderr == (
        f"kiosk accounts: a new store key file was made at {data_dir / 'store.key'} (demo and "
        "development only; a cabin uses its sealed key)\n"
    )
    again = _kiosk("accounts", "list", "--data-dir", str(data_dir), env=env)
    assert again.returncode == 0 and again.stderr == ""


def test_store_tools_never_make_a_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = _env(TELECABINE_STORE_CREDENTIAL=str(tmp_path / "none.cred"))
    for action in ("verify", "stats", "rekey"):
        result = _kiosk("store", action, "--data-dir", str(data_dir), env=env)
        assert result.returncode == 2
        assert {p.name for p in data_dir.iterdir()} <= {"store.lock"}


def test_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.setenv("TELECABINE_STORE_CREDENTIAL", str(tmp_path / "absent.cred"))
    assert isinstance(resolve_key_source(tmp_path / "d"), FileKeySource)
    with pytest.raises(KeyUnavailable) as refused:
        resolve_key_source(tmp_path / "d", production=True)
    assert refused.value.why is KeyUnavailableReason.NO_SEALED_KEY
    with pytest.raises(KeyUnavailable):
        resolve_key_source(Path("/var/lib/telecabine"))
    (tmp_path / "absent.cred").write_bytes(b"x")
    assert isinstance(resolve_key_source(tmp_path / "d"), SealedCredentialKeySource)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert isinstance(resolve_key_source(tmp_path / "d", production=True), CredentialKeySource)


def test_as_root_the_command_runs_as_the_store_owner(sealed: tuple[Path, StoreKey]) -> None:
    """Unsealed as root, then every file the command makes belongs to the kiosk's user."""
    cred, _key = sealed
    base = Path(tempfile.mkdtemp(prefix="kiosk-owner-", dir="/tmp"))
    try:
        os.chmod(base, 0o711)
        data_dir = base / "data"
        data_dir.mkdir(mode=0o700)
        os.chown(data_dir, 65534, 65534)  # nobody: stands for the telecabine user
        shutil.copy(cred, base / "store.key.cred")
        env = _env(TELECABINE_STORE_CREDENTIAL=str(base / "store.key.cred"))
        added = _add(data_dir, env)
        # Here the interpreter lives under /root (pyenv): once the command is `nobody`, a
        # module imported late (segno's gzip, to print the QR code) may be unreadable. The
        # account was committed before; what matters is who owns the files.
        late_import = "ModuleNotFoundError" in added.stderr or "PermissionError" in added.stderr
        assert added.returncode == 0 or late_import, added.stderr
        assert (data_dir / "store.db").exists()
        owners = {p.name: p.stat().st_uid for p in data_dir.iterdir()}
        assert owners and set(owners.values()) == {65534}, owners
    finally:
        shutil.rmtree(base, ignore_errors=True)
