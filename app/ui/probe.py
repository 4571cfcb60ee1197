"""A test probe: what is on the screen, and where, for a driver outside the process.

    KIOSK_PROBE=/tmp/run/probe.sock kiosk demo      # or a directory: DIR/probe.sock
    printf 'snapshot\\n' | socat - UNIX-CONNECT:/tmp/run/probe.sock

Off by default: without KIOSK_PROBE the kiosk opens no socket and answers
nothing; `attach()` then only keeps a reference to what `app.main.run` built
(for an in-process driver such as the soak, through `on_attach`). It never
changes what the kiosk does: every answer is read from the widgets.

Why: a person test drives the real window from outside, like a hand
(xdotool presses at screen coordinates). It needs to know where each button,
field and key is right now and which screen is shown, without guessing from
pixels. The answers hold what the screen shows, patient data included: never
set KIOSK_PROBE on a cabin (the cabin's systemd unit does not).

The protocol is one line in, one JSON line out, on a UNIX socket (0600):

    ping      -> "pong"
    snapshot  -> {"tops", "screen", "view", "state", "builds", "updates", "window", "widgets"}
    stats     -> app.runtime.take_sample() (None/True/False refcounts, RSS, gc objects)

Each widget: class, object_name, text, accessible_name, global x/y/w/h (the
part visible on screen: a button scrolled half out gives its visible half),
enabled, checked, top (the top-level window's object name), keyboard (True
for a key of an on-screen keyboard), and for a QLineEdit its text and focus.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QLineEdit, QWidget

if TYPE_CHECKING:
    from app.assembly import Assembly
    from app.ui.binding import ControllerBinding
    from app.ui.call_bridge import CallScreenLink
    from app.ui.main_window import KioskWindow

log = logging.getLogger(__name__)

ENV = "KIOSK_PROBE"
SOCKET_NAME = "probe.sock"


@dataclass
class Running:
    """What `app.main.run` built, for a driver in the same process (the soak)."""

    window: KioskWindow
    assembly: Assembly | None = None
    binding: ControllerBinding | None = None
    link: CallScreenLink | None = None
    demo: object = None


_listeners: list[Callable[[Running], object]] = []
_running: list[Running] = []


def on_attach(callback: Callable[[Running], object]) -> None:
    """Call `callback(running)` when the kiosk's window is up (an in-process driver)."""
    _listeners.append(callback)


def running() -> Running | None:
    return _running[-1] if _running else None


def socket_path(value: str | None = None) -> Path | None:
    """Where the probe listens: KIOSK_PROBE itself, or DIR/probe.sock for a directory."""
    raw = value if value is not None else os.environ.get(ENV, "")
    if not raw:
        return None
    path = Path(raw)
    if path.is_dir() or raw.endswith("/"):
        return path / SOCKET_NAME
    return path


def attach(
    window: KioskWindow,
    *,
    assembly: Assembly | None = None,
    binding: ControllerBinding | None = None,
    link: CallScreenLink | None = None,
    demo: object = None,
) -> Callable[[], None]:
    """Called once by `app.main.run` when the window is shown; returns the closer."""
    state = Running(window, assembly, binding, link, demo)
    _running.append(state)
    server: list[asyncio.AbstractServer] = []
    path = socket_path()
    if path is not None:
        task = asyncio.ensure_future(_serve(path, state, server))
        task.add_done_callback(_log_failure)
    for callback in list(_listeners):
        callback(state)

    def close() -> None:
        for s in server:
            s.close()
        if path is not None:
            with contextlib.suppress(OSError):
                path.unlink()
        with contextlib.suppress(ValueError):
            _running.remove(state)

    return close


