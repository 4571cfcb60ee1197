"""What `python -m devtools.platform` does: serve, or dump what is stored."""

from __future__ import annotations

import argparse
import ssl
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from devtools.platform import jsontext
from devtools.platform.app import Extension, create_app
from devtools.platform.cabins import OPEN_TEST_MODE_REFUSAL, Cabin, CabinRegistry
from devtools.platform.storage import PlatformStore

DEFAULT_DB = "var/platform/platform.sqlite3"


def server_tls(cert: str | None, key: str | None, client_ca: str | None) -> ssl.SSLContext | None:
    if cert is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    if client_ca is not None:
        context.load_verify_locations(client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


class EnrolmentError(ValueError):
    """A `--cabin` argument cannot be read; the sentence says which and why."""


def enrolled_cabins(specs: Sequence[str]) -> CabinRegistry:
    """`--cabin CABIN_ID:SECRET_FILE[:DOCTOR,DOCTOR…]` → the registry (secrets as hex, 32 bytes+)."""
    cabins = []
    for spec in specs:
        cabin_id, _, rest = spec.partition(":")
        secret_file, _, doctors = rest.partition(":")
        if not cabin_id or not secret_file:
            raise EnrolmentError(
                f"--cabin {cabin_id or '?'}: write CABIN_ID:SECRET_FILE[:DOCTORS]."
            )
        try:
            secret = bytes.fromhex(Path(secret_file).read_text(encoding="ascii").strip())
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise EnrolmentError(
                f"--cabin {cabin_id}: the secret file cannot be read as hex."
            ) from exc
        if len(secret) < 32:
            raise EnrolmentError(f"--cabin {cabin_id}: the secret holds fewer than 32 bytes.")
        routed = frozenset(d for d in doctors.split(",") if d)
        cabins.append(Cabin(cabin_id, secret, routed))
    return CabinRegistry(cabins)


def serve(args: argparse.Namespace, *, extensions: Sequence[Extension] = ()) -> int:
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("The reference platform listens on loopback only.", file=sys.stderr)
        return 2
    specs: list[str] = list(getattr(args, "cabin", None) or [])
    open_test_mode = bool(getattr(args, "open_test_mode", False))
    if open_test_mode and specs:
        print("--open-test-mode and --cabin exclude each other.", file=sys.stderr)
        return 2
    if not open_test_mode and not specs:
        print(OPEN_TEST_MODE_REFUSAL, file=sys.stderr)
        return 2
    try:
        cabins = enrolled_cabins(specs) if specs else None
    except EnrolmentError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    app = create_app(args.db, extensions=extensions, cabins=cabins, open_test_mode=open_test_mode)
    tls = server_tls(args.tls_cert, args.tls_key, args.client_ca)
    scheme = "https" if tls else "http"
    print(f"platform: {scheme}://{args.host}:{args.port}/ (database {args.db})", flush=True)
    web.run_app(app, host=args.host, port=args.port, ssl_context=tls, print=None)
    return 0


def dump(db: str) -> int:
    """Print every stored resource as one Bundle of type collection (FHIR JSON)."""
    if not Path(db).exists():
        print(f"No platform database at {db}.", file=sys.stderr)
        return 1
    store = PlatformStore(db)
    try:
        bundle = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r}
                for r in store.everything()
            ],
        }
    finally:
        store.close()
    sys.stdout.write(jsontext.dumps(bundle, indent=2) + "\n")
    return 0
