"""Issue 18 §3: after a session's wipe nothing of it survives in any object that outlives it.

Two sessions run through the real assembled kiosk (offscreen window, real
controller and flow, SQLCipher store, the card behind pcscd, the simulators,
the real aiortc call answered by the demo's scripted doctor through the
reference platform). Each leaves canaries on the way: the patient's names and
NIR from the card, a typed visit reason, the doctor's chat line, the patient's
chat line (also copied to the clipboard), a document's title and text, and the
patient link the platform minted for it. After the second wipe the test walks

- every Python object reachable from the application (the assembly, the
  window, the binding, the call bridge, the presenter, and the product
  modules' globals and classes) through `gc.get_referents`: strings, bytes,
  containers, closures, coroutine frames;
- the widget tree: texts, placeholders, tooltips, accessible names, the undo
  history of every text field (undone step by step), and the clipboard;

and expects no canary. The walk stops at what is not the application: the
simulated hardware (the demo's cards hold the names by design), the event loop,
third-party and test modules. `test_the_walk_finds_a_kept_canary` shows that it
finds one held on purpose, in a Python object and in a widget's undo history.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
import types
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from PySide6.QtCore import QCoreApplication, QEvent, QObject
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QLineEdit, QPlainTextEdit, QTextEdit

from app.assembly import Assembly, assemble
from app.controller.view import ChatLine
from app.domain.session_context import State
from app.ui.binding import ControllerBinding
from app.ui.call_bridge import CallScreenLink, bind_window
from app.ui.i18n import Catalogues
from app.ui.main_window import KioskWindow
from app.ui.presenter import Presenter
from app.ui.speech import Speaker
from app.ui.theme import SCREEN_SIZE
from kiosk_config import EXAMPLES, load_config
from kiosk_demo.doctor import ScriptedDoctor
from kiosk_demo.script import Script
from kiosk_demo.world import demo_world

pytestmark = [pytest.mark.integration, pytest.mark.timeout(170)]

PRODUCT = ("app", "drivers", "vocabulary", "kiosk_config")
# Not walked: the test and the demo's world hold the canaries by design (the scripted
# doctor, the platform, the demo's cards), and pytest keeps the test's frames.
# asyncio's registry of every task is the process's: the application's own tasks are
# walked from the objects that hold them (the controller's, the call's).
OUTSIDE = frozenset(
    {
        "tests",
        "kiosk_demo",
        "devtools",
        "_pytest",
        "pytest",
        "pluggy",
        "pytestqt",
        "__main__",
        "asyncio",
        "_asyncio",
        "linecache",  # the text of source files (the demo's cards among them)
        "hypothesis",  # it collects the string constants of source files (the demo's cards)
        "_hypothesis_pytestplugin",
        "_hypothesis_globals",
    }
)
CARD = "single-adult"  # kiosk_demo/cards.py: HOARAU MARIE JOSEE
NAMES = ("HOARAU", "MARIE JOSEE")


def _canaries(n: int) -> dict[str, str]:
    return {
        "doctor's chat line": f"Canari{n} du docteur: prenez du paracetamol",
        "patient's chat line": f"Canari{n} du patient: merci docteur",
        "document title": f"Canari{n} Ordonnance titre",
        "document text": f"Canari{n} texte de l'ordonnance",
        "visit reason": f"Canari{n} mal au genou",
    }


# ---- the walks ---------------------------------------------------------------------------------


def _product_module(name: str) -> bool:
    return name.split(".", 1)[0] in PRODUCT


def _outside(name: str) -> bool:
    """A module that is not the running kiosk: the test, the demo's world, pytest."""
    return name.split(".", 1)[0] in OUTSIDE


