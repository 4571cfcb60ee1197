"""The domain's less travelled branches, each as a behaviour a patient or a professional meets."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.domain.manual_identity import (
    FieldProblem,
    IdentityField,
    InvalidManualIdentity,
    ManualIdentityForm,
    parse_manual_identity,
)
from app.domain.measurements import ImplausibleReason, MeasurementKind
from app.domain.nir import nir_key
from app.domain.session_context import FlowSettings, SessionContext, State
from app.domain.session_events import (
    CardIdentified,
    InvalidEvent,
    MeasurementRejected,
    StartMeasurement,
)
from app.domain.visit_reason import (
    InvalidVisitReason,
    VisitReason,
    VisitReasonProblem,
    check_reasons,
)
from tests.domain.builders import T0, at, flow_at

TODAY = date(2026, 11, 23)
BODY = "2480375056123"
NIR = BODY + nir_key(BODY)


def form(**changes: str) -> ManualIdentityForm:
    base = {
        "birth_name": "Lefèvre",
        "birth_first_names": "Jeanne",
        "first_name_used": "",
        "birth_date": "12/03/1948",
        "sex": "female",
        "birth_place": "",
        "nir": NIR,
        "document": "none",
    }
    base.update(changes)
    return ManualIdentityForm(**base)


def problems(f: ManualIdentityForm) -> dict[IdentityField, FieldProblem]:
    with pytest.raises(InvalidManualIdentity) as caught:
        parse_manual_identity(f, TODAY)
    return caught.value.problems


def test_a_nir_is_compared_only_with_the_traits_that_were_given() -> None:
    # No sex and no date: those two are missing, the NIR itself is not called a mismatch.
    assert problems(form(sex="", birth_date="")) == {
        IdentityField.SEX: FieldProblem.MISSING,
        IdentityField.BIRTH_DATE: FieldProblem.MISSING,
    }


def test_a_provisional_nir_does_not_tell_the_sex() -> None:
    body = "7480375056123"  # 7: a provisional number, its first digit says nothing of the sex
    typed = parse_manual_identity(form(nir=body + nir_key(body), sex="male"), TODAY)
    assert typed.nir is not None and typed.nir.is_provisional
    with pytest.raises(InvalidManualIdentity):  # the year still has to agree
        parse_manual_identity(form(nir=body + nir_key(body), birth_date="12/03/1950"), TODAY)


def test_a_bad_first_name_used_and_an_unknown_sex_are_named() -> None:
    assert problems(form(first_name_used="Jean2", sex="other")) == {
        IdentityField.FIRST_NAME_USED: FieldProblem.CHARACTERS,
        IdentityField.SEX: FieldProblem.UNKNOWN_CHOICE,
    }


def test_only_visit_reasons_are_kept() -> None:
    with pytest.raises(InvalidVisitReason) as caught:
        check_reasons((VisitReason.FEVER, "fever"))  # type: ignore[arg-type]
    assert caught.value.problem is VisitReasonProblem.NOT_A_REASON
    assert check_reasons((VisitReason.FEVER,)) == (VisitReason.FEVER,)


def test_a_card_read_needs_its_fingerprint() -> None:
    with pytest.raises(InvalidEvent, match="fingerprint"):
        CardIdentified(T0, "")
    assert CardIdentified(T0, "f1").fingerprint == "f1"


def test_the_take_card_and_wait_deadlines_run_only_in_their_steps() -> None:
    settings = FlowSettings(take_card_s=90, max_wait_s=1200)
    closing = SessionContext(step=State.TAKE_CARD, take_card_since=T0)
    assert closing.take_card_deadline(settings) == T0 + timedelta(seconds=90)
    assert SessionContext(step=State.END, take_card_since=T0).take_card_deadline(settings) is None
    assert SessionContext(step=State.TAKE_CARD).take_card_deadline(settings) is None
    waiting = SessionContext(step=State.WAITING_ROOM, wait_started_at=T0)
    assert waiting.wait_deadline(settings) == T0 + timedelta(seconds=1200)
    assert SessionContext(step=State.CALL, wait_started_at=T0).wait_deadline(settings) is None
    assert SessionContext(step=State.WAITING_ROOM).wait_deadline(settings) is None


def test_a_refused_reading_of_another_device_leaves_the_running_one_alone() -> None:
    flow = flow_at(State.MEASUREMENTS)
    flow.handle(StartMeasurement(at(9), MeasurementKind.BODY_TEMPERATURE))
    assert flow.context.active_device is MeasurementKind.BODY_TEMPERATURE
    flow.handle(MeasurementRejected(at(10), MeasurementKind.SPO2, ImplausibleReason.TOO_LOW))
    assert flow.context.active_device is MeasurementKind.BODY_TEMPERATURE
    assert flow.context.trace[-1].subject == "spo2:too-low"
