"""`kiosk accounts …`: create and look after the professionals' accounts.

Why on the command line and not on the kiosk screen: creating an account
needs the person in front of the technician (or the pharmacy's manager) with
their phone, and prints a secret once; the kiosk screen is public. The
password is read with getpass (never an argument: it would sit in the shell
history and in `ps`), or from standard input for scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path
from typing import Any, TextIO

from app.maintenance.errors import MaintenanceError, WeakPassword
from app.maintenance.roles import Role
from app.maintenance.service import UNLOCK_ADVICE

EXIT_OK = 0
EXIT_REFUSED = 2  # the request is wrong (weak password, duplicate, unknown account)
EXIT_UNAVAILABLE = 3  # the store cannot be opened


def register(sub: Any) -> None:
    p = sub.add_parser("accounts", help="professional accounts (assistants and technicians)")
    asub = p.add_subparsers(dest="accounts_command", metavar="ACTION")
    asub.required = True

    add = asub.add_parser(
        "add",
        help="create one person's account (password + authenticator app)",
        description=(
            "Create the account of ONE person (accounts are never shared). Asks for the "
            "password twice, then prints the QR code to scan with an authenticator app."
        ),
    )
    add.add_argument("username", help="login name, e.g. marie.dupont")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--name", required=True, help="the person's name as shown in traces")
    add.add_argument("--rpps", default=None, help="RPPS number (assistants: pharmacist, nurse)")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input (for scripts)",
    )
    _location(add)
    add.set_defaults(handler=_add)

    lst = asub.add_parser("list", help="list the accounts (no secret is shown)")
    _location(lst)
    lst.set_defaults(handler=_list)

    for action, helptext in (
        ("unlock", "clear the failure counter and the lock of an account"),
        ("disable", "disable an account (the person has left)"),
        ("enable", "enable a disabled account again"),
    ):
        cmd = asub.add_parser(action, help=helptext)
        cmd.add_argument("username")
        _location(cmd)
        cmd.set_defaults(handler=_change, accounts_action=action)


def _location(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--data-dir", type=Path, help="folder of the encrypted store")
    where.add_argument("--config", type=Path, help="site configuration (its storage.data_dir)")


def _where(args: argparse.Namespace) -> tuple[Path, bool]:
    """The store's folder and whether it is a production cabin's (no clear key file, ever)."""
    from kiosk_config import load_config
    from kiosk_config.schema import Storage

    if args.data_dir is not None:
        return Path(args.data_dir), False
    if args.config is not None:
        config = load_config(args.config)
        return config.storage.data_dir, config.site.mode.value == "production"
    return Storage().data_dir, True  # the packaged folder: a cabin


def _data_dir(args: argparse.Namespace) -> Path:
    return _where(args)[0]


def _key_source(args: argparse.Namespace) -> tuple[Path, Any]:
    """Folder and key for this command: the sealed key on a cabin (unsealed as root, then run
    as the kiosk's user), or a refusal saying how to run it; a new demo key file is announced."""
    from app.maintenance.store_binding import command_key_source

    data_dir, production = _where(args)
    source = command_key_source(
        data_dir,
        production=production,
        announce=lambda text: print(f"kiosk accounts: {text}", file=sys.stderr),
    )
    return data_dir, source


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli:unknown"


def _read_password(args: argparse.Namespace, err: TextIO) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        return line.removesuffix("\n").removesuffix("\r")
    first = getpass.getpass("Password: ")
    second = getpass.getpass("Password again: ")
    if first != second:
        from app.maintenance.errors import PasswordRule

        raise WeakPassword(PasswordRule.MISMATCH, "The two passwords differ; nothing was created.")
    return first


def _fail(exc: Exception) -> int:
    from kiosk_config import ConfigError

    if isinstance(exc, MaintenanceError):
        print(f"kiosk accounts: {exc.sentence}", file=sys.stderr)
        return EXIT_REFUSED
    if isinstance(exc, ConfigError):
        print(str(exc), file=sys.stderr)
        return EXIT_REFUSED
    print(f"kiosk accounts: the store cannot be opened: {exc}", file=sys.stderr)
    return EXIT_UNAVAILABLE


def _add(args: argparse.Namespace) -> int:
    from app.maintenance.accounts import (
        validate_display_name,
        validate_rpps,
        validate_username,
    )
    from app.maintenance.password_policy import check_password
    from app.maintenance.store_binding import open_account_service

    try:
        password = _read_password(args, sys.stderr)
        # The service's own checks, before anything is opened or made (a refused request
        # leaves no store and no key behind).
        name = validate_username(args.username)
        shown = validate_display_name(args.name)
        validate_rpps(args.rpps, Role(args.role))
        check_password(password, username=name, display_name=shown)
        data_dir, source = _key_source(args)

        async def run() -> Any:
            async with open_account_service(data_dir, actor=_actor(), key_source=source) as service:
                return await service.create_account(
                    args.username,
                    args.name,
                    Role(args.role),
                    password,
                    rpps=args.rpps,
                    actor=_actor(),
                )

        enrolment = asyncio.run(run())
    except Exception as exc:  # every failure becomes one sentence and an exit code
        return _fail(exc)
    _print_enrolment(enrolment, sys.stdout)
    return EXIT_OK


def _print_enrolment(enrolment: Any, out: TextIO) -> None:
    import segno

    account = enrolment.account
    out.write(
        f"Account '{account.username}' created: {account.display_name}, role {account.role}"
        + (f", RPPS {account.rpps}" if account.rpps else "")
        + ".\n\n"
        "Scan this code with an authenticator app (FreeOTP, Aegis, Google or Microsoft "
        "Authenticator) on the person's own phone. It is shown only now.\n\n"
    )
    segno.make(enrolment.provisioning_uri, error="m").terminal(out=out, compact=True)
    secret = enrolment.totp_secret
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    out.write(
        f"\nOr enter this key by hand (time-based, 6 digits, 30 s): {grouped}\n"
        f"URI: {enrolment.provisioning_uri}\n\n"
        "Then clear this terminal (the key must not stay on screen).\n"
    )


def _list(args: argparse.Namespace) -> int:
    from app.maintenance.store_binding import open_account_service

    try:
        data_dir, source = _key_source(args)

        async def run() -> Any:
            async with open_account_service(data_dir, actor=_actor(), key_source=source) as service:
                return await service.list_accounts()

        accounts = asyncio.run(run())
    except Exception as exc:
        return _fail(exc)
    if not accounts:
        print("No account yet. Create one with: kiosk accounts add USERNAME --role … --name …")
        return EXIT_OK
    header = f"{'username':<24} {'role':<11} {'rpps':<12} {'state':<28} name"
    print(header)
    for a in accounts:
        if a.disabled:
            state = "disabled"
        elif a.locked_until is not None:
            state = f"locked until {a.locked_until:%Y-%m-%d %H:%M}Z"
        elif a.failed_attempts:
            state = f"active ({a.failed_attempts} failure(s))"
        else:
            state = "active"
        print(f"{a.username:<24} {a.role:<11} {a.rpps or '-':<12} {state:<28} {a.display_name}")
    return EXIT_OK


def _change(args: argparse.Namespace) -> int:
    from app.maintenance.store_binding import open_account_service

    try:
        data_dir, source = _key_source(args)

        async def run() -> None:
            async with open_account_service(data_dir, actor=_actor(), key_source=source) as service:
                if args.accounts_action == "unlock":
                    await service.unlock(args.username, actor=_actor())
                else:
                    disabled = args.accounts_action == "disable"
                    await service.set_disabled(args.username, disabled, actor=_actor())

        asyncio.run(run())
    except Exception as exc:
        return _fail(exc)
    done = {"unlock": "unlocked", "disable": "disabled", "enable": "enabled"}
    print(f"Account '{args.username}': {done[args.accounts_action]}.")
    if args.accounts_action == "unlock":
        print(UNLOCK_ADVICE)  # the next code only: the codes seen before the unlock are spent
    return EXIT_OK