def _python_holders(
    roots: Iterable[object], stop: Iterable[object], canaries: Iterable[str]
) -> list[str]:
    """Every reachable str/bytes holding a canary, as 'canary in <type>' (empty: none)."""
    wanted = [c for c in canaries if c]
    encoded = [c.encode("utf-8") for c in wanted]
    stop_ids = {id(o) for o in stop}
    # The test's, the demo's and pytest's modules and their globals are where the walk
    # stops; every other module is walked (a standard library cache counts).
    for name, module in list(sys.modules.items()):
        if module is not None and _outside(name):
            stop_ids.add(id(module))
            stop_ids.add(id(vars(module)))
    stop_ids.add(id(sys.modules))
    seen: dict[int, object] = {}
    parent: dict[int, int] = {}
    found: list[str] = []
    todo: list[tuple[object, int]] = [(root, 0) for root in roots]

    def path(key: int) -> str:
        """The types from a root down to the holder (what to read to find the leak)."""
        names: list[str] = []
        while key and len(names) < 40:
            held = seen[key]
            module = f"[{held.__name__}]" if isinstance(held, types.ModuleType) else ""
            names.append(type(held).__name__ + module)
            key = parent.get(key, 0)
        return " < ".join(names)

    while todo:
        obj, via = todo.pop()
        key = id(obj)
        if key in seen or key in stop_ids:
            continue
        seen[key] = obj
        parent[key] = via
        if isinstance(obj, str):
            found += [f"{c!r} in a str ({path(via)})" for c in wanted if c in obj]
            continue
        if isinstance(obj, bytes | bytearray):
            pairs = zip(wanted, encoded, strict=True)
            found += [f"{c!r} in bytes ({path(via)})" for c, e in pairs if e in obj]
            continue
        if isinstance(obj, asyncio.AbstractEventLoop | web.Application):
            # The loop is the process's; an aiohttp server is the reference platform's
            # (the kiosk serves nothing), reached here only through library caches.
            continue
        if isinstance(obj, type) and _outside(str(vars(obj).get("__module__", ""))):
            continue
        if _outside(str(vars(type(obj)).get("__module__", ""))):
            continue  # an object of the world (platform, scripted doctor, demo cards) or the test
        if isinstance(obj, types.ModuleType) and _outside(obj.__name__):
            continue
        for ref in gc.get_referents(obj):
            todo.append((ref, key))
    return found


def _texts_of(widget: QObject) -> Iterator[str]:
    for getter in (
        "text",
        "placeholderText",
        "toolTip",
        "accessibleName",
        "accessibleDescription",
        "windowTitle",
        "toPlainText",
    ):
        method = getattr(widget, getter, None)
        if method is None:
            continue
        try:
            value = method()
        except TypeError:  # an overload that needs arguments (QTabBar.text(index)…)
            continue
        if isinstance(value, str):
            yield value


def _undo_history(widget: QObject) -> Iterator[str]:
    """Undo every step a text field keeps and say what it showed (the walk ends the wipe's job)."""
    if isinstance(widget, QLineEdit):
        for _ in range(200):
            if not widget.isUndoAvailable():
                return
            widget.undo()
            yield widget.text()
    elif isinstance(widget, QTextEdit | QPlainTextEdit):
        document = widget.document()
        for _ in range(200):
            if not document.isUndoAvailable():
                return
            document.undo()
            yield widget.toPlainText()


def _widget_holders(window: QObject, canaries: Iterable[str]) -> list[str]:
    wanted = [c for c in canaries if c]
    found: list[str] = []
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # what deleteLater left
    widgets: list[QObject] = [window, *window.findChildren(QObject)]
    app = QApplication.instance()
    if isinstance(app, QApplication):
        widgets += [w for w in app.allWidgets() if w not in widgets]
    for widget in widgets:
        name = f"{type(widget).__name__} '{widget.objectName()}'"
        for text in _texts_of(widget):
            found += [f"{c!r} in {name}" for c in wanted if c in text]
        for text in _undo_history(widget):
            found += [f"{c!r} in the undo history of {name}" for c in wanted if c in text]
    clipboard = QGuiApplication.clipboard()
    if clipboard is not None:
        found += [f"{c!r} in the clipboard" for c in wanted if c in clipboard.text()]
    return found


# ---- two sessions through the real kiosk -----------------------------------------------------


class Kept:
    def __init__(self) -> None:
        self.canaries: list[str] = []


