"""Assisted acts: a device fails, an authenticated assistant enters the value; manual identity."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.controller.assisted import AssistOutcome, Credentials
from app.domain import session_events as ev
from app.domain.identity import IdentityDocument, IdentityStatus, InsTraits, Sex
from app.domain.measurements import ManualSource, MeasurementKind, Quantity
from app.domain.session_context import State
from app.domain.trace import ActorKind, IncidentCode, TraceKind
from app.maintenance import totp
from app.maintenance.errors import PERSON_MESSAGE
from app.maintenance.roles import Role
from tests.controller.conftest import HOLDER_NIR, PASSWORD, Kiosk
from tests.controller.test_sessions import to_measurements
from tests.maintenance.conftest import audit_rows


async def _account(k: Kiosk, username: str, role: Role) -> str:
    enrolment = await k.accounts.create_account(
        username, "Marie Dupont", role, PASSWORD, actor="cli:test"
    )
    return enrolment.totp_secret


def _creds(k: Kiosk, username: str, secret: str) -> Credentials:
    return Credentials(username, PASSWORD, totp.code_at(secret, k.clock.now()))


async def _audit(k: Kiosk) -> list[tuple[str, str, str]]:
    return [row[:3] for row in await audit_rows(k.store)]


async def test_failed_thermometer_then_manual_entry_by_the_assistant(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller
    assert c.assist is not None
    secret = await _account(k, "marie.dupont", Role.ASSISTANT)
    session_id = await to_measurements(k)
    k.sims.set_fault("thermo-1", "absent")  # out of range: the driver gives up after its deadline
    assert (await c.submit(ev.StartMeasurement, kind=MeasurementKind.BODY_TEMPERATURE)).accepted
    view = await k.until(lambda v: v.state is State.DEGRADED, timeout=15)
    assert view.context.degraded is not None
    assert [o.value for o in view.context.degraded.options] == ["retry", "manual-entry", "skip"]
    assert (await c.submit(ev.DegradedChoice, option=ev.DegradedOption.MANUAL_ENTRY)).accepted
    assert k.view.state is State.MEASUREMENTS
    assert k.view.context.manual_entry_for is MeasurementKind.BODY_TEMPERATURE

    not_signed = await c.assist.enter_measurement(
        MeasurementKind.BODY_TEMPERATURE, {Quantity.BODY_TEMPERATURE: Decimal("37.9")}
    )
    assert not_signed.outcome is AssistOutcome.NOT_SIGNED_IN
    refused = await c.assist.sign_in(Credentials("marie.dupont", PASSWORD, "000000"))
    assert (refused.outcome, refused.message) == (AssistOutcome.REFUSED, PERSON_MESSAGE)
    signed = await c.assist.sign_in(_creds(k, "marie.dupont", secret))
    assert signed.outcome is AssistOutcome.SIGNED_IN
    assert k.view.assistant is not None and k.view.assistant.display_name == "Marie Dupont"

    implausible = await c.assist.enter_measurement(
        MeasurementKind.BODY_TEMPERATURE, {Quantity.BODY_TEMPERATURE: Decimal("47.0")}
    )
    assert implausible.outcome is AssistOutcome.INVALID_VALUE
    assert implausible.message == (
        "The temperature is above what can be measured on a person (30.0 to 45.0 Cel); please measure again."
    )
    done = await c.assist.enter_measurement(
        MeasurementKind.BODY_TEMPERATURE, {Quantity.BODY_TEMPERATURE: Decimal("37.9")}
    )
    assert done.ok
    [measurement] = k.view.context.measurements
    assert measurement.source == ManualSource("marie.dupont")
    assert k.view.context.manual_entry_for is None

    assert (await c.submit(ev.StopRequested)).accepted
    assert (await c.submit(ev.StopConfirmed)).accepted
    assert c.assistant is None and k.view.assistant is None  # the sign-in ends with the session

    record = await k.store.session_bundle_source(session_id)
    assert [m.source for m in record.measurements] == [ManualSource("marie.dupont")]
    taken = [t for t in record.trace if t.kind is TraceKind.MEASUREMENT_TAKEN]
    assert [(t.actor.kind, t.actor.id, t.subject) for t in taken] == [
        (ActorKind.ASSISTANT, "marie.dupont", measurement.id)
    ]
    assert IncidentCode.DEVICE_FAILED in [t.incident for t in record.trace]
    rows = await _audit(k)
    assert ("marie.dupont", "auth.sign-in", "refused") in rows
    assert ("marie.dupont", "auth.sign-in", "ok") in rows
    assert ("marie.dupont", "assisted.manual-measurement", "refused") in rows
    assert ("marie.dupont", "assisted.manual-measurement", "ok") in rows
    assert (await k.store.verify_audit_chain()).ok


async def test_a_technician_cannot_enter_a_measurement(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller
    assert c.assist is not None
    secret = await _account(k, "paul.tech", Role.TECHNICIAN)
    await to_measurements(k)
    result = await c.assist.sign_in(_creds(k, "paul.tech", secret))
    assert result.outcome is AssistOutcome.NOT_ALLOWED
    assert (
        result.message
        == "Your account does not allow this act. Ask an assisting pharmacist or nurse."
    )
    assert c.assistant is None
    assert ("paul.tech", "authorise", "refused") in await _audit(k)


async def test_manual_identification_with_a_checked_document(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller
    assert c.assist is not None
    secret = await _account(k, "marie.dupont", Role.ASSISTANT)
    assert (await c.submit(ev.Begin)).accepted
    assert (await c.submit(ev.EmergencyAnswered)).accepted
    assert (await c.submit(ev.InformationAcknowledged)).accepted
    session_id = k.view.context.session_id
    assert session_id is not None
    signed = await c.assist.sign_in(_creds(k, "marie.dupont", secret))
    assert signed.ok
    traits = InsTraits("MARTIN", ("Paul",), date(1984, 5, 17), Sex.MALE, birth_place_insee="75056")
    bad = await c.assist.enter_identity(
        traits, "184057512345699", IdentityDocument.NATIONAL_ID_CARD
    )
    assert bad.outcome is AssistOutcome.INVALID_VALUE
    done = await c.assist.enter_identity(traits, HOLDER_NIR, IdentityDocument.NATIONAL_ID_CARD)
    assert done.ok, done.message
    identity = k.view.context.identity
    assert identity is not None
    assert (identity.status, identity.verified_by) == (IdentityStatus.VALI, "marie.dupont")
    assert k.view.state is State.IDENTITY_CONFIRMATION
    assert (await c.submit(ev.IdentityConfirmed)).accepted
    assert (await c.submit(ev.StopRequested)).accepted
    assert (await c.submit(ev.StopConfirmed)).accepted
    record = await k.store.session_bundle_source(session_id)
    assert record.identity is not None and record.identity.status is IdentityStatus.VALI
    identification = [t for t in record.trace if t.kind is TraceKind.IDENTIFICATION]
    assert [(t.actor.kind, t.actor.id, t.subject) for t in identification] == [
        (ActorKind.ASSISTANT, "marie.dupont", "manual")
    ]
    assert ("marie.dupont", "assisted.manual-identification", "ok") in await _audit(k)


@pytest.mark.parametrize("fault", ["never-connects", "disconnect-mid-measurement"])
async def test_retry_after_a_device_failure_measures_again(kiosk: Kiosk, fault: str) -> None:
    k, c = kiosk, kiosk.controller
    await to_measurements(k)
    k.sims.set_fault("oxi-1", fault)
    assert (await c.submit(ev.StartMeasurement, kind=MeasurementKind.SPO2)).accepted
    await k.until(lambda v: v.state is State.DEGRADED, timeout=15)
    k.sims.set_fault("oxi-1", None)
    assert (await c.submit(ev.DegradedChoice, option=ev.DegradedOption.RETRY)).accepted
    view = await k.until(lambda v: len(v.context.measurements) == 2, timeout=15)
    assert [m.kind for m in view.context.measurements] == [
        MeasurementKind.SPO2,
        MeasurementKind.HEART_RATE,
    ]
