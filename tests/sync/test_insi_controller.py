"""`PlatformInsi` plugged into the real session controller: a card read, then INSi.

Real flow, real SQLCipher store, the reference platform with its INSi relay;
the card read is given to the controller as the card driver emits it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.controller.adapters import DriverHub, StoreSession
from app.controller.controller import SessionController
from app.domain import session_events as ev
from app.domain.flow import SessionFlow
from app.domain.identity import IdentityStatus, InsOid
from app.domain.mode import RunMode
from app.domain.session_context import FlowSettings, State
from app.store import AsyncStore, FileKeySource
from app.sync.insi_client import PlatformInsi
from devtools.platform.insi import install
from devtools.platform.testing import running_platform
from drivers import events as dev
from kiosk_demo.cards import SINGLE_ADULT

T0 = datetime(2026, 11, 23, 14, 0, 0, tzinfo=UTC)


class Clock:
    def now(self) -> datetime:
        return T0


async def _at_confirmation(store: AsyncStore, insi: PlatformInsi) -> SessionController:
    flow = SessionFlow(FlowSettings(mode=RunMode.TEST, languages=("fr",)))
    controller = SessionController(
        flow,
        store=StoreSession(store, "TEST-CAB-01"),
        devices=DriverHub([]),
        clock=Clock(),
        insi=insi,
    )
    await controller.start(ticker=False)
    for step in (ev.Begin, ev.EmergencyAnswered, ev.InformationAcknowledged):
        assert (await controller.submit(step)).accepted
    await controller.device_event(dev.CardRead("card", SINGLE_ADULT.beneficiaries))
    assert controller.view.state is State.IDENTITY_CONFIRMATION
    return controller


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[AsyncStore]:
    s = await AsyncStore.open(tmp_path / "store", FileKeySource(tmp_path / "store"))
    try:
        yield s
    finally:
        await s.close()


async def test_the_card_identity_is_upgraded_to_recup_by_the_platform(
    tmp_path: Path, store: AsyncStore
) -> None:
    def extension(app: Any) -> None:
        install(app, now=lambda: T0)

    async with running_platform(tmp_path, extensions=(extension,)) as (url, _):
        controller = await _at_confirmation(store, PlatformInsi(url, clock=Clock()))
        try:
            async with asyncio.timeout(5):
                async for view in controller.changes():
                    identity = view.context.identity
                    if identity is not None and identity.status is IdentityStatus.RECUP:
                        break
            identity = controller.view.context.identity
            assert identity is not None
            assert identity.ins_oid is InsOid.TEST
            assert identity.traits.birth_first_names == ("MARIE-JOSEE", "ANNE")
            assert identity.traits.birth_place_insee == "97411"
            assert identity.insi_queried_at == T0
            assert controller.view.state is State.IDENTITY_CONFIRMATION
        finally:
            await controller.close()


async def test_insi_unreachable_leaves_the_session_going_with_prov(
    store: AsyncStore, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    caplog.set_level(logging.WARNING, logger="app.controller.controller")
    controller = await _at_confirmation(
        store, PlatformInsi(f"http://127.0.0.1:{port}", clock=Clock())
    )
    try:
        async with asyncio.timeout(5):
            while "INSi query failed (InsiUnavailable)" not in caplog.messages:
                await asyncio.sleep(0.01)
        identity = controller.view.context.identity
        assert identity is not None and identity.status is IdentityStatus.PROV
        assert (await controller.submit(ev.IdentityConfirmed)).accepted
        assert controller.view.state is State.CONSENT
    finally:
        await controller.close()