async def _type_into(script: Script, name: str, text: str) -> QLineEdit:
    """Type as the on-screen keyboard does (`insert`), so the field has an undo history."""

    def visible() -> list[QLineEdit]:
        window = script.window
        return [f for f in window.findChildren(QLineEdit, name) if f.isVisibleTo(window)]

    await script.wait(lambda: len(visible()) == 1, 15, f"show the '{name}' field")
    field = visible()[0]
    field.insert(text)
    return field


async def _to_visit_reason(
    script: Script, reader: str, canaries: dict[str, str], kept: Kept
) -> None:
    await script.to_identification("fr")
    await script.identify_with_card(reader, CARD)
    identity = script.c.view.context.identity
    assert identity is not None
    kept.canaries += [*NAMES]
    if identity.identifier is not None:
        kept.canaries.append(identity.identifier.value)
    for _ in range(3):
        await script.tap("accept", shot=False)
    for option in ("option-yes", "option-no", "option-no", "option-none"):
        await script.tap(option, shot=False)
    await script.tap("next", shot=False)
    await script.tap("reason-write", shot=False)
    field = await _type_into(script, "reason-words", canaries["visit reason"])
    field.selectAll()
    field.copy()  # the patient's words on the clipboard too
    field.clear()  # undoable, as a person's "erase" is
    field.insert(canaries["visit reason"])
    await script.tap("reason-next", shot=False)


async def _session_with_call(
    script: Script, reader: str, doctor: ScriptedDoctor, kept: Kept
) -> None:
    canaries = _canaries(1)
    kept.canaries += canaries.values()
    await _to_visit_reason(script, reader, canaries, kept)
    await script.measure_all()
    await script.until(State.WAITING_ROOM)
    await doctor.take_first_waiting()
    await script.until(State.CALL, timeout=15)
    await script.wait(lambda: doctor.channel_open, 10, "open the text channel")
    await doctor.say(canaries["doctor's chat line"])
    c = script.c
    await script.wait(
        lambda: any(line.text == canaries["doctor's chat line"] for line in c.view.chat),
        10,
        "show the text",
    )
    await _type_into(script, "patient-text", canaries["patient's chat line"])
    await script.tap("send", shot=False)
    await script.wait(lambda: canaries["patient's chat line"] in doctor.texts, 10, "send the text")
    await doctor.send_document(
        "prescription", canaries["document title"], canaries["document text"], "canary-doc-1"
    )
    await script.wait(lambda: any(d.link for d in c.view.documents), 10, "get the document's link")
    kept.canaries += [d.link for d in c.view.documents if d.link]
    await doctor.hang_up()
    await script.until(State.END, timeout=15)
    assert canaries["document title"] in [t for t in _widget_texts(script.window)]
    await _leave(script, reader)


def _widget_texts(window: QObject) -> list[str]:
    return [t for w in window.findChildren(QObject) for t in _texts_of(w)]


async def _leave(script: Script, reader: str) -> None:
    sims = script.a.sims
    assert sims is not None
    await sims.remove_card(reader)
    await script.wait(lambda: not script.c.view.context.card_present, 5, "see the card taken")
    if script.c.view.state is not State.WELCOME:
        await script.tap("finish", shot=False)
    await script.until(State.WELCOME)


def _slow_player(path: Path) -> None:
    """A loudspeaker that takes its time: the wipe comes while a name is being read."""
    assert path.exists()
    time.sleep(1.0)


async def _short_session(script: Script, reader: str, kept: Kept, speaker: Speaker) -> None:
    canaries = _canaries(2)
    kept.canaries.append(canaries["visit reason"])
    await _to_visit_reason(script, reader, canaries, kept)
    await script.until(State.MEASUREMENTS)
    reading = speaker.say(f"Bonjour {NAMES[0]}, {canaries['visit reason']}", "fr")
    await script.wait(lambda: any(speaker.workdir.glob("*.wav")), 10, "render the words")
    assert not reading.done()
    await script.tap("stop", shot=False)
    await script.tap("stop-confirm", shot=False)
    await _leave(script, reader)


