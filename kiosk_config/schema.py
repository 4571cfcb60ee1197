"""The site configuration of one cabin, as a validated schema.

Every key has a type, a default where one is sensible, and a description that
the technician reads (`kiosk config check` prints errors built from it). The
file format is TOML: it takes comments, which the cabin template needs.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from vocabulary.devices import DeviceKind


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _a_path(value: object) -> object:
    """A path field is never empty: pydantic would read "" as ".", the current folder."""
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("a file or folder path, not an empty value")
        if "\x00" in value or value != value.strip():
            raise ValueError("a path without control characters or surrounding spaces")
    return value


ConfigPath = Annotated[Path, BeforeValidator(_a_path)]
"""Every path of the configuration: a non-empty path (existence is checked by `check_config`)."""

PathText = Annotated[str, BeforeValidator(_a_path)]
"""A path kept as text (a serial port: drivers take the string as written)."""


def _own_folder(value: Path) -> Path:
    """The data folder is a folder of its own: not the current folder, not the disk's root.

    Why: the store writes its database (and, in demo and test, its key file)
    there and the purge deletes in it; "." would be wherever the kiosk was
    started from (systemd starts it in /).
    """
    if value == Path(".") or (value.anchor and value == Path(value.anchor)):
        raise ValueError("a folder of the kiosk's own, not the current folder or the disk's root")
    return value


DataFolder = Annotated[Path, BeforeValidator(_a_path), AfterValidator(_own_folder)]


def _text(value: object) -> object:
    """Words shown to a person: not empty, no control characters."""
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("some text, not an empty value")
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise ValueError("text on one line, without control characters")
    return value


Text = Annotated[str, BeforeValidator(_text)]

_BLE_ADDRESS = re.compile(
    r"^(?:[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}"
    r"|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$"
)


def _ble_address(value: str) -> str:
    """A Bluetooth address as BlueZ gives it ('AA:BB:CC:DD:EE:FF'; bleak's UUID form too)."""
    if not _BLE_ADDRESS.fullmatch(value):
        raise ValueError("a Bluetooth address of six hexadecimal pairs such as 'AA:BB:CC:DD:EE:01'")
    return value


BleAddress = Annotated[str, AfterValidator(_ble_address)]


def _emergency_number(value: str) -> str:
    """A number to dial, shown on the emergency screen: digits (spaces allowed), '+' first."""
    if not re.fullmatch(r"\+?[0-9](?: ?[0-9]){1,19}", value):
        raise ValueError("a phone number of 2 to 20 digits, such as '15' or '01 40 05 48 48'")
    return value


EmergencyNumber = Annotated[str, AfterValidator(_emergency_number)]

_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])"
_ICE_URL = re.compile(
    rf"^(stun|stuns|turn|turns):({_HOST})(?::([0-9]{{1,5}}))?(\?transport=(?:udp|tcp))?$"
)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _web_url(value: str) -> str:
    """An http(s) URL with a host, nothing else (no javascript:, file:, data:, credentials)."""
    if any(ord(c) <= 32 or ord(c) == 127 for c in value):
        raise ValueError("an http:// or https:// URL without spaces or control characters")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"an http:// or https:// URL ({exc})") from None
    if parts.scheme not in {"http", "https"}:
        raise ValueError("an http:// or https:// URL")
    if not parts.hostname or not (re.fullmatch(_HOST, parts.hostname) or _is_ip(parts.hostname)):
        raise ValueError("an http:// or https:// URL with a host name")
    if parts.username is not None or parts.password is not None:
        raise ValueError("a URL without a user name or password in it")
    if parts.query or parts.fragment:
        raise ValueError("a base URL without '?' or '#'")
    if port == 0:
        raise ValueError("a URL with a port between 1 and 65535")
    return value