def _log_failure(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("probe: not started (%s)", type(task.exception()).__name__)


async def _serve(path: Path, state: Running, out: list[asyncio.AbstractServer]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                writer.write(json.dumps(answer(line.decode().strip(), state)).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, UnicodeDecodeError):
            pass
        finally:
            writer.close()

    old = os.umask(0o177)
    try:
        server = await asyncio.start_unix_server(client, path=str(path))
    finally:
        os.umask(old)
    out.append(server)
    log.info("probe: listening on %s", path)


def answer(command: str, state: Running) -> object:
    """One request, one JSON-able answer (errors are answers too: the driver reads them)."""
    try:
        if command == "ping":
            return "pong"
        if command == "snapshot":
            return snapshot(state)
        if command == "stats":
            from app.runtime import take_sample

            return take_sample().as_dict()
    except Exception as exc:  # noqa: BLE001 - the probe must never disturb the kiosk
        return {"error": type(exc).__name__}
    return {"error": f"unknown command {command[:40]!r}"}


def _scalar(value: object) -> object:
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return None


def view_fields(view: object) -> dict[str, object]:
    """The view's plain fields shown in its repr (patient fields are repr=False): index, total…"""
    if not dataclasses.is_dataclass(view):
        return {}
    out: dict[str, object] = {"type": type(view).__name__}
    for f in dataclasses.fields(view):
        if not f.repr:
            continue
        value = _scalar(getattr(view, f.name, None))
        if value is not None:
            out[f.name] = value
    return out


def _in_keyboard(widget: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if parent.objectName().startswith("keyboard"):
            return True
        parent = parent.parentWidget()
    return False


def describe(widget: QWidget) -> dict[str, object] | None:
    """A visible widget's description, or None when no part of it is on the screen."""
    region = widget.visibleRegion().boundingRect()
    if region.isEmpty():
        return None
    top_left = widget.mapToGlobal(region.topLeft())
    item: dict[str, object] = {
        "class": type(widget).__name__,
        "object_name": widget.objectName(),
        "accessible_name": widget.accessibleName(),
        "x": top_left.x(),
        "y": top_left.y(),
        "w": region.width(),
        "h": region.height(),
        "enabled": widget.isEnabled(),
        "top": widget.window().objectName(),
    }
    if isinstance(widget, QAbstractButton):
        item["text"] = widget.text()
        item["checked"] = widget.isChecked()
        item["keyboard"] = _in_keyboard(widget)
    elif isinstance(widget, QLineEdit):
        item["text"] = widget.text()
        item["focus"] = widget.hasFocus()
    elif isinstance(widget, QLabel):
        item["text"] = widget.text()
    return item


def tops_of(tops: list[QWidget]) -> list[dict[str, object]]:
    """The visible top-level windows, with their native id (an X window id under xcb)."""
    out: list[dict[str, object]] = []
    for top in tops:
        if not top.isVisible():
            continue
        origin = top.mapToGlobal(QPoint(0, 0))
        out.append(
            {
                "class": type(top).__name__,
                "object_name": top.objectName(),
                "title": top.windowTitle(),
                "win_id": int(top.winId()),
                "x": origin.x(),
                "y": origin.y(),
                "w": top.width(),
                "h": top.height(),
            }
        )
    return out


def snapshot(state: Running) -> dict[str, object]:
    window = state.window
    view = getattr(window, "current_view", None)
    widgets: list[dict[str, object]] = []
    app = QApplication.instance()
    tops: list[QWidget] = app.topLevelWidgets() if isinstance(app, QApplication) else [window]
    for top in tops:
        if not top.isVisible():
            continue
        for widget in [top, *top.findChildren(QWidget)]:
            if not isinstance(widget, QAbstractButton | QLineEdit | QLabel):
                continue
            if not widget.isVisible():
                continue
            item = describe(widget)
            if item is not None:
                widgets.append(item)
    origin = window.mapToGlobal(QPoint(0, 0))
    controller_state = None
    if state.assembly is not None:
        with contextlib.suppress(Exception):
            controller_state = _scalar(state.assembly.controller.view.state)
    return {
        "tops": tops_of(tops),
        "screen": _scalar(getattr(view, "screen", None)),
        "view": view_fields(view),
        "state": controller_state,
        "builds": getattr(window, "builds", None),
        "updates": getattr(window, "updates", None),
        "window": {"x": origin.x(), "y": origin.y(), "w": window.width(), "h": window.height()},
        "widgets": widgets,
    }
