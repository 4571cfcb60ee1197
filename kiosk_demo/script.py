"""`kiosk demo --headless --out DIR`: a scripted patient walks the whole way, offscreen.

Why the real window, the real controller and the real world around them: the
screenshots must be what a patient sees, and the report must say what
really happened. Only the patient's hands and the doctor are scripted:

- taps go through the same buttons a finger would press;
- the card is inserted in the virtual reader behind the real pcscd
  (`DemoSimulators.insert_card`), read by the real card driver;
- the measurements come from the BLE and serial simulators through the
  real drivers;
- the call is the real aiortc call through the reference platform's
  signalling, answered by a scripted doctor who logs in like the console
  (kiosk_demo/doctor.py);
- after the patient leaves, the session's bundle goes to the reference
  platform through the real uplink, and the report says whether it landed.

Each screen passed is saved as ``<nn>-<screen>-<lang>.png``; ``report.json``
lists the screens with the time spent on each, the incidents, what reached
the call screen and whether the bundle reached the platform.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from app.domain.session_context import State
from app.domain.trace import TraceKind

DEMO_CARD = "single-adult"  # kiosk_demo/cards.py (fictional, TEST ONLY)
DOCTOR_SAYS = "Bonjour, je suis le docteur Martin. Je vous entends bien."
PATIENT_WRITES = "Bonjour docteur, j'ai de la fièvre depuis hier."
DOCUMENTS = (
    ("report", "Compte rendu de téléconsultation", "Fièvre depuis 24 h, examen rassurant."),
    ("prescription", "Ordonnance", "Paracétamol 1 g, 3 fois par jour pendant 3 jours."),
)


class DemoFailed(Exception):
    """The scripted way did not go through; the message says where, in plain words."""


class FilePrinter:
    """The demo's "file printer": the PDFs the kiosk would send to CUPS, written to a folder.

    Used when the demo's site names no [printer]: the pages are the product's
    (`app.printing.page.print_files`, the same bytes `lp` would get), only the
    last step differs — a file `print-<n>.pdf` per job instead of a CUPS queue.
    A demo site with a [printer] section prints through that CUPS queue instead
    (docs/printing.md: a cups-pdf or Generic PDF queue).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.written: list[Path] = []

    async def print_documents(self, documents: Any, identity: Any, at: Any) -> int:
        from app.printing.page import print_files

        files = await asyncio.get_running_loop().run_in_executor(
            None, print_files, documents, identity, at
        )
        self.folder.mkdir(parents=True, exist_ok=True)
        for number, file in enumerate(files, 1):
            path = self.folder / f"print-{number}.pdf"
            path.write_bytes(file.pdf)
            self.written.append(path)
        return len(files)


class DemoCups:
    """The demo's real CUPS: a private cupsd (`devtools.printing.cupsd`, the printing tests'
    own) with a Generic PDF Printer queue, when cupsd can run here (root, cups-daemon,
    cups-filters). The kiosk prints through it as through a cabin's queue; the PDFs the
    queue's backend wrote are copied to OUT/printed afterwards."""

    QUEUE = "demo-pdf"

    def __init__(self, stack: contextlib.ExitStack, cups: Any, folder: Path) -> None:
        self._stack = stack
        self.cups = cups
        self.folder = folder

    @classmethod
    def start(cls, folder: Path) -> DemoCups | None:
        """None when cupsd cannot run here: the demo keeps its file printer."""
        from devtools.printing.cupsd import cupsd_missing_reason, private_cupsd

        if cupsd_missing_reason() is not None:
            return None
        stack = contextlib.ExitStack()
        try:
            cups = stack.enter_context(private_cupsd())
            cups.add_pdf_queue(cls.QUEUE)
        except (OSError, RuntimeError):
            stack.close()
            return None
        return cls(stack, cups, folder)

    def printer(self) -> Any:
        from app.printing.cups import CupsPrinter
        from app.printing.service import DocumentPrinter

        return DocumentPrinter(CupsPrinter(self.QUEUE, server=str(self.cups.socket), timeout_s=60))

    def collect(self) -> list[Path]:
        folder = self.folder
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for number, pdf in enumerate(self.cups.pdfs(), 1):
            path = folder / f"print-{number}.pdf"
            shutil.copyfile(pdf, path)
            written.append(path)
        return written

    def close(self) -> None:
        self._stack.close()