def _ice_url(value: str) -> str:
    """A STUN or TURN URI (RFC 7064/7065): stun:, turn: or turns: host[:port][?transport=]."""
    m = _ICE_URL.fullmatch(value)
    if m is None or m.group(1) == "stuns":
        raise ValueError("a stun:, turn: or turns: URL such as 'turns:turn.example.net:5349'")
    if m.group(3) is not None and not 1 <= int(m.group(3)) <= 65535:
        raise ValueError("a STUN/TURN URL with a port between 1 and 65535")
    if m.group(1) == "stun" and m.group(4):
        raise ValueError("a stun: URL without '?transport=' (only turn: takes it)")
    return value


def _not_empty(value: tuple[str, ...]) -> tuple[str, ...]:
    if not value:
        raise ValueError("at least one URL")
    return value


WebUrl = Annotated[str, AfterValidator(_web_url)]
IceUrl = Annotated[str, AfterValidator(_ice_url)]

_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
_PHONE_PREFIXES = ("+33", "0033", "+262", "+590", "+594", "+596")


def _french_phone(value: str) -> str:
    """A French phone number of ten digits, kept as the patient reads it: '04 72 10 20 30'.

    Accepts the usual ways of writing one: '0472102030', '04.72.10.20.30',
    '+33 4 72 10 20 30', '+33 (0)4 72 10 20 30', and the overseas departments'
    +262/+590/+594/+596 (whose national numbers also start with 0).
    """
    digits = _PHONE_SEPARATORS.sub("", value.replace("(0)", ""))
    for prefix in _PHONE_PREFIXES:
        if digits.startswith(prefix):  # +33 4 72 ... -> 04 72 ...; +262 262 ... -> 0262 ...
            digits = "0" + digits[len(prefix) :]
            break
    if not re.fullmatch(r"0[1-9][0-9]{8}", digits):
        raise ValueError(
            "a French phone number of ten digits such as '04 72 10 20 30' or '+33 4 72 10 20 30'"
        )
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


FrenchPhone = Annotated[str, AfterValidator(_french_phone)]


class Mode(enum.StrEnum):
    PRODUCTION = "production"
    TEST = "test"


class Address(_Strict):
    """Where the cabin is, as the patient gives it to the SAMU and the doctor reads it."""

    street: Text = Field(description="Street and number of the cabin's site.")
    complement: Text | None = Field(
        default=None,
        description=(
            "Optional: how to find the cabin once there (building, floor, 'inside the pharmacy');"
            " told to the SAMU with the address."
        ),
    )
    postal_code: Annotated[str, Field(pattern=r"^[0-9]{5}$")] = Field(
        description="Five-digit French postal code."
    )
    city: Text = Field(description="Town of the site.")

    def lines(self) -> tuple[str, str]:
        """The address on two lines: ('3 place du Marché, bâtiment B', '69001 Lyon')."""
        first = f"{self.street}, {self.complement}" if self.complement else self.street
        return first, f"{self.postal_code} {self.city}"

    def one_line(self) -> str:
        """The address on one line: '3 place du Marché, bâtiment B, 69001 Lyon'."""
        return ", ".join(self.lines())


