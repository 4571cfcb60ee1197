"""The call <-> screen bridge: the call's pictures and controls on the window.

`bind_window(assembly, window, presenter)` binds the window, the presenter and
the session controller (app/ui/binding.py), then, when the assembly has a call
launcher, shows the doctor's and the patient's pictures (throttled for two
cores) and routes the patient's mute and camera choices to the call. Shared by
the cabin (app/main.py) and the headless demo.

What it does not do: carry the call's news. The chat lines (both ways), the
documents and their patient links are the controller's: it hears them on the
call's event stream, publishes them in `SessionView` and drops them at the
wipe (issue 18 §3); the patient's line goes through `controller.send_chat`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.assembly import Assembly
from app.call import events as call
from app.controller.controller import SessionController
from app.ui.binding import ControllerBinding
from app.ui.presenter import Presenter
from app.ui.views import Intent, IntentKind, ScreenId, UiIncident

if TYPE_CHECKING:
    from PySide6.QtGui import QImage

    from app.call.video import Image  # aiortc/av/numpy: not before the welcome screen
    from app.ui.main_window import KioskWindow

log = logging.getLogger("kiosk")

REMOTE_FPS = 15.0  # the doctor's picture on screen: enough for a face, light on two cores
SELF_FPS = 10.0


def _qimage(array: Image, bgr: bool) -> QImage:
    from PySide6.QtGui import QImage

    height, width = array.shape[:2]
    fmt = QImage.Format.Format_BGR888 if bgr else QImage.Format.Format_RGB888
    return QImage(array.data, width, height, array.strides[0], fmt).copy()


@dataclass
class CallScreenLink:
    """What reached the screen from the call (the headless demo and the tests read it).

    It keeps only counters: the chat lines, the documents and their patient
    links are the controller's (`SessionView.chat`, `.documents`), read here
    through the view, so nothing of a session outlives its wipe in this object.
    """

    controller: SessionController
    remote_frames: int = 0
    self_frames: int = 0
    exam_notices: list[str | None] = field(default_factory=list)  # device per notice, None: off
    doctor_switches_said: list[str] = field(default_factory=list)  # read aloud, in order
    doctor_before_video: bool | None = None
    tasks: set[asyncio.Task[object]] = field(default_factory=set)  # UI incidents being recorded
    _last_remote: float = 0.0
    _last_self: float = 0.0

    @property
    def chat_from_doctor(self) -> list[str]:
        return [line.text for line in self.controller.view.chat if line.from_doctor]

    @property
    def documents(self) -> list[tuple[str, str]]:
        """(kind, title) of each document the call delivered, in order."""
        return [(d.kind.value, d.title) for d in self.controller.view.documents]

    @property
    def document_links(self) -> dict[str, str]:
        """Document id -> the patient's link the platform minted."""
        return {d.document_id: d.link for d in self.controller.view.documents if d.link}

    def forget(self, session_id: str = "") -> None:
        """The session is over (the controller's wipe): the counters start again."""
        del session_id
        self.doctor_before_video = None
        self.remote_frames = 0
        self.self_frames = 0
        self.exam_notices = []
        self.doctor_switches_said = []