async def print_at_the_end(
    script: Script, printer: FilePrinter | None, cups: DemoCups | None = None
) -> dict[str, Any]:
    """The patient touches "Print" on the end screen; what came out."""
    c = script.c
    await script.tap("print")
    if c.view.printing is None:  # until the presenter forwards PRINT (H16.patch): the same act
        c.print_documents()
    await script.wait(
        lambda: c.view.printing is not None and c.view.printing.value != "printing",
        30,
        "print the documents",
    )
    script.shot()
    status = c.view.printing.value if c.view.printing is not None else None
    if status != "printed":
        raise DemoFailed(f"The documents were not printed ({status}).")
    if cups is not None:
        files = cups.collect()
        where = f"CUPS (a private cupsd, queue {cups.QUEUE}, Generic PDF Printer)"
    elif printer is not None:
        files, where = printer.written, "file printer (the PDFs the kiosk sends to CUPS)"
    else:
        files, where = [], "CUPS"
    return {"status": status, "printer": where, "files": [p.name for p in files]}


class Script:
    """The patient's hands on the real window, and the shots of what they saw."""

    def __init__(
        self, assembly: Any, window: Any, binding: Any, out: Path | None, app: Any
    ) -> None:
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
        self.identity: dict[str, Any] = {}  # statuses after the card read, then after INSi

    def _settle(self) -> None:
        for _ in range(3):
            self.app.processEvents()

    def shot(self) -> str:
        self._settle()
        view = self.window.current_view
        lang = self.window.presentation.language
        name = f"{len(self.passed) + 1:02d}-{view.screen.value}-{lang}.png"
        if self.out is not None:
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
        self.note_incidents()
        return name

    def note_incidents(self) -> None:
        for entry in self.c.view.context.trace:
            if entry.kind is TraceKind.INCIDENT and entry.incident is not None:
                key = (entry.at.isoformat(), entry.incident.value)
                if key not in self._seen_trace:
                    self._seen_trace.add(key)
                    self.incidents.append({"code": entry.incident.value, "message": entry.message})

    def button(self, name: str) -> Any:
        from app.ui.widgets.buttons import BigButton

        self._settle()  # a layout shows new children on the next event round
        found = [
            b
            for b in self.window.findChildren(BigButton, name)
            if b.isVisibleTo(self.window) and b.isEnabled()
        ]
        if len(found) != 1:
            raise DemoFailed(
                f"The script expected one '{name}' button on the "
                f"{self.window.current_view.screen.value} screen and found {len(found)}."
            )
        return found[0]

    async def tap(self, name: str, shot: bool = True) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        QTest.mouseClick(self.button(name), Qt.MouseButton.LeftButton)
        await self.binding.idle()
        if shot:
            self.shot()

    async def write(self, field: str, text: str) -> None:
        """Type into a text field (the on-screen keyboard's result), then it is there to send."""
        from PySide6.QtWidgets import QLineEdit

        self._settle()
        found = [
            f for f in self.window.findChildren(QLineEdit, field) if f.isVisibleTo(self.window)
        ]
        if len(found) != 1:
            raise DemoFailed(f"The script found no '{field}' field to write in.")
        found[0].setText(text)

    async def until(self, state: State, timeout: float = 20.0) -> None:
        await self.wait(lambda: self.c.view.state is state, timeout, f"reach {state.value}")

    async def wait(self, predicate: Any, timeout: float, what: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if loop.time() > deadline:
                raise DemoFailed(
                    f"The kiosk did not {what} within {timeout:g} s "
                    f"(it shows {self.c.view.state.value})."
                )
            self._settle()
            await asyncio.sleep(0.05)
        self._settle()

    # -- the way through -------------------------------------------------------------------

    async def to_identification(self, lang: str) -> None:
        self.shot()
        await self.tap(f"lang-{lang}")
        await self.tap("start")
        for _ in range(8):
            await self.tap("no")
        for _ in range(8):
            await self.tap("next")

    async def identify_with_card(self, reader: str, label: str = DEMO_CARD) -> None:
        await self.tap("method-card")
        await self.a.sims.insert_card(reader, label)
        await self.until(State.IDENTITY_CONFIRMATION)
        read = self.c.view.context.candidates  # as the card gave them, before INSi
        statuses = [read[0].status.value if read else ""]
        # INSi runs beside the screen (the platform's relay): wait, bounded, for its answer.
        with contextlib.suppress(DemoFailed):
            await self.wait(
                lambda: self._identity_status() != statuses[0] or self.c.view.insi_outcome,
                10,
                "hear from INSi",
            )
        statuses.append(self._identity_status())
        self.identity = {
            "statuses": statuses,
            "insi_outcome": self.c.view.insi_outcome,
            "status_line": self._status_line(),
        }
        self.shot()
        await self.tap("yes")

    def _identity_status(self) -> str:
        identity = self.c.view.context.identity
        return identity.status.value if identity is not None else ""

    def _status_line(self) -> str:
        from PySide6.QtWidgets import QLabel

        found = self.window.current_screen.findChild(QLabel, "identity-status")
        return found.text() if found is not None else ""

    async def consent_and_orientation(self) -> None:
        for _ in range(3):
            await self.tap("accept")
        await self.tap("option-yes")
        await self.tap("option-no")
        await self.tap("option-no")
        await self.tap("option-none")
        await self.tap("next")
        await self.tap("reason-fever", shot=False)  # why the patient came: a choice
        await self.tap("reason-next")

    async def measure_all(self) -> None:
        for _ in self.a.site.devices:
            await self.tap("measure-start")
            await self._wait_measured()
            self.shot()
            await self.tap("next")

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
        self.note_incidents()
        return {
            "screens": self.passed,
            "total_seconds": round(time.perf_counter() - started, 3),
            "incidents": self.incidents,
            "refused_choices": list(self.binding.refused),
            "identity": self.identity,
        }


async def examination(script: Script, doctor: Any) -> dict[str, Any]:
    """The doctor listens through the stethoscope and looks through the otoscope, takes a still
    (docs/call-exam.md); the patient's screen says where to place each device."""
    await script.wait(
        lambda: bool(doctor.exam.stethoscope_mid or doctor.exam.otoscope_mid),
        10,
        "tell the doctor which examination devices the cabin has",
    )
    if doctor.exam.stethoscope_mid:
        await doctor.switch_exam("stethoscope", True)
        await script.wait(
            lambda: doctor.exam_received("stethoscope") > 25,
            10,
            "send the stethoscope's sound to the doctor",
        )
        script.shot()  # where to place the stethoscope, drawn and said
        await doctor.switch_exam("stethoscope", False)
    if doctor.exam.otoscope_mid:
        await doctor.switch_exam("otoscope", True)
        await script.wait(
            lambda: doctor.exam_received("otoscope") > 10,
            10,
            "send the otoscope's picture to the doctor",
        )
        await doctor.take_still()
        await script.wait(
            lambda: any(s.accepted for s in doctor.stills),
            10,
            "keep the doctor's still with the session",
        )
        await doctor.switch_exam("otoscope", False)
    return {
        "stethoscope_blocks": doctor.exam_received("stethoscope"),
        "otoscope_frames": doctor.exam_received("otoscope"),
        "stills_kept": sum(1 for s in doctor.stills if s.accepted),
    }


async def consultation(script: Script, doctor: Any, link: Any) -> dict[str, Any]:
    """From the waiting room to the end screen with the scripted doctor; what reached whom."""
    c = script.c
    await script.until(State.WAITING_ROOM)
    await script.wait(lambda: link.self_frames > 0, 10, "show the self view in the waiting room")
    script.shot()
    await doctor.take_first_waiting()
    await script.until(State.CALL, timeout=15)
    doctor_shown = c.view.doctor is not None and c.view.doctor.name != ""
    script.shot()  # the doctor's name, RPPS and specialty, alone, before any video
    await script.wait(
        lambda: link.remote_frames >= 10, 20, "show the doctor's video on the call screen"
    )
    await script.wait(lambda: doctor.frames >= 10, 10, "send the patient's video to the doctor")
    await script.wait(lambda: doctor.channel_open, 10, "open the text channel")
    await doctor.say(DOCTOR_SAYS)
    await script.wait(lambda: DOCTOR_SAYS in link.chat_from_doctor, 10, "show the doctor's text")
    await script.write("patient-text", PATIENT_WRITES)
    await script.tap("send", shot=False)
    await script.wait(lambda: PATIENT_WRITES in doctor.texts, 10, "send the patient's text")
    await script.wait(lambda: link.remote_frames >= 20, 10, "keep the doctor's video coming")
    script.shot()  # video, the doctor's text and the patient's answer
    exam = await examination(script, doctor)
    for n, (kind, title, text) in enumerate(DOCUMENTS, 1):
        await doctor.send_document(kind, title, text, document_id=f"demo-doc-{n}")
    await script.wait(
        lambda: len(c.view.context.documents) == len(DOCUMENTS), 10, "receive the documents"
    )
    await script.wait(
        lambda: len(link.document_links) == len(DOCUMENTS), 10, "get each document's link"
    )
    await doctor.hang_up()
    await script.until(State.END, timeout=15)
    script.shot()
    return {
        "doctor": c.view.doctor.name if c.view.doctor else None,
        "doctor_shown_before_video": bool(doctor_shown and link.doctor_before_video),
        "remote_frames_on_screen": link.remote_frames,
        "self_view_frames": link.self_frames,
        "frames_received_by_doctor": doctor.frames,
        "text_from_doctor_shown": DOCTOR_SAYS in link.chat_from_doctor,
        "examination": exam,
        "text_from_patient_received": PATIENT_WRITES in doctor.texts,
        "documents": [{"kind": k, "title": t} for k, t in link.documents],
        "document_links": dict(link.document_links),
    }


async def bundle_landed(
    world: Any, assembly: Any, session_id: str, timeout: float
) -> dict[str, Any]:
    """Wait until the platform acknowledged the whole session, then count what it holds.

    A session may go up in several bundles (split to the server's limits), so the
    Encounter being there says nothing about the rest: the store's outbox says when
    every part was acknowledged.
    """
    cabin = assembly.config.site.cabin_id
    wanted = f"{cabin}/{session_id}/encounter"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    found: list[dict[str, Any]] = []
    state = None
    while loop.time() < deadline:
        item = await assembly.store.outbox_for_session(session_id)
        state = item.state if item is not None else None
        if state in ("acknowledged", "quarantined"):
            break
        await asyncio.sleep(0.1)
    found = [
        r
        for r in world.platform.resources("Encounter")
        if any(i.get("value") == wanted for i in r.get("identifier", []))
    ]
    counts: dict[str, int] = {}
    for rtype in ("Patient", "Consent", "Observation", "Encounter", "Provenance", "AuditEvent"):
        counts[rtype] = len(world.platform.resources(rtype))
    return {
        "bundle_reached_platform": bool(found) and state == "acknowledged",
        "outbox_state": str(state),
        "resources_at_platform": counts,
    }


def run_headless(config: Any, out: Path, languages: tuple[str, ...] = ("fr", "ar", "en")) -> int:
    """Play the script offscreen at 1920x1080; write PNGs and report.json into `out`."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    started = time.perf_counter()
    report: dict[str, Any] = {}
    try:
        asyncio.run(asyncio.wait_for(_play(config, out, languages, started, report), 110))
    except TimeoutError:
        return _failed(out, report, "The demo did not finish within 110 s.")
    except Exception as exc:  # a plain sentence, never a stack trace
        return _failed(out, report, str(exc) or f"{type(exc).__name__} (no message).")
    _write(out, report)
    call = report.get("call", {})
    print(
        f"demo: {len(report['screens'])} screens in {report['total_seconds']} s, "
        f"{len(report['incidents'])} incident(s); call with {call.get('doctor')}; "
        f"bundle at the platform: {report['sync']['bundle_reached_platform']}; "
        f"screenshots and report.json in {out}"
    )
    return 0


def _failed(out: Path, report: dict[str, Any], message: str) -> int:
    report["failed"] = message
    _write(out, report)
    print(f"demo: failed: {message}", file=sys.stderr)
    return 1


def _write(out: Path, report: dict[str, Any]) -> None:
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), "utf-8")


async def _play(
    config: Any, out: Path, languages: tuple[str, ...], started: float, report: dict[str, Any]
) -> None:
    from PySide6.QtWidgets import QApplication

    from app.assembly import assemble
    from app.ui.call_bridge import bind_window
    from app.ui.error_routes import install_qt_message_filter
    from app.ui.i18n import Catalogues
    from app.ui.main_window import KioskWindow
    from app.ui.presenter import Presenter
    from app.ui.theme import SCREEN_SIZE
    from kiosk_demo.doctor import ScriptedDoctor
    from kiosk_demo.world import demo_world

    install_qt_message_filter()
    app = QApplication.instance() or QApplication(["kiosk-demo"])
    # A plain asyncio loop that pumps Qt itself (`Script._settle`): offscreen nothing else
    # needs Qt's loop, and pumping Qt from inside a qasync task would re-enter asyncio.
    # The run's stores stay in OUT/data so that a newcomer can look at them afterwards
    # (`kiosk store verify --data-dir OUT/data/kiosk`, `python -m devtools.platform dump
    # --db OUT/data/platform.sqlite3`); each run starts from empty ones.
    data = out / "data"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    async with demo_world(
        config, data_dir=data, port=0, fast=True, turn=False, require_card_reader=True
    ) as world:
        reader = world.card_reader()
        if reader is None:
            raise DemoFailed("The demo site has no card reader to insert the card in.")
        assembly = await assemble(world.config, data_dir=data / "kiosk", sims=world.sims)
        window = KioskWindow(Catalogues())
        window.resize(*SCREEN_SIZE)
        window.show()
        binding, link = bind_window(
            assembly, window, Presenter(assembly.site, assembly.controller.now)
        )
        doctor = ScriptedDoctor(world.base_url, ice_servers=world.config.platform.ice_servers)
        script = Script(assembly, window, binding, out, app)
        file_printer = None
        demo_cups = None
        if world.config.printer is None:  # no CUPS queue named: the PDFs go to OUT/printed
            shutil.rmtree(out / "printed", ignore_errors=True)
            demo_cups = DemoCups.start(out / "printed")  # a real CUPS when cupsd can run here
            if demo_cups is not None:
                assembly.controller.connect_printer(demo_cups.printer())
            else:
                file_printer = FilePrinter(out / "printed")
                assembly.controller.connect_printer(file_printer)
        try:
            await assembly.start()
            await doctor.connect()
            await script.to_identification(languages[0])
            await script.identify_with_card(reader)
            session_id = assembly.controller.view.context.session_id or ""
            await script.consent_and_orientation()
            await script.measure_all()
            report["call"] = await consultation(script, doctor, link)
            report["print"] = await print_at_the_end(script, file_printer, demo_cups)
            await world.sims.remove_card(reader)  # "take your card"
            await script.wait(
                lambda: not assembly.controller.view.context.card_present,
                5,
                "see the card taken",
            )
            await script.tap("finish")
            report["sync"] = await bundle_landed(world, assembly, session_id, 20)
            if not report["sync"]["bundle_reached_platform"]:
                raise DemoFailed("The session's bundle did not reach the platform in 20 s.")
            for lang in languages[1:]:
                await script.stop_detour(lang)
            report["devices_left_out"] = [d.device_id for d in assembly.left_out]
        finally:
            report.update(script.report(started))
            app.removeEventFilter(window.filter)
            binding.close()
            await doctor.close()
            await assembly.close()
            window.close()
            if demo_cups is not None:
                demo_cups.close()