class Site(_Strict):
    cabin_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{2,39}$")] = Field(
        description="Stable identifier of this cabin; it prefixes every identifier the kiosk mints."
    )
    name: Text = Field(
        description=(
            "Name of the hosting site (pharmacy, town hall), as people know it: shown on the"
            " emergency screen with the address and sent to the doctor."
        )
    )
    address: Address = Field(
        description="Address of the site: shown on the emergency screen to give the SAMU."
    )
    phone: FrenchPhone | None = Field(
        default=None,
        description=(
            "Recommended: phone number of the hosting site, written in the doctor's summary so"
            " that the doctor can call the site back (e.g. '04 72 10 20 30')."
        ),
    )
    insee_code: Annotated[str, Field(pattern=r"^(\d{5}|2[AB]\d{3})$")] = Field(
        description="INSEE (COG) code of the commune: the place of the patient sent to the doctor."
    )
    mode: Mode = Field(
        default=Mode.PRODUCTION,
        description="'production' refuses test identities and test OIDs; 'test' is for demo and tests.",
    )
    # -- the people on site: preparation between patients, help calls (docs/onsite.md) ----
    preparation_required: bool | None = Field(
        default=None,
        description=(
            "After each session the on-site staff confirms the cabin is ready (cleaned, nothing"
            " left behind) before the next patient starts; unset: on in production, off in test."
        ),
    )
    help_webhook_url: WebUrl | None = Field(
        default=None,
        description=(
            "A URL on the site's own network that also receives each help call (POST, JSON:"
            " cabin, call id, reason; never a patient datum), e.g. a counter's bell."
        ),
    )
    help_after_silence_s: Annotated[int, Field(ge=30, le=1800)] | None = Field(
        default=None,
        description=(
            "Seconds without a touch on one step after which the on-site person is called as if"
            " the patient had pressed Help; unset: only the Help button calls."
        ),
    )

    def needs_preparation(self) -> bool:
        """`preparation_required`, or by default: on in production, off in test."""
        if self.preparation_required is not None:
            return self.preparation_required
        return self.mode is Mode.PRODUCTION

    def address_lines(self, *, with_name: bool = True, lines: Literal[1, 2] = 2) -> tuple[str, ...]:
        """The site for a patient to read aloud to the SAMU, or for the doctor's summary.

        ``lines=2``: ('Pharmacie du Marché', '3 place du Marché', '69001 Lyon') — the name
        (unless ``with_name=False``) on its own line, then the address on two lines.
        ``lines=1``: ('Pharmacie du Marché, 3 place du Marché, 69001 Lyon',).
        """
        parts = ((self.name,) if with_name else ()) + self.address.lines()
        return (", ".join(parts),) if lines == 1 else parts


class Timeouts(_Strict):
    inactivity_warning_s: Annotated[int, Field(ge=10, le=600)] = Field(
        default=60, description="Seconds without a touch before the 'are you still there?' warning."
    )
    inactivity_countdown_s: Annotated[int, Field(ge=5, le=120)] = Field(
        default=30,
        description="Seconds of countdown on the warning before the session is abandoned.",
    )
    card_removed_grace_s: Annotated[int, Field(ge=5, le=300)] = Field(
        default=60, description="Seconds to wait for the card to come back before asking again."
    )
    device_connect_s: Annotated[float, Field(gt=0, le=120)] = Field(
        default=10.0,
        description="Seconds to connect to a measuring device before it counts as failed.",
    )
    device_measure_s: Annotated[float, Field(gt=0, le=600)] = Field(
        default=90.0, description="Seconds to wait for a reading once a measurement has started."
    )
    call_reconnect_s: Annotated[float, Field(gt=0, le=300)] = Field(
        default=30.0,
        description="Seconds to try to reconnect a dropped call before the degraded path.",
    )
    end_reading_s: Annotated[int, Field(ge=30, le=900)] = Field(
        default=180,
        description=(
            "Seconds the end screen (card reminder, documents' QR codes) stays without the "
            "'are you still there?' warning."
        ),
    )
    message_reading_s: Annotated[int, Field(ge=30, le=900)] = Field(
        default=120,
        description=(
            "Seconds a message the patient must read (network or device problem, emergency "
            "numbers) stays without the 'are you still there?' warning."
        ),
    )
    take_card_s: Annotated[int, Field(ge=10, le=600)] = Field(
        default=90,
        description=(
            "Seconds a closing session waits for the card to be taken out before it is wiped "
            "anyway (traced as a card left in the reader)."
        ),
    )
    max_wait_s: Annotated[int, Field(ge=60, le=7200)] = Field(
        default=1200,
        description=(
            "Longest wait in the waiting room before the patient is offered to keep waiting "
            "or to finish (with the nearby places)."
        ),
    )
    assistant_idle_s: Annotated[int, Field(ge=30, le=900)] = Field(
        default=120,
        description=(
            "Seconds without a touch after which a professional's sign-in for an assisted act "
            "ends (it also ends once the act is recorded)."
        ),
    )


# The blood-pressure monitor's Bluetooth protocols (docs/drivers-ble-serial.md); any other
# protocol is a serial one, checked by the driver registry.
BLE_TENSIOMETER_PROTOCOLS: tuple[str, ...] = ("ble-bps",)


