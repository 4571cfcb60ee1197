"""Latency of one choice through the controller, store commit included (pytest-benchmark).

One round = a session from Begin to the consent screen and a stop: 7 choices,
about 12 store transactions (SQLCipher, WAL, synchronous=FULL).
Run the figures with: .venv/bin/python -m pytest tests/controller/test_bench_dispatch.py --benchmark-enable
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from app.controller.adapters import DriverHub, StoreSession
from app.controller.controller import SessionController
from app.domain import session_events as ev
from app.domain.flow import SessionFlow
from app.domain.mode import RunMode
from app.domain.session_context import FlowSettings, State
from app.store import AsyncStore, FileKeySource
from drivers import events as dev
from tests.controller.conftest import FakeClock, single_card


def test_bench_session_to_consent_and_stop(benchmark: Any, tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    clock = FakeClock()
    store = loop.run_until_complete(AsyncStore.open(tmp_path, FileKeySource(tmp_path), clock))
    counter = iter(range(1, 1_000_000))
    controller = SessionController(
        SessionFlow(FlowSettings(mode=RunMode.TEST, languages=("fr",))),
        store=StoreSession(store, "BENCH-CAB-01"),
        devices=DriverHub([]),
        clock=clock,
        new_id=lambda: f"id{next(counter):07d}",
    )

    async def one_session() -> State:
        await controller.submit(ev.Begin)
        await controller.submit(ev.EmergencyAnswered)
        await controller.submit(ev.InformationAcknowledged)
        await controller.device_event(single_card())
        await controller.submit(ev.IdentityConfirmed)
        await controller.submit(ev.StopRequested)
        await controller.submit(ev.StopConfirmed)
        await controller.device_event(dev.CardRemoved("card"))
        return controller.state

    try:
        state = benchmark.pedantic(lambda: loop.run_until_complete(one_session()), rounds=10)
        assert state is State.WELCOME
    finally:
        loop.run_until_complete(controller.close())
        loop.run_until_complete(store.close())
        loop.close()
