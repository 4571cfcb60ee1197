"""A failed INSi query is a fact of the act: traced as an incident, shown to the professional.

Real flow, real SQLCipher store, the reference platform's INSi relay (a trait
mismatch, INSi down) or a closed port (unreachable).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.controller.adapters import DriverHub, StoreSession
from app.controller.controller import SessionController, insi_incident_code
from app.domain import session_events as ev
from app.domain.flow import SessionFlow
from app.domain.identity import IdentityStatus
from app.domain.mode import RunMode
from app.domain.session_context import FlowSettings, State
from app.domain.trace import IncidentCode, TraceKind
from app.store import AsyncStore, FileKeySource
from app.sync.insi_client import InsiErrorReason as R
from app.sync.insi_client import PlatformInsi
from devtools.platform.insi import install, set_insi_available
from devtools.platform.testing import running_platform
from drivers import events as dev
from kiosk_demo.cards import SINGLE_ADULT

T0 = datetime(2026, 11, 23, 14, 0, 0, tzinfo=UTC)


class Clock:
    def now(self) -> datetime:
        return T0


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[AsyncStore]:
    s = await AsyncStore.open(tmp_path / "store", FileKeySource(tmp_path / "store"))
    try:
        yield s
    finally:
        await s.close()


async def _incidents_after_card(
    store: AsyncStore, url: str, beneficiaries: tuple[dev.Beneficiary, ...]
) -> tuple[list[tuple[IncidentCode | None, str | None]], str | None]:
    flow = SessionFlow(FlowSettings(mode=RunMode.TEST, languages=("fr",)))
    controller = SessionController(
        flow,
        store=StoreSession(store, "TEST-CAB-01"),
        devices=DriverHub([]),
        clock=Clock(),
        insi=PlatformInsi(url, clock=Clock()),
    )
    await controller.start(ticker=False)
    try:
        for step in (ev.Begin, ev.EmergencyAnswered, ev.InformationAcknowledged):
            assert (await controller.submit(step)).accepted
        session_id = controller.view.context.session_id
        assert session_id is not None
        await controller.device_event(dev.CardRead("card", beneficiaries))
        assert controller.view.state is State.IDENTITY_CONFIRMATION
        async with asyncio.timeout(8):
            while controller.view.insi_outcome is None:
                await asyncio.sleep(0.01)
        outcome = controller.view.insi_outcome
        identity = controller.view.context.identity
        assert identity is not None and identity.status is IdentityStatus.PROV
        assert (await controller.submit(ev.StopRequested)).accepted
        assert (await controller.submit(ev.StopConfirmed)).accepted
        await controller.device_event(dev.CardRemoved("card"))
        assert controller.view.insi_outcome is None  # forgotten with the patient
    finally:
        await controller.close()
    record = await store.session_bundle_source(session_id)
    return [(t.incident, t.subject) for t in record.trace if t.kind is TraceKind.INCIDENT], outcome


def _mismatched() -> tuple[dev.Beneficiary, ...]:
    first = SINGLE_ADULT.beneficiaries[0]
    return (
        dev.Beneficiary("AUTRENOM", first.first_name, first.birth_date, first.nir, rank=first.rank),
    )


async def test_a_trait_mismatch_is_traced_and_shown(tmp_path: Path, store: AsyncStore) -> None:
    def extension(app: Any) -> None:
        install(app, now=lambda: T0)

    async with running_platform(tmp_path, extensions=(extension,)) as (url, _):
        incidents, outcome = await _incidents_after_card(store, url, _mismatched())
    assert incidents == [(IncidentCode.INSI_MISMATCH, "traits-mismatch")]
    assert outcome == "insi-mismatch"


async def test_insi_down_behind_the_platform_is_traced(tmp_path: Path, store: AsyncStore) -> None:
    def extension(app: Any) -> None:
        install(app, now=lambda: T0)
        set_insi_available(app, False)

    async with running_platform(tmp_path, extensions=(extension,)) as (url, _):
        incidents, outcome = await _incidents_after_card(store, url, SINGLE_ADULT.beneficiaries)
    assert incidents == [(IncidentCode.INSI_UNAVAILABLE, "server-error")]
    assert outcome == "insi-unavailable"


async def test_an_unreachable_platform_is_traced_as_insi_unavailable(store: AsyncStore) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    incidents, _ = await _incidents_after_card(
        store, f"http://127.0.0.1:{port}", SINGLE_ADULT.beneficiaries
    )
    assert incidents == [(IncidentCode.INSI_UNAVAILABLE, "connection")]


def test_reasons_map_to_codes() -> None:
    assert insi_incident_code(R.SEVERAL_CANDIDATES) is IncidentCode.INSI_SEVERAL_CANDIDATES
    assert insi_incident_code(R.QUERY_REFUSED) is IncidentCode.INSI_REFUSED
    assert insi_incident_code(R.INVALID_ANSWER) is IncidentCode.INSI_REFUSED
    assert insi_incident_code(R.ALREADY_FROM_INSI) is None
    assert insi_incident_code(R.TIMEOUT) is IncidentCode.INSI_UNAVAILABLE