class Device(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")] = Field(
        description="Name of the device in this cabin, used in traces (e.g. 'thermo-1')."
    )
    kind: DeviceKind = Field(description="What the device is.")
    backend: Literal["real", "simulated"] = Field(
        default="real", description="'simulated' uses the built-in simulator (demo and tests)."
    )
    ble_address: BleAddress | None = Field(
        default=None, description="BLE address (thermometer, oximeter, Bluetooth tensiometer)."
    )
    serial_port: PathText | None = Field(default=None, description="Serial port (tensiometer).")
    baud_rate: Literal[1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] = Field(
        default=9600, description="Serial baud rate (tensiometer)."
    )
    reader_name: Text | None = Field(
        default=None, description="PC/SC reader name, or a prefix of it (card reader)."
    )
    camera_index: Annotated[int, Field(ge=0)] = Field(default=0, description="OpenCV camera index.")
    protocol: Text | None = Field(
        default=None,
        description=(
            "Protocol module for devices that speak several: oximeter 'plx' or 'berrymed'; "
            "tensiometer 'accutorr' (serial) or 'ble-bps' (Bluetooth SIG Blood Pressure 0x1810)."
        ),
    )
    transport: Literal["serial", "ble"] | None = Field(
        default=None,
        description=(
            "Tensiometer only: 'serial' (serial_port) or 'ble' (ble_address, protocol "
            "'ble-bps'). Not given: read from the protocol ('ble-bps' is BLE, else serial)."
        ),
    )
    bonding: Literal["none", "just-works", "passkey"] = Field(
        default="none",
        description=(
            "Bluetooth devices: what the device asks before it sends (docs/maintenance.md, "
            "'Bonding'): 'none', 'just-works' (bonds without a code), or 'passkey' (the "
            "technician types the code the device shows when paired in maintenance mode)."
        ),
    )

    @model_validator(mode="after")
    def _transport_given(self) -> Device:
        if self.transport is not None and self.kind != DeviceKind.TENSIOMETER:
            raise ValueError(f"'transport' is for a tensiometer, not a {self.kind}")
        if self.kind == DeviceKind.TENSIOMETER and self.transport is not None:
            ble = BLE_TENSIOMETER_PROTOCOLS
            protocol = self.protocol
            if self.transport == "ble" and protocol is not None and protocol not in ble:
                raise ValueError(
                    f"a Bluetooth tensiometer speaks {', '.join(ble)}, not protocol '{protocol}'"
                )
            if self.transport == "serial" and protocol in ble:
                raise ValueError(f"protocol '{protocol}' is Bluetooth, not a serial tensiometer")
        if self.bonding != "none" and not (
            self.kind in (DeviceKind.THERMOMETER, DeviceKind.OXIMETER)
            or (self.kind == DeviceKind.TENSIOMETER and self.tensiometer_transport() == "ble")
        ):
            raise ValueError(f"'bonding' is for a Bluetooth device, not a {self.kind}")
        if self.backend == "real":
            needs = {
                DeviceKind.THERMOMETER: "ble_address",
                DeviceKind.OXIMETER: "ble_address",
                DeviceKind.TENSIOMETER: (
                    "ble_address" if self.tensiometer_transport() == "ble" else "serial_port"
                ),
            }.get(self.kind)
            if needs is not None and getattr(self, needs) is None:
                raise ValueError(f"a real {self.kind} device needs '{needs}'")
        return self

    def tensiometer_transport(self) -> Literal["serial", "ble"]:
        """The transport of a tensiometer: the one written, else the protocol's."""
        if self.transport is not None:
            return self.transport
        return "ble" if (self.protocol or "") in BLE_TENSIOMETER_PROTOCOLS else "serial"


