"""`python -m devtools.platform --cabin ID:SECRET_FILE[:DOCTORS] [--host H --port P --db FILE]`,
`... --open-test-mode` (anonymous kiosks: tests and the demo only), or `... dump [--db FILE]`."""

from __future__ import annotations

import argparse
import sys

from devtools.platform.app import Extension
from devtools.platform.cli import DEFAULT_DB, dump, serve
from devtools.platform.insi import install as insi_extension
from devtools.platform.signalling import install as call_extension

# Rooms that grow the platform (signalling, doctor's console) add their
# `extension(app)` callables here.
EXTENSIONS: tuple[Extension, ...] = (call_extension, insi_extension)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.platform", description=__doc__)
    parser.add_argument("--db", default=DEFAULT_DB, help="SQLite database file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8780)
    parser.add_argument("--tls-cert", help="server certificate (PEM) to serve HTTPS")
    parser.add_argument("--tls-key", help="key of the server certificate")
    parser.add_argument("--client-ca", help="CA that signs cabin client certificates (mutual TLS)")
    parser.add_argument(
        "--cabin",
        action="append",
        metavar="ID:SECRET_FILE[:DOCTOR,…]",
        help="enrol a cabin (its provisioning secret in hex, the doctors it is routed to); "
        "repeat for each cabin",
    )
    parser.add_argument(
        "--open-test-mode",
        action="store_true",
        help="DANGER: no cabin authentication at all (anonymous kiosks); tests and the demo only",
    )
    sub = parser.add_subparsers(dest="command")
    dump_parser = sub.add_parser(
        "dump", help="print every stored resource as one collection Bundle"
    )
    dump_parser.add_argument("--db", dest="dump_db", default=None, help="SQLite database file")
    args = parser.parse_args(argv)
    if args.command == "dump":
        return dump(args.dump_db or args.db)
    return serve(args, extensions=EXTENSIONS)


if __name__ == "__main__":
    sys.exit(main())
