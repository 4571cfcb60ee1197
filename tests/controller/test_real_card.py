"""The real card reader driver (pyscard on pcscd + vpcd, the virtual Vitale card) under the controller."""

from __future__ import annotations

import pytest

from app.domain import session_events as ev
from app.domain.consent import ConsentChoice
from app.domain.identity import CollectionMethod, IdentityStatus
from app.domain.session_context import State
from app.domain.trace import IncidentCode, TraceKind
from tests.controller.conftest import Kiosk
from tests.controller.test_sessions import TELECONSULTATION

pytestmark = pytest.mark.integration


async def test_family_card_then_pulled_out_mid_session(kiosk_with_card: Kiosk) -> None:
    k, c = kiosk_with_card, kiosk_with_card.controller
    assert (await c.submit(ev.Begin)).accepted
    assert (await c.submit(ev.EmergencyAnswered)).accepted
    assert (await c.submit(ev.InformationAcknowledged)).accepted
    session_id = k.view.context.session_id
    assert session_id is not None
    await k.sims.insert_card("reader-1", "family")
    view = await k.until(lambda v: v.state is State.BENEFICIARY_CHOICE, timeout=20)
    assert [p.traits.birth_first_names for p in view.context.candidates] == [
        ("PAUL",),
        ("LEA",),
        ("TOM",),
    ]
    assert {p.method for p in view.context.candidates} == {CollectionMethod.CV}
    assert {p.status for p in view.context.candidates} == {IdentityStatus.PROV}
    corsican = view.context.candidates[0].identifier
    assert corsican is not None and corsican.department == "2A"
    assert (await c.submit(ev.BeneficiaryChosen, index=0)).accepted
    assert (await c.submit(ev.IdentityConfirmed)).accepted
    assert (await c.decide_consent(TELECONSULTATION, ConsentChoice.GRANTED)).accepted
    assert k.view.state is State.CONSENT
    await k.sims.remove_card("reader-1")
    view = await k.until(lambda v: v.state is State.CARD_REMOVED_PAUSE, timeout=20)
    assert view.step is State.CONSENT
    await k.sims.insert_card("reader-1", "family")
    await k.until(lambda v: v.state is State.CONSENT, timeout=20)
    assert (await c.submit(ev.StopRequested)).accepted
    assert (await c.submit(ev.StopConfirmed)).accepted
    record = await k.store.session_bundle_source(session_id)
    assert IncidentCode.CARD_REMOVED in [t.incident for t in record.trace]
    assert record.identity is not None and record.identity.method is CollectionMethod.CV
    assert TraceKind.IDENTITY_CONFIRMED in [t.kind for t in record.trace]
    await k.sims.remove_card("reader-1")
    await k.until(lambda v: not v.context.card_present, timeout=20)


async def test_expired_card_is_an_identification_problem(kiosk_with_card: Kiosk) -> None:
    k, c = kiosk_with_card, kiosk_with_card.controller
    assert (await c.submit(ev.Begin)).accepted
    assert (await c.submit(ev.EmergencyAnswered)).accepted
    assert (await c.submit(ev.InformationAcknowledged)).accepted
    await k.sims.insert_card("reader-1", "expired")
    view = await k.until(lambda v: v.context.identification_problem is not None, timeout=20)
    assert view.context.identification_problem is ev.IdentificationProblem.CARD_EXPIRED
    assert view.state is State.IDENTIFICATION
    await k.sims.remove_card("reader-1")
    await k.until(lambda v: not v.context.card_present, timeout=20)