class Upload(_Strict):
    """How sessions go up to the platform (docs/sync.md, "Upload strategy")."""

    strategy: Literal["auto", "update-create", "conditional-create"] = Field(
        default="auto",
        description=(
            "auto: read from the server's CapabilityStatement (update-create where the server "
            "allows it, else conditional create). Never change it by hand for a platform that "
            "already holds this cabin's sessions: its cabin-wide resources would be duplicated."
        ),
    )
    max_conditional_entries: Annotated[int, Field(ge=1, le=1000)] = Field(
        default=8,
        description="Entries of one conditional-create transaction (strict-isolation servers: 8).",
    )
    max_update_entries: Annotated[int, Field(ge=1, le=1000)] = Field(
        default=50, description="Entries of one update-create transaction."
    )
    inline_max_bytes: Annotated[int, Field(ge=0, le=16_777_216)] = Field(
        default=786_432,
        description=(
            "Largest document sent inline, in raw bytes (786432: its base64 is exactly 1 MiB, "
            "which servers refusing strings over 1 MB accept)."
        ),
    )
    binary_documents: bool = Field(
        default=True,
        description="Larger documents as a Binary resource where update-create works.",
    )
    max_reply_bytes: Annotated[int, Field(ge=65_536, le=268_435_456)] = Field(
        default=16 * 1024 * 1024,
        description="Largest reply body read from the platform; a longer one is a failure.",
    )


class Heartbeat(_Strict):
    """The cabin's health pushed to the platform as OTLP/HTTP metrics (docs/heartbeat.md)."""

    enabled: bool = Field(
        default=True, description="Push the cabin's health (codes and counts, never health data)."
    )
    interval_s: Annotated[float, Field(ge=30, le=3600)] = Field(
        default=300.0, description="Seconds between two heartbeats (and one after each incident)."
    )
    path: Annotated[str, Field(pattern=r"^/[A-Za-z0-9._~/-]*$")] = Field(
        default="/v1/metrics", description="Path of the platform's OTLP/HTTP metrics endpoint."
    )


class Platform(_Strict):
    url: WebUrl = Field(
        description="Base http:// or https:// URL of the platform (FHIR endpoint and signalling)."
    )
    ca_file: ConfigPath | None = Field(
        default=None, description="CA certificate file that signs the platform's TLS certificate."
    )
    client_cert_file: ConfigPath | None = Field(
        default=None, description="This cabin's client certificate (optional mutual TLS)."
    )
    client_key_file: ConfigPath | None = Field(
        default=None, description="Key of the cabin's client certificate."
    )
    cabin_key_file: ConfigPath | None = Field(
        default=None,
        description=(
            "This cabin's provisioning secret (32+ random bytes, hex; mode 0600), given at "
            "enrolment: the kiosk proves it to the platform for a short-lived token sent "
            "on every channel. Never sent itself."
        ),
    )
    health_path: Annotated[str, Field(pattern=r"^/[A-Za-z0-9._~/-]*$")] = Field(
        default="/health", description="Path of the platform health endpoint (starts with '/')."
    )
    health_interval_s: Annotated[float, Field(gt=0, le=300)] = Field(
        default=10.0, description="Seconds between two platform health checks."
    )
    ice_servers: tuple[IceServer, ...] = Field(
        default=(), description="STUN/TURN servers for the call."
    )
    upload: Upload = Field(
        default_factory=Upload, description="How sessions go up to the platform (FHIR)."
    )
    heartbeat: Heartbeat = Field(
        default_factory=Heartbeat, description="The cabin's health, pushed to the platform."
    )


class IceServer(_Strict):
    urls: Annotated[tuple[IceUrl, ...], AfterValidator(_not_empty)] = Field(
        description="stun:, turn: or turns: URLs (e.g. 'turns:turn.example.net:5349').",
    )
    username: Text | None = None
    credential: Text | None = None


class Storage(_Strict):
    data_dir: DataFolder = Field(
        default=Path("/var/lib/telecabine"),
        description="Folder of the encrypted database (and, in demo/test, its key file).",
    )
    retention_days: Annotated[int, Field(ge=0, le=3650)] = Field(
        default=7, description="Days to keep data the platform has acknowledged before purging it."
    )
    max_buffer_mb: Annotated[int, Field(ge=1)] = Field(
        default=512, description="Unsent-buffer size that raises a maintenance incident."
    )
    max_unsent_age_hours: Annotated[int, Field(ge=1)] = Field(
        default=48, description="Age of the oldest unsent data that raises a maintenance incident."
    )


