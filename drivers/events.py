"""What every device driver tells the rest of the kiosk.

One vocabulary for all devices (card reader, camera, thermometer, oximeter,
tensiometer) so that the session controller handles them alike. Events are
frozen dataclasses; a failure carries a reason enum (so callers branch without
parsing strings, as bleak does) and a plain sentence for the technician log.
Values travel only inside `Reading` objects and are never logged.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal

from vocabulary.devices import DeviceKind
from vocabulary.quantities import Quantity


class FailureReason(enum.StrEnum):
    NOT_FOUND = "not-found"  # port, reader or BLE address absent
    CONNECT_FAILED = "connect-failed"
    TIMEOUT = "timeout"  # the device did not answer in time
    DISCONNECTED = "disconnected"  # link lost mid-measurement (cable pulled, BLE drop)
    PROTOCOL_ERROR = "protocol-error"  # bytes that do not follow the protocol
    DEVICE_ERROR = "device-error"  # the device itself reports an error (cuff error)
    NO_VALID_READING = "no-valid-reading"  # NaN / NRes / out of range special values
    CARD_ERROR = "card-error"  # error status word, mute card
    CARD_EXPIRED = "card-expired"
    QR_INVALID = "qr-invalid"  # bad signature, expired, malformed payload
    STALE_READING = "stale-reading"  # only readings taken before this session (stored records)
    UNSUPPORTED_FORMAT = "unsupported-format"  # a protocol variant the kiosk does not read


@dataclass(frozen=True, slots=True)
class Connected:
    device_id: str
    kind: DeviceKind


@dataclass(frozen=True, slots=True)
class Connecting:
    """One connection attempt begins; `deadline_s` is what is left of the whole connect phase.

    The caller can show "searching for the device… (up to N s)": attempts share
    one deadline (the site's `device_connect_s`), so N only goes down.
    """

    device_id: str
    kind: DeviceKind
    attempt: int
    max_attempts: int
    deadline_s: float


@dataclass(frozen=True, slots=True)
class Measuring:
    device_id: str
    kind: DeviceKind


@dataclass(frozen=True, slots=True, init=False)
class ReadingValue:
    """One measured quantity, with the device's precision kept as a Decimal.

    The quantity is vocabulary's `Quantity` (a driver may name it by its value,
    "spo2": it becomes the enum here; an unknown name raises ValueError). The
    unit is the one the device announced, in UCUM: the domain refuses a reading
    whose unit is not the quantity's own (`ImplausibleReason.WRONG_UNIT`).
    """

    quantity: Quantity
    value: Decimal = field(repr=False)  # a health value: never in a log line
    unit: str  # UCUM as announced: "Cel", "%", "/min", "mm[Hg]"

    def __init__(self, quantity: Quantity | str, value: Decimal, unit: str) -> None:
        object.__setattr__(self, "quantity", Quantity(quantity))
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "unit", unit)


@dataclass(frozen=True, slots=True)
class Reading:
    device_id: str
    kind: DeviceKind
    values: tuple[ReadingValue, ...] = field(repr=False)
    flags: tuple[str, ...] = ()
    device_time: str | None = None  # ISO 8601 from the device, if it sent one


@dataclass(frozen=True, slots=True)
class CuffPressure:
    """Progress: the cuff's pressure while it inflates and deflates (Intermediate Cuff Pressure).

    Shown live to the patient; never stored, never a measurement.
    """

    device_id: str
    kind: DeviceKind
    pressure: Decimal = field(repr=False)
    unit: str = "mm[Hg]"


@dataclass(frozen=True, slots=True)
class PlethWave:
    """Progress: the oximeter's plethysmogram samples (0-100) since the last event, for a live wave.

    `sample_rate_hz` tells how to space them; `finger_present` / `probe_unplugged`
    let the screen say "put your finger in the clip" at once. Never stored.
    """

    device_id: str
    kind: DeviceKind
    samples: tuple[int, ...] = field(repr=False)
    sample_rate_hz: int = 100
    finger_present: bool = True
    probe_unplugged: bool = False


@dataclass(frozen=True, slots=True)
class Failed:
    device_id: str
    kind: DeviceKind
    reason: FailureReason
    message: str  # a plain sentence, with no health data in it


@dataclass(frozen=True, slots=True)
class Disconnected:
    device_id: str
    kind: DeviceKind


@dataclass(frozen=True, slots=True)
class CardInserted:
    device_id: str
    atr: bytes = field(repr=False, default=b"")


@dataclass(frozen=True, slots=True)
class CardRemoved:
    device_id: str


@dataclass(frozen=True, slots=True)
class Beneficiary:
    """One person on a Carte Vitale (the holder and the children on it)."""

    surname: str = field(repr=False)
    first_name: str = field(repr=False)
    birth_date: str = field(repr=False)  # ISO date YYYY-MM-DD, or partial as on the card
    nir: str = field(repr=False)
    rank: int = 1


@dataclass(frozen=True, slots=True)
class CardRead:
    """A card read: a provisional (PROV) identity for each beneficiary."""

    device_id: str
    beneficiaries: tuple[Beneficiary, ...]
    valid_until: str | None = None


@dataclass(frozen=True, slots=True)
class QrIdentity:
    """The appli carte Vitale identity from a QR code (method AV, status QUAL)."""

    device_id: str
    birth_name: str = field(repr=False)
    first_names: tuple[str, ...] = field(repr=False)
    birth_date: str = field(repr=False)
    sex: str = field(repr=False)  # "M" | "F" | "U"
    birth_place_insee: str = field(repr=False)
    nir: str = field(repr=False)
    expires_at: str = ""


DeviceEvent = (
    Connected
    | Connecting
    | Measuring
    | CuffPressure
    | PlethWave
    | Reading
    | Failed
    | Disconnected
    | CardInserted
    | CardRemoved
    | CardRead
    | QrIdentity
)
