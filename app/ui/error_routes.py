"""The Qt error routes: what escapes a slot or a task reaches the calm error screen.

`install_error_routes(window)` is called once the window exists (app/main.py,
the headless demo): an unexpected exception shows the calm screen and writes
only its type to the log, never a stack trace on a screen.
`install_qt_message_filter()` keeps one harmless offscreen notice off stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from types import TracebackType
from typing import Any, Protocol

log = logging.getLogger("kiosk")


class CalmErrorScreen(Protocol):
    """Where an unexpected error lands: the kiosk's window (app/ui/main_window.py)."""

    def show_calm_error(self, exc: BaseException | None = None) -> None: ...


_QUIET_QT_MESSAGES = ("This plugin does not support propagateSizeHints()",)


def install_qt_message_filter() -> None:
    """Keep the offscreen plugin's propagateSizeHints() notice off stderr; pass the rest on."""
    from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

    def handler(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if any(quiet in message for quiet in _QUIET_QT_MESSAGES):
            return
        if previous is not None:
            previous(kind, context, message)
        else:
            sys.stderr.write(message + "\n")

    previous = qInstallMessageHandler(handler)


def install_error_routes(window: CalmErrorScreen) -> None:
    """Unexpected errors from Qt slots and asyncio tasks go to the calm screen, type only in logs.

    Showing the calm screen runs Qt slots too (the incident's receivers, the screen's
    build); one of them failing calls the excepthook again from inside
    `show_calm_error`. That error is logged and not shown again: re-entering would
    recurse until the interpreter overflows and the kiosk dies (seen in a soak).
    """
    showing: list[bool] = []  # non-empty while the calm screen is being shown

    def calm(exc: BaseException) -> None:
        if showing:
            log.error(
                "error while showing the calm screen (%s): not shown again", type(exc).__name__
            )
            return
        showing.append(True)
        try:
            window.show_calm_error(exc)
        finally:
            showing.clear()

    def excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        log.error("unexpected error (%s)", kind.__name__)
        calm(exc)

    def loop_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if not isinstance(exc, BaseException):
            # asyncio's own notices ("Unclosed client session", a slow callback...): a
            # note for the technician, nothing the patient has to see.
            log.warning(
                "asyncio notice without an exception (%d characters)",
                len(str(context.get("message", ""))),
            )
            return
        log.error("unexpected error in a task (%s)", type(exc).__name__)
        calm(exc)

    sys.excepthook = excepthook
    with contextlib.suppress(RuntimeError):
        asyncio.get_running_loop().set_exception_handler(loop_handler)
