"""The call <-> screen bridge: the call's pictures, chat, controls and documents on the window.

`bind_window(assembly, window, presenter)` binds the window, the presenter and
the session controller (app/ui/binding.py), then, when the assembly has a call
launcher, shows the doctor's and the patient's pictures (throttled for two
cores), the doctor's chat lines and documents, fetches each document's patient
link from the platform (its QR code on the end screen), and routes the
patient's mute, camera and chat choices to the call. Shared by the cabin
(app/main.py) and the headless demo.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from app.assembly import Assembly
from app.call import events as call_events
from app.controller.document_links import fetch_document_link
from app.domain.trace import IncidentCode
from app.sync.transport import ssl_context_for
from app.ui.views import IntentKind

log = logging.getLogger("kiosk")

REMOTE_FPS = 15.0  # the doctor's picture on screen: enough for a face, light on two cores
SELF_FPS = 10.0


def _qimage(array: Any, bgr: bool) -> Any:
    from PySide6.QtGui import QImage

    height, width = array.shape[:2]
    fmt = QImage.Format.Format_BGR888 if bgr else QImage.Format.Format_RGB888
    return QImage(array.data, width, height, array.strides[0], fmt).copy()


@dataclass
class CallScreenLink:
    """What reached the screen from the call (the headless demo and the tests read it)."""

    remote_frames: int = 0
    self_frames: int = 0
    chat_from_doctor: list[str] = field(default_factory=list)
    documents: list[tuple[str, str]] = field(default_factory=list)  # (kind, title)
    document_links: dict[str, str] = field(default_factory=dict)  # id -> the patient's link
    doctor_before_video: bool | None = None
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)  # UI incidents being recorded
    _last_remote: float = 0.0
    _last_self: float = 0.0

    def forget(self) -> None:
        """The session is over: nothing of its call stays here (chat, titles, working links)."""
        self.chat_from_doctor.clear()
        self.documents.clear()
        self.document_links.clear()
        self.doctor_before_video = None
        self.remote_frames = 0
        self.self_frames = 0


def bind_window(assembly: Assembly, window: Any, presenter: Any) -> tuple[Any, CallScreenLink]:
    """The window, the presenter and the controller bound; the call's media and chat shown."""
    from app.ui.binding import ControllerBinding

    link = CallScreenLink()
    launcher = assembly.launcher
    tasks: set[asyncio.Task[Any]] = set()

    def controls(intent: Any) -> None:
        session = launcher.session if launcher is not None else None
        if session is None:
            return
        if intent.kind is IntentKind.MUTE:
            session.set_muted(intent.value == "on")
        elif intent.kind is IntentKind.CAMERA:
            session.set_camera_off(intent.value == "off")
        elif intent.kind is IntentKind.SEND_TEXT and intent.value:
            task = asyncio.ensure_future(send_text(session, intent.value))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    async def send_text(session: Any, text: str) -> None:
        """A chat line that cannot leave must not cover the running call with the calm screen."""
        try:
            await session.send_text(text)
        except Exception as exc:
            log.warning("chat text not sent (%s, %d characters)", type(exc).__name__, len(text))
            await assembly.controller.record_incident(IncidentCode.CHAT_SEND_FAILED, "chat")

    def record_incident(incident: Any) -> None:
        """A UI incident (ui-error, speech-failed, audio-failed) joins the act's trace."""
        task = asyncio.ensure_future(assembly.controller.record_incident(incident.code))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    binding = ControllerBinding(
        assembly.controller,
        window,
        presenter,
        call_controls=controls,
        on_incident=record_incident,
    )
    link.tasks = tasks
    binding.on_wipe.append(link.forget)
    if launcher is None:
        return binding, link

    def remote(rgb: Any) -> None:
        now = time.monotonic()
        if now - link._last_remote < 1 / REMOTE_FPS:
            return
        link._last_remote = now
        if link.doctor_before_video is None:
            link.doctor_before_video = assembly.controller.view.doctor is not None
        window.set_remote_frame(_qimage(rgb, bgr=False))
        video = getattr(window.current_screen, "video", None)
        if video is not None and video.isVisible():
            link.remote_frames += 1

    def local(bgr: Any) -> None:
        now = time.monotonic()
        if now - link._last_self < 1 / SELF_FPS:
            return
        link._last_self = now
        link.self_frames += 1
        window.set_self_frame(_qimage(bgr, bgr=True))

    def on_event(event: Any) -> None:
        if isinstance(event, call_events.TextReceived) and event.sender == "doctor":
            link.chat_from_doctor.append(event.text)
            presenter.chat(True, event.text)
            binding.refresh()
        elif isinstance(event, call_events.DocumentReceived):
            document = event.document
            link.documents.append((document.kind.value, document.title))
            presenter.document(document.document_id, document.kind.value, document.title)
            binding.refresh()
            session_id = assembly.controller.view.context.session_id
            if assembly.site.document_url and session_id:
                task = asyncio.ensure_future(
                    document_link(assembly.site.document_url, session_id, document.document_id)
                )
                tasks.add(task)
                task.add_done_callback(tasks.discard)

    async def document_link(template: str, session_id: str, document_id: str) -> None:
        """The platform's patient link for the document becomes its QR code on the end screen."""
        platform = assembly.config.platform
        tls = ssl_context_for(platform) if platform.url.startswith("https:") else None
        url = await fetch_document_link(template, session_id, document_id, ssl=tls)
        if url is not None and assembly.controller.view.context.session_id == session_id:
            link.document_links[document_id] = url
            presenter.document_link(document_id, url)
            binding.refresh()

    launcher.hooks.on_remote_video = remote
    launcher.hooks.on_local_video = local
    launcher.hooks.on_mic_level = window.set_mic_level
    launcher.hooks.listeners.append(on_event)
    return binding, link