async def _run_two_sessions(tmp_path: Path) -> tuple[list[str], list[str], Kept]:
    config = load_config(EXAMPLES / "demo.toml")
    app = QApplication.instance() or QApplication(["kiosk-test"])
    kept = Kept()
    async with demo_world(
        config, data_dir=tmp_path / "world", port=0, fast=True, turn=False, require_card_reader=True
    ) as world:
        reader = world.card_reader()
        assert reader is not None
        assembly: Assembly = await assemble(
            world.config, data_dir=tmp_path / "kiosk", sims=world.sims
        )
        speech = tmp_path / "speech"
        speaker = Speaker(speech, lambda incident: None, player=_slow_player)
        window = KioskWindow(Catalogues(), speaker=speaker)
        window.resize(*SCREEN_SIZE)
        window.show()
        presenter = Presenter(assembly.site, assembly.controller.now)
        binding, link = bind_window(assembly, window, presenter)
        doctor = ScriptedDoctor(world.base_url, ice_servers=world.config.platform.ice_servers)
        script = Script(assembly, window, binding, None, app)
        try:
            await assembly.start()
            await doctor.connect()
            await _session_with_call(script, reader, doctor, kept)
            await binding.idle()
            await _short_session(script, reader, kept, speaker)
            await binding.idle()
            # The uplink holds a bundle while it sends it (kept encrypted until then, by
            # design): the walk starts once the platform acknowledged both sessions.
            assert len(assembly.sessions_ended) == 2
            for session_id in assembly.sessions_ended:
                await _acknowledged(assembly, session_id)
            await asyncio.sleep(0.2)  # the call's last tasks finish
            gc.collect()
            roots = _roots(assembly, window, binding, link, presenter)
            # The world around the kiosk holds the canaries by design: the simulated
            # hardware (the demo's cards), the platform, the scripted doctor, the test.
            world_parts = [world, world.sims, world.platform, doctor, script, kept]
            in_python = _python_holders(roots, world_parts, kept.canaries)
            in_widgets = _widget_holders(window, kept.canaries)
            left = sorted(p.name for p in speech.iterdir()) if speech.exists() else []
            in_widgets += [f"speech file {name} left after the wipe" for name in left]
            return in_python, in_widgets, kept
        finally:
            app.removeEventFilter(window.filter)
            binding.close()
            await doctor.close()
            await assembly.close()
            window.close()


async def _acknowledged(assembly: Assembly, session_id: str, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        item = await assembly.store.outbox_for_session(session_id)
        if item is not None and item.state == "acknowledged":
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the platform did not acknowledge {session_id} in {timeout:g} s")


def _roots(
    assembly: Assembly,
    window: KioskWindow,
    binding: ControllerBinding,
    link: CallScreenLink,
    presenter: Presenter,
) -> list[Any]:
    modules = [m for n, m in sys.modules.items() if m is not None and not _outside(n)]
    return [assembly, window, binding, link, presenter, *modules]


async def test_two_sessions_leave_no_canary_after_the_wipe(tmp_path: Path) -> None:
    in_python, in_widgets, kept = await _run_two_sessions(tmp_path)
    assert len(kept.canaries) >= 10
    assert in_python == [], "\n".join(in_python)
    assert in_widgets == [], "\n".join(in_widgets)


def test_the_walk_finds_a_kept_canary(qapp: QApplication) -> None:
    """A deliberate holder: a Python object of the application, a widget's text and undo history."""
    canary = "Canari0 garde expres"

    holder = {"kept": [ChatLine(True, canary)]}  # as a careless cache of the chat would
    assert _python_holders([holder], [], [canary]) == [
        f"{canary!r} in a str (ChatLine < list < dict)"
    ]
    assert _python_holders([holder], [holder], [canary]) == []  # a stop is not walked
    assert _python_holders([[canary.encode()]], [], [canary]) == [f"{canary!r} in bytes (list)"]
    parent = QLineEdit()
    field = QLineEdit(parent)
    field.setObjectName("kept")
    field.insert(canary)
    field.clear()  # cleared, but the undo history still holds it
    assert field.text() == ""
    assert _widget_holders(parent, [canary]) == [
        f"{canary!r} in the undo history of QLineEdit 'kept'"
    ]
    parent.setToolTip(canary)
    assert _widget_holders(parent, [canary]) == [f"{canary!r} in QLineEdit ''"]
