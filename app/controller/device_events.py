"""Turning what a driver reports into what the session flow understands.

Why a pure module: this is where a card's beneficiaries become provisional
identities, a QR code a qualified one, and a device reading a checked
measurement (or a refusal with a reason). Each rule is a plain function of
values; the controller only adds the time and fresh ids. Nothing here logs
a value or a name.

Decisions (docs/controller.md):
- A card read gives PROV identities, collection method CV; the NIR is parsed
  with the domain's `parse_nir`; a beneficiary whose NIR does not check out
  is left out (and traced, without the NIR), and a card with none left gives
  NO_BENEFICIARY.
- A date of birth the card only gives partly ("lunar" dates, 00 for day or
  month) is kept partial (`BirthDatePrecision`): the unknown part is never
  made up, the screen shows it as unknown, and the identity stays PROV
  (INSi is not asked with an invented date). A date that cannot exist
  (31 February) leaves that beneficiary out, traced as a card error.
- The appli carte Vitale QR gives a QUAL identity, method AV, under the NIR
  OID in production and the test OID in test mode (the QR itself carries no
  OID).
- An oximeter reading (SpO2 + pulse) gives two measurements, SpO2 and heart
  rate; a tensiometer reading with a pulse gives blood pressure and heart
  rate. Each is checked for plausibility on its own.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from app.controller.view import LiveMeasure
from app.domain import session_events as ev
from app.domain.identity import (
    BirthDatePrecision,
    CollectionMethod,
    IdentityStatus,
    InsOid,
    InsTraits,
    InvalidNir,
    NirSex,
    PatientIdentity,
    Sex,
    parse_nir,
)
from app.domain.measurements import DeviceSource as MeasuredBy
from app.domain.measurements import (
    ImplausibleMeasurement,
    ImplausibleReason,
    MeasurementKind,
    Quantity,
    make_measurement,
)
from app.domain.mode import RunMode
from drivers import events as dev
from vocabulary.devices import CATALOGUE, DEVICE_FOR_MEASUREMENT, DeviceKind

_PARTIAL_DATE = re.compile(r"^(\d{4})-?(\d{2})?-?(\d{2})?$")


class CardDateInvalid(ValueError):
    """A card's date of birth that is no date at all (e.g. 31 February): never repaired."""


def card_birth_date(text: str) -> tuple[date, BirthDatePrecision]:
    """A card's date of birth and how much of it is known; raises CardDateInvalid.

    "1950", "1950-00", "1950-00-00" and "1950-00-14" give the year only;
    "1950-05" and "1950-05-00" give year and month. The unknown part is
    never made up: the date holds the first day of the known period and
    the precision says so. A date that cannot exist ("1984-02-31",
    month 13) is refused, not moved to another day.
    """
    match = _PARTIAL_DATE.fullmatch(text.strip())
    if match is None:
        raise CardDateInvalid("the date of birth is not written as a date")
    year = int(match.group(1))
    month = int(match.group(2) or 0)
    day = int(match.group(3) or 0)
    if year == 0:
        raise CardDateInvalid("the year of birth is 0")
    if month == 0:
        return date(year, 1, 1), BirthDatePrecision.YEAR
    if month > 12:
        raise CardDateInvalid("the month of birth does not exist")
    if day == 0:
        return date(year, month, 1), BirthDatePrecision.MONTH
    try:
        return date(year, month, day), BirthDatePrecision.DAY
    except ValueError as exc:
        raise CardDateInvalid("the day of birth does not exist in that month") from exc


