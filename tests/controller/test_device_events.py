"""Driver reports → domain events: identities, measurements, failures."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.controller.device_events import (
    CardDateInvalid,
    LiveProgress,
    card_birth_date,
    card_fingerprint,
    read_card,
    translate,
)
from app.domain import session_events as ev
from app.domain.identity import BirthDatePrecision, CollectionMethod, IdentityStatus, InsOid, Sex
from app.domain.measurements import (
    DeviceSource,
    ImplausibleReason,
    MeasurementKind,
    Quantity,
)
from app.domain.mode import RunMode
from app.domain.nir import nir_key
from drivers import events as dev
from vocabulary.devices import DeviceKind

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
HOLDER_NIR = "1840575123456" + nir_key("1840575123456")
CHILD_NIR = "2150575123456" + nir_key("2150575123456")


def _new_id() -> str:
    return f"m{next(_COUNTER)}"


_COUNTER = itertools.count(1)


def test_card_read_gives_prov_identities_in_rank_order() -> None:
    card = dev.CardRead(
        "reader-1",
        (
            dev.Beneficiary("MARTIN", "Léa Anne", "2015-03-00", CHILD_NIR, rank=2),
            dev.Beneficiary("MARTIN", "Paul", "1984-05-17", HOLDER_NIR, rank=1),
        ),
    )
    identified, event = translate(card, AT, RunMode.TEST, _new_id)
    assert isinstance(identified, ev.CardIdentified)
    assert HOLDER_NIR not in identified.fingerprint and HOLDER_NIR not in repr(identified)
    assert isinstance(event, ev.IdentityObtained)
    assert event.source is ev.IdentitySource.CARD
    holder, child = event.candidates
    assert holder.status is IdentityStatus.PROV and holder.method is CollectionMethod.CV
    assert holder.traits.birth_date == date(1984, 5, 17)
    assert holder.traits.sex is Sex.MALE
    assert holder.identifier is not None and holder.identifier.value == HOLDER_NIR
    assert holder.ins_oid is None  # never met INSi
    assert child.traits.birth_first_names == ("Léa", "Anne")
    assert child.traits.birth_date_precision is BirthDatePrecision.MONTH  # day unknown, kept so
    assert child.traits.birth_date_known == "2015-03"
    assert holder.traits.birth_date_precision is BirthDatePrecision.DAY
    assert child.traits.sex is Sex.FEMALE


def test_card_with_no_valid_beneficiary_is_no_beneficiary() -> None:
    card = dev.CardRead("reader-1", (dev.Beneficiary("X", "Y", "1984-05-17", "184057512345699"),))
    assert translate(card, AT, RunMode.TEST, _new_id) == [
        ev.CardIdentified(AT, fingerprint=card_fingerprint(card)),
        ev.IdentificationFailed(AT, problem=ev.IdentificationProblem.NO_BENEFICIARY),
    ]


def test_qr_gives_a_qualified_av_identity_under_the_mode_oid() -> None:
    qr = dev.QrIdentity(
        "camera-1", "DURAND", ("Marie", "Claire"), "1992-02-29", "F", "75056", HOLDER_NIR
    )
    [test_event] = translate(qr, AT, RunMode.TEST, _new_id)
    [prod_event] = translate(qr, AT, RunMode.PRODUCTION, _new_id)
    assert isinstance(test_event, ev.IdentityObtained) and isinstance(
        prod_event, ev.IdentityObtained
    )
    identity = test_event.candidates[0]
    assert identity.status is IdentityStatus.QUAL and identity.method is CollectionMethod.AV
    assert identity.ins_oid is InsOid.TEST
    assert prod_event.candidates[0].ins_oid is InsOid.NIR
    assert identity.traits.birth_place_insee == "75056"
    assert identity.traits.sex is Sex.FEMALE


def test_qr_with_a_bad_nir_is_qr_invalid() -> None:
    qr = dev.QrIdentity("camera-1", "DURAND", ("Marie",), "1992-02-29", "F", "75056", "123")
    assert translate(qr, AT, RunMode.TEST, _new_id) == [
        ev.IdentificationFailed(AT, problem=ev.IdentificationProblem.QR_INVALID)
    ]


def test_oximeter_reading_gives_spo2_and_heart_rate() -> None:
    reading = dev.Reading(
        "oxi-1",
        DeviceKind.OXIMETER,
        (
            dev.ReadingValue("spo2", Decimal(97), "%"),
            dev.ReadingValue("heart-rate", Decimal(72), "/min"),
        ),
    )
    ids = iter(["a", "b"])
    spo2, rate = translate(reading, AT, RunMode.TEST, lambda: next(ids))
    assert isinstance(spo2, ev.MeasurementTaken) and isinstance(rate, ev.MeasurementTaken)
    assert spo2.measurement.kind is MeasurementKind.SPO2
    assert spo2.measurement.value(Quantity.SPO2) == Decimal(97)
    assert spo2.measurement.id == "a"
    assert spo2.measurement.source == DeviceSource("oxi-1")
    assert rate.measurement.kind is MeasurementKind.HEART_RATE
    assert rate.measurement.value(Quantity.HEART_RATE) == Decimal(72)


def test_implausible_pressure_is_rejected_with_its_reason() -> None:
    reading = dev.Reading(
        "bp-1",
        DeviceKind.TENSIOMETER,
        (
            dev.ReadingValue("systolic", Decimal(80), "mm[Hg]"),
            dev.ReadingValue("diastolic", Decimal(95), "mm[Hg]"),
        ),
    )
    assert translate(reading, AT, RunMode.TEST, _new_id) == [
        ev.MeasurementRejected(
            AT,
            kind=MeasurementKind.BLOOD_PRESSURE,
            reason=ImplausibleReason.SYSTOLIC_NOT_ABOVE_DIASTOLIC,
        )
    ]


def test_thermometer_reading_in_fahrenheit_is_rejected_as_wrong_unit() -> None:
    reading = dev.Reading(
        "thermo-1",
        DeviceKind.THERMOMETER,
        (dev.ReadingValue("body-temperature", Decimal("98.6"), "[degF]"),),
    )
    [event] = translate(reading, AT, RunMode.TEST, _new_id)
    assert event == ev.MeasurementRejected(
        AT, kind=MeasurementKind.BODY_TEMPERATURE, reason=ImplausibleReason.WRONG_UNIT
    )


def test_failures_map_by_device() -> None:
    oxi = dev.Failed("oxi-1", DeviceKind.OXIMETER, dev.FailureReason.TIMEOUT, "no answer")
    assert translate(oxi, AT, RunMode.TEST, _new_id, active=MeasurementKind.HEART_RATE) == [
        ev.DeviceFailed(AT, kind=MeasurementKind.HEART_RATE, device_id="oxi-1")
    ]
    assert translate(oxi, AT, RunMode.TEST, _new_id) == [
        ev.DeviceFailed(AT, kind=MeasurementKind.SPO2, device_id="oxi-1")
    ]
    card = dev.Failed("reader-1", DeviceKind.CARD_READER, dev.FailureReason.CARD_EXPIRED, "x")
    assert translate(card, AT, RunMode.TEST, _new_id) == [
        ev.IdentificationFailed(AT, problem=ev.IdentificationProblem.CARD_EXPIRED)
    ]
    mute = dev.Failed("reader-1", DeviceKind.CARD_READER, dev.FailureReason.CARD_ERROR, "x")
    assert translate(mute, AT, RunMode.TEST, _new_id) == [
        ev.IdentificationFailed(AT, problem=ev.IdentificationProblem.CARD_UNREADABLE)
    ]
    camera = dev.Failed("camera-1", DeviceKind.CAMERA, dev.FailureReason.NOT_FOUND, "x")
    assert translate(camera, AT, RunMode.TEST, _new_id) == []


def test_card_presence_and_progress() -> None:
    assert translate(dev.CardInserted("reader-1"), AT, RunMode.TEST, _new_id) == [
        ev.CardInserted(AT)
    ]
    assert translate(dev.CardRemoved("reader-1"), AT, RunMode.TEST, _new_id) == [ev.CardRemoved(AT)]
    assert translate(dev.Measuring("bp-1", DeviceKind.TENSIOMETER), AT, RunMode.TEST, _new_id) == []


def test_card_birth_dates_are_never_made_up() -> None:
    day, month, year = BirthDatePrecision.DAY, BirthDatePrecision.MONTH, BirthDatePrecision.YEAR
    assert card_birth_date("1984-05-17") == (date(1984, 5, 17), day)
    assert card_birth_date("19840517") == (date(1984, 5, 17), day)
    assert card_birth_date("1950") == (date(1950, 1, 1), year)
    assert card_birth_date("1950-00") == (date(1950, 1, 1), year)
    assert card_birth_date("1950-00-00") == (date(1950, 1, 1), year)
    assert card_birth_date("1950-00-14") == (date(1950, 1, 1), year)  # a day without month: no
    assert card_birth_date("1950-06-00") == (date(1950, 6, 1), month)
    assert card_birth_date("1950-06") == (date(1950, 6, 1), month)
    for impossible in ("1984-02-31", "1984-13-01", "0000-05-01", "sometime", ""):
        with pytest.raises(CardDateInvalid):
            card_birth_date(impossible)


def _known(text: str) -> tuple[str, str]:
    _, event = translate(
        dev.CardRead("reader-1", (dev.Beneficiary("MARTIN", "Paul", text, HOLDER_NIR),)),
        AT,
        RunMode.TEST,
        _new_id,
    )
    assert isinstance(event, ev.IdentityObtained)
    traits = event.candidates[0].traits
    return traits.birth_date_known, traits.birth_date_precision.value


def test_a_partial_card_date_stays_partial_in_the_identity() -> None:
    assert _known("1950") == ("1950", "year")
    assert _known("1950-00-00") == ("1950", "year")
    assert _known("1950-00") == ("1950", "year")
    assert _known("1950-06-00") == ("1950-06", "month")
    assert _known("1950-06-14") == ("1950-06-14", "day")


def test_an_impossible_date_or_bad_nir_leaves_the_beneficiary_out_with_a_reason() -> None:
    card = dev.CardRead(
        "reader-1",
        (
            dev.Beneficiary("MARTIN", "Paul", "1984-05-17", HOLDER_NIR, rank=1),
            dev.Beneficiary("MARTIN", "Léa", "1984-02-31", CHILD_NIR, rank=2),
            dev.Beneficiary("MARTIN", "Tom", "2016-01-02", "215057512345699", rank=3),
        ),
    )
    kept, left = read_card(card)
    assert [p.identifier.value for p in kept if p.identifier] == [HOLDER_NIR]
    assert [(x.rank, x.subject) for x in left] == [
        (2, "beneficiary-2:birth-date-invalid"),
        (3, "beneficiary-3:nir-key-mismatch"),
    ]
    assert all("2150575" not in x.subject and "1984" not in x.subject for x in left)


_text = st.text(max_size=20)


@given(
    st.lists(
        st.builds(
            dev.Beneficiary,
            _text,
            _text,
            _text,
            st.one_of(_text, st.just(HOLDER_NIR)),
            st.integers(0, 9),
        ),
        max_size=4,
    )
)
def test_any_card_content_translates_without_raising(people: list[dev.Beneficiary]) -> None:
    identified, event = translate(
        dev.CardRead("reader-1", tuple(people)), AT, RunMode.TEST, _new_id
    )
    assert isinstance(identified, ev.CardIdentified)
    assert isinstance(event, ev.IdentityObtained | ev.IdentificationFailed)


def test_a_card_fingerprint_tells_cards_apart_and_hides_the_nir() -> None:
    one = dev.CardRead("reader-1", (dev.Beneficiary("MARTIN", "Paul", "1984-05-17", HOLDER_NIR),))
    same = dev.CardRead("reader-2", one.beneficiaries)
    other = dev.CardRead("reader-1", (dev.Beneficiary("MARTIN", "Léa", "2015-03-02", CHILD_NIR),))
    assert card_fingerprint(one) == card_fingerprint(same)
    assert card_fingerprint(one) != card_fingerprint(other)
    assert HOLDER_NIR not in card_fingerprint(one) and "MARTIN" not in card_fingerprint(one)


@given(
    st.lists(
        st.builds(
            dev.ReadingValue,
            st.sampled_from(
                ["spo2", "heart-rate", "systolic", "diastolic", "mean", "body-temperature"]
            ),
            st.decimals(allow_nan=True, allow_infinity=True),
            st.sampled_from(["%", "/min", "mm[Hg]", "Cel", "kPa"]),
        ),
        max_size=5,
    ),
    st.sampled_from([DeviceKind.OXIMETER, DeviceKind.TENSIOMETER, DeviceKind.THERMOMETER]),
)
def test_any_reading_translates_to_taken_or_rejected(
    values: list[dev.ReadingValue], kind: DeviceKind
) -> None:
    events = translate(dev.Reading("d", kind, tuple(values)), AT, RunMode.TEST, _new_id)
    assert events
    assert all(isinstance(e, ev.MeasurementTaken | ev.MeasurementRejected) for e in events)


def test_a_reading_value_is_typed_by_vocabulary() -> None:
    """A driver naming a quantity by its value gets the enum; an unknown name never travels."""
    value = dev.ReadingValue("spo2", Decimal(97), "%")
    assert value.quantity is Quantity.SPO2
    assert value == dev.ReadingValue(Quantity.SPO2, Decimal(97), "%")
    with pytest.raises(ValueError, match="'x' is not a valid Quantity"):
        dev.ReadingValue("x", Decimal(1), "%")


# -- live progress (issue 16): the cuff's pressure and the pleth wave, throttled ------------

_BP = DeviceKind.TENSIOMETER
_OXI = DeviceKind.OXIMETER


def _wave(samples: tuple[int, ...], finger: bool = True, unplugged: bool = False) -> dev.PlethWave:
    return dev.PlethWave("oxi-1", _OXI, samples, 100, finger, unplugged)


def test_live_cuff_and_wave_are_folded_and_throttled() -> None:
    live = LiveProgress(min_interval_s=0.2, keep=5)
    assert live.fold(dev.CuffPressure("bp-1", _BP, Decimal(40)), 0.0)  # the first at once
    assert not live.fold(dev.CuffPressure("bp-1", _BP, Decimal(60)), 0.1)  # too soon
    assert live.live is not None and live.live.cuff_pressure == Decimal(60)  # kept anyway
    assert live.fold(dev.CuffPressure("bp-1", _BP, Decimal(80)), 0.25)
    assert live.fold(dev.Reading("bp-1", _BP, ()), 0.26)  # over: published, dropped
    assert live.live is None
    assert live.fold(_wave((1, 2, 3)), 1.0)
    assert not live.fold(_wave((4, 5, 6)), 1.05)
    assert live.live is not None and live.live.pleth == (2, 3, 4, 5, 6)  # the last `keep`
    assert live.fold(_wave((7,), finger=False), 1.06)  # "no finger" is said at once
    assert live.live.finger_present is False
    assert not live.fold(dev.Connected("oxi-1", _OXI), 1.5)  # not live progress
    assert live.fold(dev.Disconnected("oxi-1", _OXI), 2.0) and live.live is None


_LIVE_EVENTS = st.one_of(
    st.builds(
        dev.CuffPressure,
        st.just("bp-1"),
        st.just(_BP),
        st.decimals(0, 300, places=0),
    ),
    st.builds(
        _wave,
        st.lists(st.integers(0, 100), max_size=8).map(tuple),
        st.booleans(),
        st.booleans(),
    ),
    st.builds(
        dev.Failed,
        st.just("oxi-1"),
        st.just(_OXI),
        st.sampled_from(dev.FailureReason),
        st.just("failed"),
    ),
)


@given(st.lists(st.tuples(_LIVE_EVENTS, st.floats(0, 0.5)), max_size=60))
def test_live_progress_never_publishes_faster_than_allowed_but_for_changes(
    steps: list[tuple[dev.DeviceEvent, float]],
) -> None:
    live = LiveProgress(min_interval_s=0.2, keep=10)
    now, last_timed = 0.0, None
    for event, gap in steps:
        now += gap
        before = live.live
        published = live.fold(event, now)
        finger_news = (
            isinstance(event, dev.PlethWave)
            and before is not None
            and (before.finger_present, before.probe_unplugged)
            != (event.finger_present, event.probe_unplugged)
        )
        if isinstance(event, dev.Failed):
            assert live.live is None and published == (before is not None)
            last_timed = None
            continue
        assert live.live is not None and len(live.live.pleth) <= 10
        if published and not finger_news:
            assert last_timed is None or now - last_timed >= 0.2
        if published:
            last_timed = now
