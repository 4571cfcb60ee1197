"""`kiosk demo --headless --out DIR`: a scripted patient walks the whole way, offscreen.

Why the real window and the real controller: the screenshots must be what a
patient sees, and the report must say what really happened (refused
choices, incidents). Only the patient's hands, the card and the doctor are
scripted: taps go through the same buttons, the card reports are the
driver's events, the measuring devices are the registry's simulators and
the doctor speaks the call room's events.

Each screen passed is saved as ``<nn>-<screen>-<lang>.png``; ``report.json``
lists the screens with the time spent on each, and the incidents.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.call import events as call
from app.call.messages import DoctorIdentity
from app.domain.session_context import State
from app.domain.trace import TraceKind
from drivers import events as dev

DEMO_NIR = "1840575123456"


@dataclass
class ScriptedDoctor:
    """A `CallPort` whose doctor is played by the script (the call room's own event objects)."""

    opened: list[str] = field(default_factory=list)
    _queue: asyncio.Queue[object] = field(default_factory=asyncio.Queue)

    async def open(self, session_id: str) -> None:
        self.opened.append(session_id)

    async def end(self) -> None:
        return None

    async def events(self) -> AsyncIterator[object]:
        while True:
            yield await self._queue.get()

    def joins(self) -> None:
        self._queue.put_nowait(
            call.DoctorIdentified(
                DoctorIdentity("Dr Claire Martin", "10003456789", "Médecine générale")
            )
        )

    def hangs_up(self) -> None:
        self._queue.put_nowait(call.CallEnded(call.EndReason.DOCTOR_HUNG_UP))


class Script:
    def __init__(self, assembly: Any, window: Any, binding: Any, out: Path, app: Any) -> None:
        self.a = assembly
        self.c = assembly.controller
        self.window = window
        self.binding = binding
        self.out = out
        self.app = app
        self.passed: list[dict[str, Any]] = []
        self.incidents: list[dict[str, str]] = []
        self._since = time.perf_counter()
        self._seen_trace: set[tuple[str, str]] = set()

    def _settle(self) -> None:
        for _ in range(3):
            self.app.processEvents()

    def shot(self) -> None:
        self._settle()
        view = self.window.current_view
        lang = self.window.presentation.language
        name = f"{len(self.passed) + 1:02d}-{view.screen.value}-{lang}.png"
        self.window.grab().save(str(self.out / name))
        now = time.perf_counter()
        self.passed.append(
            {
                "file": name,
                "screen": view.screen.value,
                "language": lang,
                "seconds": round(now - self._since, 3),
            }
        )
        self._since = now
        for entry in self.c.view.context.trace:
            if entry.kind is TraceKind.INCIDENT and entry.incident is not None:
                key = (entry.at.isoformat(), entry.incident.value)
                if key not in self._seen_trace:
                    self._seen_trace.add(key)
                    self.incidents.append({"code": entry.incident.value, "message": entry.message})

    async def tap(self, name: str, shot: bool = True) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        from app.ui.widgets.buttons import BigButton

        self._settle()  # a layout shows new children on the next event round
        found = [
            b
            for b in self.window.findChildren(BigButton, name)
            if b.isVisibleTo(self.window) and b.isEnabled()
        ]
        if len(found) != 1:
            raise RuntimeError(
                f"the script expected one '{name}' button on {self.window.current_view.screen}"
            )
        QTest.mouseClick(found[0], Qt.MouseButton.LeftButton)
        await self.binding.idle()
        if shot:
            self.shot()

    async def until(self, state: State, timeout: float = 20.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.c.view.state is not state:
            if loop.time() > deadline:
                raise RuntimeError(f"the kiosk did not reach {state.value} in {timeout} s")
            await asyncio.sleep(0.05)
        self._settle()

    async def card(self) -> None:
        await self.c.device_event(dev.CardInserted("reader-1"))
        key = 97 - int(DEMO_NIR) % 97
        beneficiary = dev.Beneficiary("DUPONT", "Jeanne", "1948-03-12", f"{DEMO_NIR}{key:02d}")
        await self.c.device_event(dev.CardRead("reader-1", (beneficiary,)))

    async def whole_way(self, lang: str, doctor: ScriptedDoctor) -> None:
        self.shot()
        await self.tap(f"lang-{lang}")
        await self.tap("start")
        for _ in range(8):
            await self.tap("no")
        for _ in range(8):
            await self.tap("next")
        await self.tap("method-card")
        await self.card()
        await self.until(State.IDENTITY_CONFIRMATION)
        self.shot()
        await self.tap("yes")
        for _ in range(3):
            await self.tap("accept")
        await self.tap("option-yes")
        await self.tap("option-no")
        await self.tap("option-no")
        await self.tap("option-none")
        await self.tap("next")
        for _ in self.a.site.devices:
            await self.tap("measure-start")
            await self._wait_measured()
            self.shot()
            await self.tap("next")
        await self.until(State.WAITING_ROOM)
        doctor.joins()
        await self.until(State.CALL)
        self.shot()
        await asyncio.sleep(0)
        doctor.hangs_up()
        await self.until(State.END)
        self.shot()
        await self.tap("finish")

    async def _wait_measured(self, timeout: float = 30.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.c.view.context.active_device is not None or self.c.view.state is State.DEGRADED:
            if self.c.view.state is State.DEGRADED or loop.time() > deadline:
                self.shot()
                await self.tap("option-skip", shot=False)
                return
            await asyncio.sleep(0.05)

    async def stop_detour(self, lang: str) -> None:
        await self.tap(f"lang-{lang}")
        await self.tap("start")
        await self.tap("stop")
        await self.tap("stop-confirm")

    def report(self, started: float) -> dict[str, Any]:
        return {
            "screens": self.passed,
            "total_seconds": round(time.perf_counter() - started, 3),
            "incidents": self.incidents,
            "refused_choices": list(self.binding.refused),
        }


def run_headless(config: Any, out: Path, languages: tuple[str, ...] = ("fr", "ar", "en")) -> int:
    """Play the script offscreen at 1920x1080; write PNGs and report.json into `out`."""
    import os
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from app.main import assemble
    from app.ui.binding import ControllerBinding
    from app.ui.i18n import Catalogues
    from app.ui.main_window import KioskWindow
    from app.ui.presenter import Presenter
    from app.ui.theme import SCREEN_SIZE

    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    app = QApplication.instance() or QApplication(["kiosk-demo"])
    # A plain asyncio loop that pumps Qt itself (`Script._settle`): offscreen nothing else
    # needs Qt's loop, and pumping Qt from inside a qasync task would re-enter asyncio.
    started = time.perf_counter()

    async def main() -> dict[str, Any]:
        doctor = ScriptedDoctor()
        with tempfile.TemporaryDirectory(prefix="kiosk-demo-") as data:
            assembly = await assemble(
                config, data_dir=Path(data), simulate_measuring_devices=True, call=doctor
            )
            window = KioskWindow(Catalogues())
            window.resize(*SCREEN_SIZE)
            window.show()
            binding = ControllerBinding(
                assembly.controller, window, Presenter(assembly.site, assembly.controller.now)
            )
            await assembly.controller.start(ticker=False)
            script = Script(assembly, window, binding, out, app)
            try:
                await script.whole_way(languages[0], doctor)
                for lang in languages[1:]:
                    await script.stop_detour(lang)
            finally:
                app.removeEventFilter(window.filter)
                await assembly.close()
            return script.report(started)

    report = asyncio.run(main())
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), "utf-8")
    print(
        f"demo: {len(report['screens'])} screens in {report['total_seconds']} s, "
        f"{len(report['incidents'])} incident(s); screenshots and report.json in {out}"
    )
    return 0