def _sex(nir_sex: NirSex) -> Sex:
    return Sex.MALE if nir_sex is NirSex.MALE else Sex.FEMALE


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A beneficiary the card holds but the kiosk cannot offer; `subject` names why, no datum."""

    rank: int
    subject: str


def identities_from_card(event: dev.CardRead) -> tuple[PatientIdentity, ...]:
    """One PROV identity per beneficiary whose NIR and date of birth check out."""
    return read_card(event)[0]


def read_card(event: dev.CardRead) -> tuple[tuple[PatientIdentity, ...], tuple[LeftOut, ...]]:
    """The card's usable identities, and the beneficiaries left out with the reason.

    Why the reasons: a beneficiary silently missing from the list looks like
    a kiosk that forgot someone; the controller traces each one (CARD_ERROR,
    subject `beneficiary-<rank>:<reason>`) so support can see what the card
    held. The subject names the field and the rule, never its value.
    """
    out: list[PatientIdentity] = []
    left: list[LeftOut] = []
    for person in sorted(event.beneficiaries, key=lambda b: b.rank):
        try:
            nir = parse_nir(person.nir)
        except InvalidNir as exc:
            left.append(LeftOut(person.rank, f"beneficiary-{person.rank}:nir-{exc.reason.value}"))
            continue
        try:
            born, precision = card_birth_date(person.birth_date)
        except CardDateInvalid:
            left.append(LeftOut(person.rank, f"beneficiary-{person.rank}:birth-date-invalid"))
            continue
        if not person.surname.strip():
            left.append(LeftOut(person.rank, f"beneficiary-{person.rank}:birth-name-missing"))
            continue
        traits = InsTraits(
            birth_name=person.surname.strip(),
            birth_first_names=tuple(person.first_name.split()) or ("",),
            birth_date=born,
            sex=_sex(nir.sex),
            birth_date_precision=precision,
        )
        out.append(
            PatientIdentity(
                traits=traits,
                status=IdentityStatus.PROV,
                method=CollectionMethod.CV,
                identifier=nir,
            )
        )
    return tuple(out), tuple(left)


_FINGERPRINT_KEY = secrets.token_bytes(32)
"""Per-process key: a fingerprint compares two reads in this run and means nothing elsewhere."""


def card_fingerprint(event: dev.CardRead) -> str:
    """An opaque digest telling one card from another (HMAC of its beneficiaries' contents).

    Why keyed: a plain hash of a NIR can be reversed by trying every NIR;
    keyed with a secret drawn at start, it can only be compared with another
    fingerprint of the same run. Never the NIR, never logged.
    """
    parts = sorted(
        f"{b.rank}\x1f{b.nir}\x1f{b.surname}\x1f{b.first_name}\x1f{b.birth_date}"
        for b in event.beneficiaries
    )
    payload = "\x1e".join([event.valid_until or "", *parts]).encode()
    return hmac.new(_FINGERPRINT_KEY, payload, hashlib.sha256).hexdigest()[:32]


class QrRefused(ValueError):
    """The QR identity lacks a valid NIR or date of birth (the flow hears QR_INVALID)."""


def identity_from_qr(event: dev.QrIdentity, mode: RunMode) -> PatientIdentity:
    try:
        nir = parse_nir(event.nir)
    except InvalidNir as exc:
        raise QrRefused("the QR identity's NIR does not check out") from exc
    try:
        born = date.fromisoformat(event.birth_date)
    except ValueError as exc:
        raise QrRefused("the QR identity's date of birth is not a date") from exc
    sex = {"M": Sex.MALE, "F": Sex.FEMALE}.get(event.sex, Sex.UNKNOWN)
    traits = InsTraits(
        birth_name=event.birth_name,
        birth_first_names=event.first_names or ("",),
        birth_date=born,
        sex=sex,
        birth_place_insee=event.birth_place_insee or None,
    )
    return PatientIdentity(
        traits=traits,
        status=IdentityStatus.QUAL,
        method=CollectionMethod.AV,
        identifier=nir,
        ins_oid=InsOid.NIR if mode is RunMode.PRODUCTION else InsOid.TEST,
    )


def events_from_reading(
    reading: dev.Reading, at: datetime, new_id: Callable[[], str]
) -> list[ev.Event]:
    """MeasurementTaken for each plausible measurement in the reading, MeasurementRejected else."""
    row = CATALOGUE.get(reading.kind)
    groups = () if row is None else row.measurements
    values: dict[Quantity, Decimal] = {}
    units: dict[Quantity, str] = {}
    for item in reading.values:  # typed by the driver's event: vocabulary's Quantity
        values[item.quantity] = item.value
        units[item.quantity] = item.unit
    out: list[ev.Event] = []
    for kind, quantities in groups:
        mine = {q: v for q, v in values.items() if q in quantities}
        if not mine:
            if kind is MeasurementKind.HEART_RATE:
                continue  # a pulse is a bonus of these devices, not required
            out.append(
                ev.MeasurementRejected(at, kind=kind, reason=ImplausibleReason.MISSING_VALUE)
            )
            continue
        try:
            measurement = make_measurement(
                new_id(),
                kind,
                mine,
                MeasuredBy(reading.device_id),
                at,
                units={q: units[q] for q in mine},
                flags=reading.flags,  # the device's status bits, for the doctor
            )
        except ImplausibleMeasurement as exc:
            out.append(ev.MeasurementRejected(at, kind=kind, reason=exc.reason))
            continue
        out.append(ev.MeasurementTaken(at, measurement=measurement))
    return out


_CARD_PROBLEMS = {
    dev.FailureReason.CARD_EXPIRED: ev.IdentificationProblem.CARD_EXPIRED,
    dev.FailureReason.QR_INVALID: ev.IdentificationProblem.QR_INVALID,
}

MEASURING_KINDS = frozenset(CATALOGUE)


def measurement_kinds_of(device: DeviceKind) -> tuple[MeasurementKind, ...]:
    row = CATALOGUE.get(device)
    return () if row is None else row.measurement_kinds


def translate(
    event: dev.DeviceEvent,
    at: datetime,
    mode: RunMode,
    new_id: Callable[[], str],
    active: MeasurementKind | None = None,
) -> list[ev.Event]:
    """The domain events one driver event stands for (often none: progress only).

    `active` is the measurement the flow is taking now: a failed oximeter is
    reported as failing that measurement (SpO2 or heart rate).
    """
    match event:
        case dev.CardInserted():
            return [ev.CardInserted(at)]
        case dev.CardRemoved():
            return [ev.CardRemoved(at)]
        case dev.CardRead():
            identified = ev.CardIdentified(at, fingerprint=card_fingerprint(event))
            candidates = identities_from_card(event)
            if not candidates:
                problem = ev.IdentificationProblem.NO_BENEFICIARY
                return [identified, ev.IdentificationFailed(at, problem=problem)]
            return [
                identified,
                ev.IdentityObtained(at, candidates=candidates, source=ev.IdentitySource.CARD),
            ]
        case dev.QrIdentity():
            try:
                identity = identity_from_qr(event, mode)
            except QrRefused:
                return [ev.IdentificationFailed(at, problem=ev.IdentificationProblem.QR_INVALID)]
            return [ev.IdentityObtained(at, candidates=(identity,), source=ev.IdentitySource.QR)]
        case dev.Reading():
            return events_from_reading(event, at, new_id)
        case dev.Failed(kind=kind, reason=reason, device_id=device_id):
            if kind in MEASURING_KINDS:
                failing = measurement_kinds_of(kind)[0]
                if active is not None and DEVICE_FOR_MEASUREMENT[active] is kind:
                    failing = active
                old = reason is dev.FailureReason.STALE_READING  # a stored record only
                return [ev.DeviceFailed(at, kind=failing, device_id=device_id, old_record_only=old)]
            if kind is DeviceKind.CARD_READER or reason in _CARD_PROBLEMS:
                problem = _CARD_PROBLEMS.get(reason, ev.IdentificationProblem.CARD_UNREADABLE)
                return [ev.IdentificationFailed(at, problem=problem)]
            return []  # a camera that cannot open: the patient uses the card or asks for help
        case _:
            return []  # Connected, Measuring, Disconnected: progress shown, nothing to decide


PLETH_SHOWN = 300  # samples of the wave kept for the screen: 3 s at the BerryMed's 100 Hz
LIVE_PUBLISH_S = 0.2  # at most five views a second for the live values (the screen's pace)


class LiveProgress:
    """Folds a measuring device's progress (cuff pressure, pleth wave) into a `LiveMeasure`.

    Why here and throttled: the BerryMed streams about 25 notifications a second and
    a cuff a few a second; publishing a view for each would rebuild the UI's view as
    often. `fold` says when a view is worth publishing: at most every `min_interval_s`
    (monotonic seconds given by the caller), and at once when the measurement ends
    (the live values are dropped then: a reading, a failure, a disconnection).
    """

    def __init__(self, min_interval_s: float = LIVE_PUBLISH_S, keep: int = PLETH_SHOWN) -> None:
        self.min_interval_s = min_interval_s
        self.keep = keep
        self._live: LiveMeasure | None = None
        self._last: float | None = None

    @property
    def live(self) -> LiveMeasure | None:
        return self._live

    def clear(self) -> bool:
        """Forget the live values (measurement over, wipe); True when there were some."""
        had = self._live is not None
        self._live, self._last = None, None
        return had

    def fold(self, event: dev.DeviceEvent, now_s: float) -> bool:
        """Take one driver event; True when the view should be published now."""
        live = self._live or LiveMeasure()
        match event:
            case dev.CuffPressure(pressure=pressure, unit=unit):
                self._live = replace(live, cuff_pressure=pressure, cuff_unit=unit)
            case dev.PlethWave():
                self._live = replace(
                    live,
                    pleth=(live.pleth + event.samples)[-self.keep :],
                    pleth_rate_hz=event.sample_rate_hz,
                    finger_present=event.finger_present,
                    probe_unplugged=event.probe_unplugged,
                )
                if (event.finger_present, event.probe_unplugged) != (
                    live.finger_present,
                    live.probe_unplugged,
                ):
                    self._last = now_s
                    return True  # "put your finger in the clip" at once
            case dev.Reading() | dev.Failed() | dev.Disconnected():
                return self.clear()
            case _:
                return False
        if self._last is None or now_s - self._last >= self.min_interval_s:
            self._last = now_s
            return True
        return False
