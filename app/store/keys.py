"""The per-installation store key and where it comes from.

The key is 32 random bytes handed to SQLCipher as a raw key (`x'…'`), so an
open costs no key derivation. Two sources exist behind one seam:

* `FileKeySource`: a 0600 file `store.key` in the data directory, for the
  demo and the tests. It also carries the crash-safe rekey protocol (a staged
  `store.key.new` that becomes `store.key` only once the database has been
  re-encrypted).
* `CredentialKeySource`: the file systemd puts in `$CREDENTIALS_DIRECTORY`
  when the unit says `LoadCredentialEncrypted=` (sealed with `systemd-creds`,
  TPM2 when present). It is read-only by design: a cabin is rekeyed by
  re-sealing, see docs/store.md.
* `SealedCredentialKeySource`: the same sealed file, unsealed on demand with
  `systemd-creds decrypt … -` (to a pipe, never to a file) for a technician's
  command run as root on the cabin.

`resolve_key_source` is the one place that picks among them, for the kiosk
and for every command: on a cabin (a sealed key exists, or the site is in
production, or the data folder is the packaged one) it is the sealed key or a
refusal that says how to run the command — never a clear key file.

`StoreKey` hides its bytes from repr/str/pickle so that a key never reaches a
log line, an exception message or a crash dump by accident.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, Protocol

from app.store.errors import KeyUnavailable, KeyUnavailableReason, RekeyUnsupported

KEY_BYTES = 32
KEY_FILE_NAME = "store.key"
STAGED_KEY_FILE_NAME = "store.key.new"
DEFAULT_CREDENTIAL_NAME = "store.key"  # packaging/systemd: LoadCredentialEncrypted=store.key:…
# Where the package seals the key (postinst); TELECABINE_STORE_CREDENTIAL overrides (tests).
DEFAULT_SEALED_CREDENTIAL = Path("/etc/telecabine/store.key.cred")
SEALED_CREDENTIAL_ENV = "TELECABINE_STORE_CREDENTIAL"
CABIN_DATA_DIR = Path("/var/lib/telecabine")  # StateDirectory=telecabine in the unit
CABIN_KIOSK = "/opt/telecabine/bin/kiosk"


class StoreKey:
    """A 256-bit raw SQLCipher key that never prints itself."""

    __slots__ = ("_raw",)

    def __init__(self, raw: bytes) -> None:
        if not isinstance(raw, bytes) or len(raw) != KEY_BYTES:
            raise KeyUnavailable(
                f"A store key must be exactly {KEY_BYTES} bytes long.",
                why=KeyUnavailableReason.MALFORMED,
            )
        self._raw = raw

    @classmethod
    def generate(cls) -> StoreKey:
        return cls(secrets.token_bytes(KEY_BYTES))

    @classmethod
    def parse(cls, data: bytes, *, origin: str) -> StoreKey:
        """Accept 32 raw bytes or 64 hex digits (what `systemd-creds` seals either way)."""
        text = data.strip()
        if len(text) == 2 * KEY_BYTES:
            try:
                return cls(bytes.fromhex(text.decode("ascii")))
            except (UnicodeDecodeError, ValueError):
                pass
        if len(data) == KEY_BYTES:
            return cls(data)
        raise KeyUnavailable(
            f"The store key in {origin} is not 32 bytes or 64 hexadecimal digits "
            f"(it holds {len(data)} bytes).",
            why=KeyUnavailableReason.MALFORMED,
        )

    def sqlcipher_literal(self) -> str:
        """The only place the key becomes text: the argument of PRAGMA key / rekey."""
        return "\"x'" + self._raw.hex() + "'\""

    def fingerprint(self) -> str:
        """A one-way tag of the key, safe to keep in clear to tell 'wrong key' from 'damaged file'."""
        return hashlib.sha256(b"telecabine-store-key-check\x00" + self._raw).hexdigest()[:32]

    def hex_for_file(self) -> bytes:
        return self._raw.hex().encode("ascii")

    def __repr__(self) -> str:
        return "StoreKey(<hidden>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StoreKey):
            return NotImplemented
        return hmac.compare_digest(self._raw, other._raw)

    def __hash__(self) -> int:
        return hash(self.fingerprint())

    def __reduce__(self) -> NoReturn:
        raise TypeError("A StoreKey cannot be pickled.")


class KeySource(Protocol):
    """Where the running kiosk gets its store key."""

    def load(self) -> StoreKey:
        """The current key; a file source creates one on first use."""
        ...

    def staged(self) -> StoreKey | None:
        """A key written by an interrupted rekey, if any (see `FileKeySource`)."""
        ...

    def stage(self, key: StoreKey) -> None:
        """Durably keep `key` next to the current one before the database is rekeyed."""
        ...

    def promote_staged(self) -> None:
        """Make the staged key the current one (atomic), once the database uses it."""
        ...

    def discard_staged(self) -> None: ...

    def describe(self) -> str:
        """Where the key lives, for messages. Never the key."""
        ...


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_private_dir(directory: Path) -> None:
    """Create `directory` (and missing parents) 0700; tighten it to 0700 if it is ours and wider.

    `mkdir(mode=)` is filtered by the umask and does not apply to parents or to a
    folder that already exists (a demo or an older kiosk made them 0755).
    """
    directory = Path(directory)
    missing: list[Path] = []
    probe = directory
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            pass
        os.chmod(path, 0o700)
    st = directory.stat()
    if st.st_uid == os.geteuid() and st.st_mode & 0o077:
        os.chmod(directory, 0o700)


def write_secret_file(path: Path, data: bytes) -> None:
    """Write a 0600 file atomically and durably: temp file, fsync, rename, fsync directory."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        try:
            os.fchmod(fd, 0o600)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk must not leave half a secret behind
        raise
    _fsync_dir(path.parent)