class NearbyPlace(_Strict):
    name: Text = Field(description="Name of the place (medical centre, doctor's office).")
    address: Text = Field(description="Address, as the patient would look for it.")
    phone: Text | None = Field(default=None, description="Phone number, if any.")
    hours: Text | None = Field(default=None, description="Opening hours, in plain words.")


class EmergencyNumbers(_Strict):
    samu: EmergencyNumber = Field(default="15", description="SAMU (medical emergency).")
    european: EmergencyNumber = Field(default="112", description="European emergency number.")
    deaf: EmergencyNumber = Field(
        default="114",
        description="Emergency number for deaf and hard-of-hearing people (SMS/visio).",
    )
    poison: EmergencyNumber | None = Field(
        default=None, description="Poison centre, if the site wants it shown."
    )
    suicide_prevention: EmergencyNumber = Field(
        default="3114", description="National suicide prevention line."
    )


class Printer(_Strict):
    """The cabin's printer, a CUPS queue (docs/printing.md). No section: no printer, and the
    end screen's "Print" says so and points to the QR codes."""

    queue: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,127}$")] = Field(
        description="Name of the CUPS queue the kiosk prints to (lpstat -p lists them)."
    )
    server: PathText | None = Field(
        default=None,
        description="CUPS server (socket path or host:port); none: the machine's own CUPS.",
    )
    timeout_s: Annotated[float, Field(gt=0, le=600)] = Field(
        default=120.0, description="How long one document may take before it counts as failed."
    )


class Stethoscope(_Strict):
    """A connected stethoscope (a USB audio input) the doctor listens through during the call
    (docs/call-exam.md). No section: no stethoscope, and the console offers none."""

    device: Text = Field(
        description="Its audio input as PortAudio names it (`python -m sounddevice` lists them)."
    )
    backend: Literal["real", "simulated"] = Field(
        default="real", description="'simulated' plays a heartbeat (the demo)."
    )


class Otoscope(_Strict):
    """A second camera (UVC otoscope or dermatoscope) the doctor can look through and take
    stills from (docs/call-exam.md). No section: none."""

    device: Text = Field(
        description="Its V4L2 device, best a stable path (/dev/v4l/by-id/...), or an index."
    )
    kind: Literal["otoscope", "dermatoscope"] = Field(
        default="otoscope", description="What it is, as the still's title names it."
    )
    backend: Literal["real", "simulated"] = Field(
        default="real", description="'simulated' shows a synthetic ear canal (the demo)."
    )


class KioskConfig(_Strict):
    site: Site
    languages: tuple[Literal["fr", "en", "ar"], ...] = Field(
        default=("fr", "en", "ar"),
        min_length=1,
        description="Languages offered; the first is the default.",
    )
    timeouts: Timeouts = Field(default_factory=Timeouts)
    devices: tuple[Device, ...] = Field(default=(), description="Devices of the cabin.")
    platform: Platform
    storage: Storage = Field(default_factory=Storage)
    nearby_places: tuple[NearbyPlace, ...] = Field(
        default=(), description="Places for an in-person consultation (charte §1.2)."
    )
    emergency: EmergencyNumbers = Field(default_factory=EmergencyNumbers)
    printer: Printer | None = Field(default=None, description="The cabin's printer, if any.")
    stethoscope: Stethoscope | None = Field(
        default=None, description="The cabin's connected stethoscope, if any."
    )
    otoscope: Otoscope | None = Field(
        default=None, description="The cabin's otoscope or dermatoscope camera, if any."
    )

    @model_validator(mode="after")
    def _unique_device_ids(self) -> KioskConfig:
        seen: set[str] = set()
        for device in self.devices:
            if device.id in seen:
                raise ValueError(f"device id '{device.id}' is used twice")
            seen.add(device.id)
        if "fr" not in self.languages:
            raise ValueError("French ('fr') must be among the languages: it is the source language")
        return self


Platform.model_rebuild()