def bind_window(
    assembly: Assembly, window: KioskWindow, presenter: Presenter
) -> tuple[ControllerBinding, CallScreenLink]:
    """The window, the presenter and the controller bound; the call's media shown."""
    controller = assembly.controller
    link = CallScreenLink(controller)
    launcher = assembly.launcher
    tasks: set[asyncio.Task[object]] = set()

    def spawn(coro: Coroutine[object, None, object]) -> None:
        task = asyncio.ensure_future(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def controls(intent: Intent) -> None:
        if intent.kind is IntentKind.SEND_TEXT and intent.value:
            spawn(controller.send_chat(intent.value))  # the controller shows it and sends it
            return
        session = launcher.session if launcher is not None else None
        if session is None:
            return
        if intent.kind is IntentKind.MUTE:
            session.set_muted(intent.value == "on")
        elif intent.kind is IntentKind.CAMERA:
            session.set_camera_off(intent.value == "off")

    def record_incident(incident: UiIncident) -> None:
        """A UI incident (ui-error, speech-failed, audio-failed) joins the act's trace."""
        spawn(controller.record_incident(incident.incident_code))

    binding = ControllerBinding(
        controller,
        window,
        presenter,
        call_controls=controls,
        on_incident=record_incident,
    )
    link.tasks = tasks
    binding.on_wipe.append(link.forget)
    if launcher is None:
        return binding, link

    def remote(rgb: Image) -> None:
        now = time.monotonic()
        if now - link._last_remote < 1 / REMOTE_FPS:
            return
        link._last_remote = now
        if link.doctor_before_video is None:
            link.doctor_before_video = controller.view.doctor is not None
        window.set_remote_frame(_qimage(rgb, bgr=False))
        video = getattr(window.current_screen, "video", None)
        if video is not None and video.isVisible():
            link.remote_frames += 1

    def local(bgr: Image) -> None:
        now = time.monotonic()
        if now - link._last_self < 1 / SELF_FPS:
            return
        link._last_self = now
        link.self_frames += 1
        window.set_self_frame(_qimage(bgr, bgr=True))

    exam_on: list[str] = []

    def exam(event: call.CallEvent) -> None:
        """The doctor switched a stethoscope or otoscope on or off: the patient is told where
        to place it, on the call screen (a pictogram and words) and read aloud at once."""
        if isinstance(event, call.CallEnded):
            exam_on.clear()
        elif isinstance(event, call.ExamDeviceChanged):
            if event.device in exam_on:
                exam_on.remove(event.device)
            if event.on:
                exam_on.append(event.device)
        else:
            return
        device = exam_on[-1] if exam_on else None  # the one switched on last is shown
        from app.ui.screens.call import CallScreen  # after READY, like the screen itself

        screen = window.screen_for(ScreenId.CALL)
        if not isinstance(screen, CallScreen):
            return
        words = screen.show_exam_notice(device)
        link.exam_notices.append(device)
        if words is not None and window.speaker is not None and window.current_screen is screen:
            window.speaker.say(words, window.presentation.language)

    launcher.hooks.listeners.append(exam)

    doctor_off = {"camera": False, "microphone": False}

    def doctor_switch(event: call.CallEvent) -> None:
        """The doctor switched her camera or microphone off: read aloud once, as it is shown.

        The screen shows it from the view (app/controller: the lost connection's words
        win); a patient who does not look at the screen, or cannot read it, hears it too,
        once per switch, only while the call screen is in front of him.
        """
        reconnecting = isinstance(event, call.Incident) and (
            event.code is call.IncidentCode.RECONNECTING
        )
        if isinstance(event, call.CallEnded) or reconnecting:  # her state is told again after
            doctor_off.update(camera=False, microphone=False)
            return
        if not isinstance(event, call.RemoteMediaState):
            return
        from app.ui.screens.call import DOCTOR_CAMERA_OFF_MESSAGE, DOCTOR_MUTED_MESSAGE

        said: list[str] = []
        for what, now_off, msgid in (
            ("camera", event.camera_off, DOCTOR_CAMERA_OFF_MESSAGE),
            ("microphone", event.muted, DOCTOR_MUTED_MESSAGE),
        ):
            if now_off and not doctor_off[what]:
                said.append(window.t(msgid))
            doctor_off[what] = now_off
        screen = window.screen_for(ScreenId.CALL)
        if said and window.speaker is not None and window.current_screen is screen:
            window.speaker.say(" ".join(said), window.presentation.language)
        link.doctor_switches_said.extend(said)

    launcher.hooks.listeners.append(doctor_switch)
    launcher.hooks.on_remote_video = remote
    launcher.hooks.on_local_video = local
    launcher.hooks.on_mic_level = window.set_mic_level
    return binding, link