def _read_key_file(path: Path) -> StoreKey:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise KeyUnavailable(
            f"The store key file {path} does not exist.", why=KeyUnavailableReason.MISSING
        ) from None
    try:
        mode = os.fstat(fd).st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyUnavailable(
                f"The store key file {path} can be read by other users "
                f"(mode {stat.S_IMODE(mode):04o}); it must be 0600. The key was not used.",
                why=KeyUnavailableReason.INSECURE_PERMISSIONS,
            )
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(4096)
    finally:
        os.close(fd)
    return StoreKey.parse(data, origin=str(path))


class FileKeySource:
    """`store.key` (0600) in the data directory: demo, tests, development machines.

    `on_create(path)` is told when a new key file is made (never silently: the
    command line prints it, the kiosk logs it).
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        create: bool = True,
        on_create: Callable[[Path], None] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.create = create
        self.on_create = on_create

    @property
    def key_path(self) -> Path:
        return self.data_dir / KEY_FILE_NAME

    @property
    def staged_path(self) -> Path:
        return self.data_dir / STAGED_KEY_FILE_NAME

    def load(self) -> StoreKey:
        if not self.key_path.exists() and self.create:
            ensure_private_dir(self.data_dir)
            key = StoreKey.generate()
            write_secret_file(self.key_path, key.hex_for_file())
            if self.on_create is not None:
                self.on_create(self.key_path)
            return key
        return _read_key_file(self.key_path)

    def staged(self) -> StoreKey | None:
        if not self.staged_path.exists():
            return None
        return _read_key_file(self.staged_path)

    def stage(self, key: StoreKey) -> None:
        write_secret_file(self.staged_path, key.hex_for_file())

    def promote_staged(self) -> None:
        os.replace(self.staged_path, self.key_path)
        _fsync_dir(self.data_dir)

    def discard_staged(self) -> None:
        try:
            self.staged_path.unlink()
        except FileNotFoundError:
            return
        _fsync_dir(self.data_dir)

    def describe(self) -> str:
        return f"key file {self.key_path}"

    def __repr__(self) -> str:
        return f"FileKeySource({str(self.data_dir)!r})"


class CredentialKeySource:
    """The key systemd decrypted for this service (`LoadCredentialEncrypted=NAME:PATH`)."""

    def __init__(
        self, name: str = DEFAULT_CREDENTIAL_NAME, *, credentials_dir: Path | None = None
    ) -> None:
        if "/" in name or name in ("", ".", ".."):
            raise KeyUnavailable(
                f"'{name}' is not a valid systemd credential name.",
                why=KeyUnavailableReason.MALFORMED,
            )
        self.name = name
        self._credentials_dir = credentials_dir

    def _directory(self) -> Path:
        if self._credentials_dir is not None:
            return self._credentials_dir
        value = os.environ.get("CREDENTIALS_DIRECTORY")
        if not value:
            raise KeyUnavailable(
                "No systemd credentials directory ($CREDENTIALS_DIRECTORY is not set): the "
                "kiosk service must be started with LoadCredentialEncrypted= for the store key.",
                why=KeyUnavailableReason.NO_CREDENTIALS_DIRECTORY,
            )
        return Path(value)

    def load(self) -> StoreKey:
        return _read_key_file(self._directory() / self.name)

    def staged(self) -> StoreKey | None:
        return None

    def stage(self, key: StoreKey) -> None:
        raise RekeyUnsupported(
            "A key sealed with systemd-creds cannot be replaced from the kiosk; rekey with a "
            "file key and seal the new key again (see docs/store.md)."
        )

    def promote_staged(self) -> None:
        self.stage(StoreKey.generate())

    def discard_staged(self) -> None:
        return None

    def describe(self) -> str:
        return f"systemd credential '{self.name}'"

    def __repr__(self) -> str:
        return f"CredentialKeySource({self.name!r})"


def _how_to_run(credential: Path) -> str:
    return (
        "Run it as root (sudo kiosk …), or with the service's own credential: "
        "systemd-run --pty --wait --collect -p User=telecabine -p StateDirectory=telecabine "
        f"-p LoadCredentialEncrypted={DEFAULT_CREDENTIAL_NAME}:{credential} {CABIN_KIOSK} …"
    )


class SealedCredentialKeySource:
    """The key sealed in a `systemd-creds` file, unsealed on demand (a technician's command).

    `systemd-creds decrypt NAME.cred -` writes the key to a pipe: it never
    lands in a file. Unsealing needs the host key or the TPM2, i.e. root; the
    refusal says how to run the command. Read-only like `CredentialKeySource`.
    The key is kept in memory once read, so a command can unseal it as root
    and then drop to the store owner's user (`app.maintenance.store_binding`).
    """

    def __init__(
        self,
        path: Path,
        name: str = DEFAULT_CREDENTIAL_NAME,
        *,
        systemd_creds: str = "systemd-creds",
    ) -> None:
        self.path = Path(path)
        self.name = name
        self._tool = systemd_creds
        self._key: StoreKey | None = None

    def load(self) -> StoreKey:
        if self._key is not None:
            return self._key
        try:
            done = subprocess.run(  # noqa: S603 - fixed tool, no shell, no user text
                [self._tool, "decrypt", f"--name={self.name}", str(self.path), "-"],
                capture_output=True,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise KeyUnavailable(
                f"The store key sealed in {self.path} could not be unsealed "
                f"({type(exc).__name__}: is systemd-creds installed?). {_how_to_run(self.path)}",
                why=KeyUnavailableReason.SEALED_UNREADABLE,
            ) from None
        if done.returncode != 0:
            said = done.stderr.decode("utf-8", "replace").strip().splitlines()
            reason = said[-1][:200] if said else f"exit code {done.returncode}"
            raise KeyUnavailable(
                f"The store key sealed in {self.path} could not be unsealed (systemd-creds: "
                f"{reason}). {_how_to_run(self.path)}",
                why=KeyUnavailableReason.SEALED_UNREADABLE,
            )
        self._key = StoreKey.parse(done.stdout, origin=f"the sealed credential {self.path}")
        return self._key

    def staged(self) -> StoreKey | None:
        return None

    def stage(self, key: StoreKey) -> None:
        raise RekeyUnsupported(
            "A key sealed with systemd-creds cannot be replaced from the command line; see "
            "docs/store.md (rekey on a cabin)."
        )

    def promote_staged(self) -> None:
        self.stage(StoreKey.generate())

    def discard_staged(self) -> None:
        return None

    def describe(self) -> str:
        return f"sealed credential {self.path}"

    def __repr__(self) -> str:
        return f"SealedCredentialKeySource({str(self.path)!r})"


def sealed_credential_path() -> Path:
    value = os.environ.get(SEALED_CREDENTIAL_ENV)
    return Path(value) if value else DEFAULT_SEALED_CREDENTIAL


def is_cabin_data_dir(data_dir: Path) -> bool:
    try:
        return Path(data_dir).resolve() == CABIN_DATA_DIR.resolve()
    except OSError:
        return False


def resolve_key_source(
    data_dir: Path,
    *,
    production: bool = False,
    create_file: bool = True,
    on_create: Callable[[Path], None] | None = None,
) -> KeySource:
    """Where the store key of `data_dir` comes from, for the kiosk and every command.

    1. `$CREDENTIALS_DIRECTORY` is set (the service, or `systemd-run -p
       LoadCredentialEncrypted=…`): the credential systemd unsealed there.
    2. A sealed key exists (`/etc/telecabine/store.key.cred`): unseal it with
       `systemd-creds decrypt` (root), or refuse with how to run the command.
    3. A cabin with no sealed key (`production`, or the packaged data folder):
       refuse. A clear key file made here would lock the service out later
       (it opens the store with the sealed key only).
    4. Demo, tests, development: `store.key` in the data folder; a new one is
       made only if `create_file`, and `on_create` is told.
    """
    if os.environ.get("CREDENTIALS_DIRECTORY"):
        return CredentialKeySource()
    sealed = sealed_credential_path()
    if sealed.exists():
        return SealedCredentialKeySource(sealed)
    if production or is_cabin_data_dir(data_dir):
        raise KeyUnavailable(
            f"This cabin has no sealed store key ({sealed} does not exist) and no clear key file "
            "is ever made on a cabin. Install or reconfigure the telecabine-kiosk package "
            "(dpkg-reconfigure telecabine-kiosk seals one), then run the command again; see "
            "packaging/README.md.",
            why=KeyUnavailableReason.NO_SEALED_KEY,
        )
    return FileKeySource(data_dir, create=create_file, on_create=on_create)
