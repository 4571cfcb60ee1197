"""`kiosk maintenance …`: the maintenance screens' tools from a shell, under a technician's account.

Why a sign-in on the command line too: the audit log must name the person
(one account each, never "root"), and the rights are the technician's, enforced
by the same service as on the screen (`app.maintenance.technician`): no
health datum, no identity, whatever is asked. The password and the code are
read with getpass, or as two lines of standard input (`--credentials-stdin`; `pair` of a
device that bonds with a passkey reads the passkey the device shows as a third line)
for scripts; never as arguments (shell history, `ps`).

    kiosk maintenance outbox|verify|config|versions|devices|network|ports|readers --config FILE --user NAME
    kiosk maintenance test DEVICE --config FILE --user NAME
    kiosk maintenance camera|microphone|speaker [--seconds S] --config FILE --user NAME
    kiosk maintenance export --to FOLDER --config FILE --user NAME
    kiosk maintenance upload --config FILE --user NAME   # the same bundle, to the platform
    kiosk maintenance pair DEVICE ADDRESS --config FILE --user NAME
    kiosk maintenance restart --config FILE --user NAME
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1  # the check ran and found a problem (a device test failed, the store broken)
EXIT_REFUSED = 2  # sign-in refused, no right, bad configuration, unknown device
EXIT_UNAVAILABLE = 3  # the store cannot be opened

DEFAULT_CONFIG = "/etc/telecabine/site.toml"
UNIT = "telecabine-kiosk.service"


def _systemctl_restart() -> None:
    """From a shell the kiosk is another process: systemd restarts its unit (audited first)."""
    import shutil
    import subprocess

    systemctl = shutil.which("systemctl")
    if systemctl is None:
        raise OSError("systemctl is not installed here")
    restart = [systemctl, "restart", "--no-block", UNIT]
    subprocess.run(restart, check=True, timeout=30)  # noqa: S603 - fixed arguments, no shell


_ACTIONS = ("outbox", "verify", "config", "versions", "devices", "network", "ports", "readers")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "maintenance",
        help="the technician's maintenance tools (signed in, audited, no health data)",
    )
    msub = p.add_subparsers(dest="maintenance_command", metavar="ACTION")
    msub.required = True
    helps = {
        "outbox": "unsent and quarantined sessions: counts, ages, reason codes",
        "verify": "check the store's integrity and its audit chain (read only)",
        "config": "the site configuration, secrets removed",
        "versions": "the kiosk's versions and the clock",
        "devices": "the configured devices",
        "network": "reach the platform: DNS, TCP, TLS (certificate dates), health",
        "readers": "the card readers pcscd lists, a card in or not (nothing read from it)",
        "ports": "the serial ports (USB ids, by-id names) and whether the configured one is there",
    }
    for action in _ACTIONS:
        _common(msub.add_parser(action, help=helps[action])).set_defaults(
            handler=_run, maintenance_action=action
        )
    test = _common(msub.add_parser("test", help="connect to a device and read once"))
    test.add_argument("device", help="the device id in the site file")
    test.set_defaults(handler=_run, maintenance_action="test")
    pair = _common(msub.add_parser("pair", help="write a BLE address into the site file"))
    pair.add_argument("device", help="the device id in the site file")
    pair.add_argument("address", help="the address found by a scan, e.g. C4:11:22:33:44:55")
    pair.set_defaults(handler=_run, maintenance_action="pair")
    for action, words in (
        ("camera", "open the camera for a few seconds: frames and rate (no picture kept)"),
        ("microphone", "listen for a few seconds: the loudest level (no sound kept)"),
        ("speaker", "play a 1 kHz tone for a second"),
    ):
        media = _common(msub.add_parser(action, help=words))
        media.add_argument("--seconds", type=float, default=3.0 if action != "speaker" else 1.0)
        media.set_defaults(handler=_run, maintenance_action=action)
    restart = _common(
        msub.add_parser("restart", help="restart the kiosk (systemctl restart telecabine-kiosk)")
    )
    restart.set_defaults(handler=_run, maintenance_action="restart")
    export = _common(msub.add_parser("export", help="write a diagnostic bundle (tar.gz)"))
    export.add_argument("--to", type=Path, required=True, help="folder (the USB stick)")
    export.set_defaults(handler=_run, maintenance_action="export")
    upload = _common(
        msub.add_parser("upload", help="send the diagnostic bundle to the platform (cabin token)")
    )
    upload.set_defaults(handler=_run, maintenance_action="upload")


def _common(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--config", type=Path, default=None, help="site configuration file")
    parser.add_argument("--user", required=True, help="your technician account's username")
    parser.add_argument(
        "--credentials-stdin",
        action="store_true",
        help="read the password, then the 6-digit code, as two lines of standard input",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def _credentials(args: argparse.Namespace) -> tuple[str, str]:
    if args.credentials_stdin:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
        code = sys.stdin.readline().strip()
        return password, code
    return getpass.getpass("Password: "), input("Authenticator code: ").strip()


BOND_SENTENCES = {
    "wrong-passkey": "the passkey does not match the one the device shows; nothing written",
    "passkey-needed": "the device asks for the 6-digit passkey it shows; nothing written",
    "refused": "the device refused to bond (clear its pairings, see its manual); nothing written",
    "timeout": "the device did not answer in time (pairing mode?); nothing written",
    "not-found": "the device cannot be found (on, and close to the cabin?); nothing written",
}
"""What `kiosk maintenance pair` says when a device does not bond (`pairing.BondFailure`)."""


def _passkey(args: argparse.Namespace) -> str:
    """The code the device shows: a third line of standard input, else asked (not echoed)."""
    if args.credentials_stdin:
        return sys.stdin.readline().strip()
    return getpass.getpass("Passkey shown by the device: ").strip()


def _say(text: str) -> None:
    print(f"kiosk maintenance: {text}", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    from app.maintenance.errors import AuthError, MaintenanceError
    from kiosk_config import ConfigError, load_config

    path = args.config or Path(os.environ.get("KIOSK_CONFIG", DEFAULT_CONFIG))
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_REFUSED
    password, code = _credentials(args)
    try:
        return asyncio.run(_act(args, config, Path(path), password, code))
    except AuthError as exc:
        _say(exc.person_message)
        return EXIT_REFUSED
    except MaintenanceError as exc:
        _say(exc.sentence)
        return EXIT_REFUSED
    except Exception as exc:  # noqa: BLE001 - one sentence and an exit code, never a trace
        _say(f"the store cannot be opened ({type(exc).__name__})")
        return EXIT_UNAVAILABLE


async def _act(args: argparse.Namespace, config: Any, path: Path, password: str, code: str) -> int:
    from app.maintenance.store_binding import account_service_on, command_key_source
    from app.maintenance.wiring import build_maintenance
    from app.store import AsyncStore
    from drivers.simulators import SimulatorHub

    data_dir = Path(config.storage.data_dir)
    source = command_key_source(
        data_dir,
        production=config.site.mode.value == "production",
        create_file=False,
        announce=_say,
    )
    store = await AsyncStore.open(data_dir, source)
    simulated = [d for d in config.devices if d.backend == "simulated"]
    hub = SimulatorHub(simulated, fast=True) if simulated else None
    try:
        if hub is not None:
            await hub.start()
        service = build_maintenance(
            account_service_on(store, actor=f"cli:{args.user}"),
            store,
            config,
            sims=hub,
            config_path=path,
            export_dir=getattr(args, "to", None),
            export_roots=(),
            restarter=_systemctl_restart,
        )
        session = await service.enter(args.user, password, code)
        try:
            return await _do(service, session, args)
        finally:
            await service.leave(session)
    finally:
        if hub is not None:
            await hub.stop()
        await store.close()


def _print(args: argparse.Namespace, value: object, lines: list[str]) -> None:
    if args.json:
        print(json.dumps(value, indent=2, default=str, ensure_ascii=False))
    else:
        print("\n".join(lines))


async def _do(service: Any, session: Any, args: argparse.Namespace) -> int:
    action = args.maintenance_action
    if action == "outbox":
        o = await service.outbox(session)
        lines = [
            f"unsent {o.unsent}",
            f"quarantined {o.quarantined}",
            f"oldest unsent {o.oldest_unsent_age_s if o.oldest_unsent_age_s is not None else '-'} s",
            f"buffer {o.buffer_bytes} bytes",
            *(f"incident {c}" for c in o.incidents),
            *(
                f"#{q.item_id} {q.reason_code} attempts={q.attempts} age={q.age_s}s"
                for q in o.quarantine
            ),
        ]
        _print(args, asdict(o), lines)
        return EXIT_OK
    if action == "verify":
        check = await service.verify_store(session)
        _print(args, asdict(check), list(check.lines))
        return EXIT_OK if check.ok else EXIT_FAILED
    if action == "config":
        found = await service.configuration(session)
        _print(args, dict(found), [f"{k} = {v}" for k, v in found])
        return EXIT_OK
    if action == "versions":
        found = await service.versions(session)
        clock = await service.clock(session)
        lines = [f"{n} {v}" for n, v in found]
        lines.append(f"clock {clock.utc.isoformat()} synchronized={clock.synchronized}")
        _print(args, {"versions": dict(found), "clock": asdict(clock)}, lines)
        return EXIT_OK
    if action == "devices":
        entries = await service.devices(session)
        rows = [f"{e.device_id} {e.kind} {e.backend} {e.address or '-'}" for e in entries]
        _print(args, [asdict(e) for e in entries], rows)
        return EXIT_OK
    if action == "network":
        report = await service.network(session)
        rows = [f"host {report.host}"] + [
            f"{s.name} {'ok' if s.ok else 'FAILED'} {s.ms} ms {s.detail}" for s in report.steps
        ]
        _print(args, asdict(report), rows)
        return EXIT_OK if report.ok else EXIT_FAILED
    if action == "ports":
        ports = await service.serial_ports(session)
        rows = [
            f"{p.device} {p.usb_id or '-'} {p.description} used-by={','.join(p.used_by) or '-'}"
            + "".join(f"\n  {link}" for link in p.links)
            for p in ports.ports
        ]
        rows += [
            f"{c.device_id} {c.port} {'found' if c.found else 'NOT FOUND'}"
            for c in ports.configured
        ]
        _print(args, asdict(ports), rows)
        return EXIT_OK if ports.missing == 0 else EXIT_FAILED
    if action == "readers":
        found = await service.card_readers(session)
        rows = [f"pcscd {found.service}"]
        rows += [
            f"{r.name} card={'in' if r.card_present else 'out'} used-by={','.join(r.used_by) or '-'}"
            for r in found.readers
        ]
        rows += [
            f"{c.device_id} {c.wanted or '-'} -> {c.reader or 'NOT FOUND'}"
            for c in found.configured
        ]
        _print(args, asdict(found), rows)
        return EXIT_OK if found.service == "running" and found.missing == 0 else EXIT_FAILED
    if action in ("camera", "microphone", "speaker"):
        seconds = max(0.1, min(30.0, args.seconds))
        if action == "camera":
            media = await service.camera_preview(session, lambda _image: None, seconds=seconds)
        elif action == "microphone":
            media = await service.microphone_test(session, lambda _level: None, seconds=seconds)
        else:
            media = await service.speaker_test(session, seconds=seconds)
        head = f"{action}: {'ok' if media.ok else 'FAILED ' + str(media.failure)}"
        _print(args, asdict(media), [head, media.detail()])
        return EXIT_OK if media.ok else EXIT_FAILED
    if action == "restart":
        try:
            await service.restart(session)
        except (OSError, subprocess.SubprocessError) as exc:
            _say(f"systemd did not restart the kiosk ({type(exc).__name__})")
            return EXIT_FAILED
        _print(args, {"restart": UNIT}, [f"{UNIT}: restart asked of systemd"])
        return EXIT_OK
    if action == "test":
        result = await service.test_device(session, args.device)
        lines = [f"{result.device_id}: {'ok' if result.ok else 'FAILED ' + str(result.failure)}"]
        lines.append("steps: " + (" -> ".join(result.steps) or "-"))
        # The value read is shown to the technician, then gone: printed, never stored.
        lines += [f"value: {v.quantity} {v.value} {v.unit}" for v in result.values]
        lines.append(f"battery: {result.battery or 'not reported'}")
        _print(args, {"ok": result.ok, "steps": result.steps, "failure": result.failure}, lines)
        return EXIT_OK if result.ok else EXIT_FAILED
    if action == "pair":
        from app.maintenance.pairing import BondRefused

        passkey = None
        if service.ble_bonding(args.device) == "passkey":
            passkey = _passkey(args)
        try:
            await service.pair(session, args.device, args.address, passkey)
        except BondRefused as exc:
            _say(BOND_SENTENCES.get(str(exc.failure), "the device did not bond; nothing written"))
            return EXIT_REFUSED
        _print(
            args,
            {"device": args.device, "address": args.address},
            [f"{args.device}: ble_address = {args.address} written to {service.config_path}"],
        )
        return EXIT_OK
    if action == "upload":
        from app.maintenance.errors import MaintenanceErrorReason, MaintenanceRefused

        try:
            receipt = await service.upload(session)
        except MaintenanceRefused as exc:
            if exc.reason is not MaintenanceErrorReason.UPLOAD_FAILED:
                raise
            _say(exc.sentence)
            return EXIT_FAILED
        line = f"{receipt.bundle_id}: {receipt.size} bytes, sha256 {receipt.sha256}"
        _print(args, asdict(receipt), [line])
        return EXIT_OK
    bundle = await service.export(session)
    _print(args, {"bundle": str(bundle)}, [str(bundle)])
    return EXIT_OK
