"""`kiosk devices check` and `kiosk devices decode`: the technician's device tools.

`check` lists the configured devices and probes each (connect, alive check,
no measurement), against the simulators when the configuration says
backend = "simulated". `decode` explains captured bytes as JSON; it shows only
what the technician asked to decode, and a card's identity fields by length.
Neither prints a stack trace: failures are sentences and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

DEFAULT_CONFIG = Path("/etc/telecabine/site.toml")
DECODE_KINDS = (
    "thermometer",
    "oximeter-spot",
    "oximeter-continuous",
    "tensiometer",
    "blood-pressure",
    "cuff-pressure",
    "date-time",
    "berrymed",
    "card",
)


def register(sub: Any) -> None:
    p = sub.add_parser("devices", help="device diagnostics for technicians")
    dsub = p.add_subparsers(dest="devices_command", metavar="ACTION")
    dsub.required = True
    check = dsub.add_parser("check", help="list the configured devices and try each")
    check.add_argument(
        "--config",
        type=Path,
        default=None,
        help=f"site configuration (default: $KIOSK_CONFIG or {DEFAULT_CONFIG})",
    )
    check.add_argument("--only", action="append", metavar="ID", help="check only this device id")
    check.add_argument("--json", action="store_true", help="print the results as JSON")
    check.set_defaults(handler=_check)
    decode = dsub.add_parser("decode", help="decode captured device bytes (hex) as JSON")
    decode.add_argument("kind", choices=DECODE_KINDS, metavar="KIND", help=", ".join(DECODE_KINDS))
    decode.add_argument("hex", nargs="+", help="the bytes in hex (spaces and colons allowed)")
    decode.set_defaults(handler=_decode)


# -- check -----------------------------------------------------------------------------
def _check(args: argparse.Namespace) -> int:
    from kiosk_config import ConfigError, load_config

    path = args.config or Path(os.environ.get("KIOSK_CONFIG", DEFAULT_CONFIG))
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    devices = [d for d in config.devices if not args.only or d.id in args.only]
    if not devices:
        print(f"{path}: no device to check", file=sys.stderr)
        return 2
    results = asyncio.run(_check_all(config, devices))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        width = max(len(r["id"]) for r in results)
        for r in results:
            mark = "ok  " if r["ok"] else "FAIL"
            print(f"{mark} {r['id']:<{width}} {r['kind']:<12} {r['backend']:<9} {r['detail']}")
    return 0 if all(r["ok"] for r in results) else 1


async def _check_all(config: Any, devices: list[Any]) -> list[dict[str, Any]]:
    from drivers.registry import DeviceUnavailable, build_driver
    from drivers.simulators import SimulatorHub

    hub: SimulatorHub | None = None
    simulated = [d for d in devices if d.backend == "simulated"]
    if simulated:
        hub = SimulatorHub(simulated, fast=True)
        await hub.start()
    results: list[dict[str, Any]] = []
    try:
        for device in devices:
            row: dict[str, Any] = {
                "id": device.id,
                "kind": device.kind.value,
                "backend": device.backend,
            }
            try:
                driver = build_driver(device, config.timeouts, hub=hub)
                limit = config.timeouts.device_connect_s + 5
                result = await asyncio.wait_for(driver.check(), limit)
                row.update(ok=result.ok, detail=result.detail)
            except DeviceUnavailable as exc:
                row.update(ok=False, detail=exc.message)
            except TimeoutError:
                row.update(ok=False, detail="the check did not finish in time")
            except Exception as exc:  # a driver bug must not hide the other devices' results
                row.update(ok=False, detail=f"the check failed ({type(exc).__name__})")
            results.append(row)
    finally:
        if hub is not None:
            await hub.stop()
    return results


# -- decode ----------------------------------------------------------------------------
class _BadHex(Exception):
    pass


def _hex(words: list[str]) -> bytes:
    text = " ".join(words).replace(":", " ").replace("0x", " ").replace("0X", " ")
    joined = "".join(text.split())
    if len(joined) % 2:
        raise _BadHex(f"The hex text has an odd number of digits ({len(joined)}).")
    try:
        return bytes.fromhex(joined)
    except ValueError:
        raise _BadHex("The text is not hexadecimal bytes.") from None


def _num(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return [_num(v) for v in value]
    if value is not None and hasattr(value, "value"):  # SpecialValue / enums
        return str(value.value)
    return value


def _decode_ble(kind: str, data: bytes) -> dict[str, Any]:
    from drivers.ble import health_thermometer as ht
    from drivers.ble import plx

    if kind == "thermometer":
        t = ht.parse_temperature_measurement(data)
        return {
            "kind": kind,
            "value": str(t.value),
            "unit": t.unit,
            "flags": list(t.flags),
            "timestamp": t.timestamp.iso() if t.timestamp else None,
            "temperature_type": t.temperature_type.name.lower() if t.temperature_type else None,
        }
    if kind == "oximeter-spot":
        s = plx.parse_spot_check(data)
        return {
            "kind": kind,
            "spo2": {"value": str(s.spo2), "unit": "%"},
            "pulse_rate": {"value": str(s.pulse_rate), "unit": "/min"},
            "timestamp": s.timestamp.iso() if s.timestamp else None,
            "measurement_status": list(s.measurement_status_names),
            "device_sensor_status": list(s.device_sensor_status_names),
            "pulse_amplitude_index": _num(s.pulse_amplitude_index),
            "device_clock_not_set": s.device_clock_not_set,
        }
    c = plx.parse_continuous(data)
    return {
        "kind": kind,
        "spo2": {"value": str(c.spo2), "unit": "%"},
        "pulse_rate": {"value": str(c.pulse_rate), "unit": "/min"},
        "fast": _num(c.fast),
        "slow": _num(c.slow),
        "measurement_status": list(c.measurement_status_names),
        "device_sensor_status": list(c.device_sensor_status_names),
        "pulse_amplitude_index": _num(c.pulse_amplitude_index),
    }


def _decode_tensiometer(data: bytes) -> dict[str, Any]:
    from drivers.serial.accutorr import PatientRecord, parse_record

    record = parse_record(data)
    if isinstance(record, PatientRecord):
        mmhg = {"unit": "mm[Hg]"}
        return {
            "kind": "tensiometer",
            "record": "patient",
            "systolic": {"value": record.systolic, **mmhg},
            "diastolic": {"value": record.diastolic, **mmhg},
            "mean": {"value": record.mean, **mmhg},
            "pulse_rate": {"value": record.pulse_rate, "unit": "/min"},
            "spo2": {"value": record.spo2, "unit": "%"},
            "status": [record.status0, record.status1, record.status2],
            "flags": list(record.status_names),
            "minutes_since_nibp": record.minutes_since_nibp,
        }
    return {"kind": "tensiometer", "record": "alarm-limits", **vars_of(record)}


def _decode_blood_pressure(kind: str, data: bytes) -> dict[str, Any]:
    """0x2A35 (`blood-pressure`), 0x2A36 (`cuff-pressure`) or 0x2A08 (`date-time`)."""
    from drivers.ble import blood_pressure as bp
    from drivers.ble.gatt_fields import parse_date_time

    if kind == "date-time":
        d = parse_date_time(data)
        return {"kind": kind, "date_time": d.iso(), "fields": vars_of(d)}
    common: dict[str, Any]
    if kind == "cuff-pressure":
        c = bp.parse_intermediate_cuff_pressure(data)
        common = {"cuff_pressure": {"value": str(c.pressure), "unit": c.unit}}
        m: Any = c
    else:
        m = bp.parse_measurement(data)
        common = {
            "systolic": {"value": str(m.systolic), "unit": m.unit},
            "diastolic": {"value": str(m.diastolic), "unit": m.unit},
            "mean": {"value": str(m.mean), "unit": m.unit},
            "measure_again": m.measure_again,
        }
    return {
        "kind": kind,
        **common,
        "timestamp": m.timestamp.iso() if m.timestamp else None,
        "pulse_rate": None
        if m.pulse_rate is None
        else {"value": _num(m.pulse_rate), "unit": "/min"},
        "user_id": m.user_id,
        "measurement_status": m.measurement_status,
        "flags": list(m.status_names),
    }


def _decode_berrymed(data: bytes) -> dict[str, Any]:
    """A captured byte stream of BCI frames: each frame, and what the framer skipped."""
    from drivers.ble.berrymed import BciFrame, BerryMedFramer

    framer = BerryMedFramer()
    events: list[Any] = framer.frames(data)
    last = framer.end_of_stream()
    if last is not None:
        events.append(last)
    frames: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for event in events:
        if isinstance(event, BciFrame):
            frames.append(
                {
                    "spo2": event.spo2,
                    "pulse_rate": event.pulse_rate,
                    "pleth": event.pleth,
                    "bar_graph": event.bar_graph,
                    "signal_strength": event.signal_strength,
                    "flags": list(event.status_names),
                }
            )
        else:
            skipped.append({"length": event.length, "reason": event.reason.value})
    return {"kind": "berrymed", "frames": frames, "skipped": skipped}


def vars_of(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__dataclass_fields__}


def _decode(args: argparse.Namespace) -> int:
    from drivers.ble.berrymed import BerryMedError
    from drivers.ble.errors import GattDecodeError
    from drivers.serial.accutorr import AccutorrError

    try:
        data = _hex(args.hex)
    except _BadHex as exc:
        return _error(args.kind, "bad-hex", str(exc))
    try:
        if args.kind == "tensiometer":
            out = _decode_tensiometer(data)
        elif args.kind == "card":
            return _decode_card(data)
        elif args.kind in ("blood-pressure", "cuff-pressure", "date-time"):
            out = _decode_blood_pressure(args.kind, data)
        elif args.kind == "berrymed":
            out = _decode_berrymed(data)
        else:
            out = _decode_ble(args.kind, data)
    except GattDecodeError as exc:
        return _error(args.kind, exc.reason.value, exc.message)
    except (AccutorrError, BerryMedError) as exc:
        return _error(args.kind, exc.reason.value, exc.message)
    print(json.dumps(out, indent=2))
    return 0


def _decode_card(data: bytes) -> int:
    try:
        from drivers.card.decode import decode_response
        from drivers.card.errors import CardError
    except ImportError:
        return _error("card", "not-available", "The card decoder (drivers.card.decode) is missing.")
    try:
        out = decode_response(data)
    except CardError as exc:
        reason = getattr(exc, "reason", None)
        return _error("card", str(getattr(reason, "value", reason)), str(exc))
    print(json.dumps(out, indent=2))
    return 0


def _error(kind: str, reason: str, message: str) -> int:
    print(json.dumps({"kind": kind, "error": {"reason": reason, "message": message}}, indent=2))
    print(message, file=sys.stderr)
    return 1
