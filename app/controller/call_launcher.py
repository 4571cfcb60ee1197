"""The real call as the session controller sees it: a `CallPort` over `app.call.CallSession`.

    launcher = KioskCallLauncher(config, media=media_for_site(config))
    launcher.hooks.summary = lambda: summary_of(controller.view.context, config)
    launcher.hooks.listeners.append(ui_listener)          # chat lines, documents …
    launcher.hooks.on_remote_video = lambda rgb: …         # the doctor's picture
    launcher.hooks.on_local_video = lambda bgr: …          # the self view
    launcher.hooks.on_mic_level = lambda level: …          # 0..1, waiting room bar

Why the launcher is more than a thin wrapper around `CallSession`:

- **The waiting room checks run first** (camera gives frames, microphone hears
  something, speaker opens); a failed check raises `CallNotOpened` (a
  `CallMediaCheckFailed` with the call room's codes) and the call is not
  opened: the controller traces `call-media-check-failed` in the act and the
  patient is told that the cabin's camera or microphone does not work.
- **`open()` never holds the controller for long.** `CallSession.start()`
  retries an unreachable platform for `call_reconnect_s`; the controller
  calls `open()` under its one-event lock, so a patient's "Stop" would wait
  that long. `open()` waits at most `open_wait_s` and lets the start go on;
  an unreachable platform still ends as `CallEnded(SIGNALLING_UNREACHABLE)`,
  which the flow turns into the degraded path.
- **The self view and the microphone bar in the waiting room**: before a
  doctor joins, nothing pulls the camera and microphone tracks, so a preview
  reads them (a few frames a second) until the doctor is identified.
- **Hooks are late-bound**: the UI exists after the controller, which exists
  after the launcher; the composition root fills them in.

No Qt here: frames go out as numpy arrays; app/main.py turns them into
QImages on the one loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from app.call import events as call
from app.call.summary import doctor_summary
from app.controller.ports import CallMediaCheckFailed
from kiosk_config.schema import KioskConfig

if (
    TYPE_CHECKING
):  # the call stack (aiortc, av, numpy, aiohttp) loads at the first call, not at start
    from app.call.audio import AudioSink, AudioSource, Pcm
    from app.call.session import CallSession, CallSettings
    from app.call.signalling import Signalling
    from app.call.video import FrameSource, Image
    from app.domain.session_context import SessionContext

log = logging.getLogger(__name__)

PREVIEW_EVERY_N_FRAMES = 3  # 30 fps camera -> 10 fps self view in the waiting room
LEVEL_FLOOR_DBFS = -60.0


class CallNotOpened(CallMediaCheckFailed):
    """The waiting-room checks failed: the call is not opened (the cabin's media degraded path)."""


class NullSpeaker:
    """An `AudioSink` that plays nothing (demo and tests on a machine without sound).

    It counts what it would have played, so a test can tell the doctor's audio arrived.
    """

    def __init__(self) -> None:
        self.opened = False
        self.blocks = 0

    async def open(self) -> None:
        self.opened = True

    def write(self, pcm: Pcm) -> None:
        self.blocks += 1

    async def close(self) -> None:
        self.opened = False


@dataclass(frozen=True)
class CallMedia:
    """Factories, because each consultation opens and closes its own devices."""

    camera: Callable[[], FrameSource]
    microphone: Callable[[], AudioSource]
    speaker: Callable[[], AudioSink]
    # The examination devices ([stethoscope], [otoscope]; docs/call-exam.md): None, none.
    stethoscope: Callable[[], AudioSource | None] = lambda: None
    otoscope: Callable[[], FrameSource | None] = lambda: None


def media_for_site(config: KioskConfig) -> CallMedia:
    """Test sites (demo) get a generated camera and tone; a production cabin its own devices."""

    def stethoscope() -> AudioSource | None:
        from app.call.exam import stethoscope_for

        return stethoscope_for(config)

    def otoscope() -> FrameSource | None:
        from app.call.exam import otoscope_for

        return otoscope_for(config)

    if config.site.mode.value == "test":
        return CallMedia(_test_pattern, _tone_microphone, NullSpeaker, stethoscope, otoscope)
    return CallMedia(_cabin_camera, _cabin_microphone, _cabin_speaker, stethoscope, otoscope)


# The factories import the call's media modules when a consultation opens its devices
# (docs/runtime.md, cold start): nothing of the call stack loads before the welcome screen.


def _test_pattern() -> FrameSource:
    from app.call.video import TestPatternSource

    return TestPatternSource()


def _tone_microphone() -> AudioSource:
    from app.call.audio import ToneMicrophone

    return ToneMicrophone()


def _cabin_camera() -> FrameSource:
    from app.call.video import OpenCVFrameSource

    return OpenCVFrameSource(0)


def _cabin_microphone() -> AudioSource:
    from app.call.audio import SoundDeviceMicrophone

    return SoundDeviceMicrophone()


def _cabin_speaker() -> AudioSink:
    from app.call.audio import SoundDeviceSpeaker

    return SoundDeviceSpeaker()


def _signalling_for(config: KioskConfig) -> Signalling:
    """The platform's signalling socket, over the site's TLS and with the cabin's token
    (docs/threat-model.md): a session id alone is no credential there."""
    from app.call.signalling import WebSocketSignalling
    from app.sync.transport import CabinAuth, ssl_context_for

    platform = config.platform
    tls = ssl_context_for(platform) if platform.url.startswith("https:") else None
    return WebSocketSignalling(platform.url, ssl_context=tls, auth=CabinAuth.for_config(config))


def level_of(dbfs: float) -> float:
    """dBFS to the 0..1 bar of the screen (−60 dBFS and below is an empty bar)."""
    return max(0.0, min(1.0, (dbfs - LEVEL_FLOOR_DBFS) / -LEVEL_FLOOR_DBFS))


@dataclass
class CallHooks:
    listeners: list[Callable[[call.CallEvent], None]] = field(default_factory=list)
    on_remote_video: Callable[[Image], None] | None = None
    on_local_video: Callable[[Image], None] | None = None
    on_mic_level: Callable[[float], None] | None = None
    summary: Callable[[], dict[str, Any]] = dict


class KioskCallLauncher:
    """`CallPort`: one CallSession per consultation, waiting room checks, preview, hooks."""

    def __init__(
        self,
        config: KioskConfig,
        *,
        media: CallMedia | None = None,
        signalling: Callable[[], Signalling] | None = None,
        settings: CallSettings | None = None,
        hooks: CallHooks | None = None,
        open_wait_s: float = 3.0,
        run_waiting_room_checks: bool = True,
    ) -> None:
        self._config = config
        self._media = media or media_for_site(config)
        self._signalling = signalling or (lambda: _signalling_for(config))
        self._settings = settings  # made from the config at the first open() (cold start)
        self.hooks = hooks or CallHooks()
        self._open_wait_s = open_wait_s
        self._checks = run_waiting_room_checks
        self._session: CallSession | None = None
        self._queue: asyncio.Queue[call.CallEvent] | None = None
        self._start: asyncio.Task[None] | None = None
        self._preview: asyncio.Task[None] | None = None
        self.opened: list[str] = []  # session ids, for the demo report and tests

    @property
    def session(self) -> CallSession | None:
        """The consultation under way (the UI sends mute, camera and text to it)."""
        return self._session

    async def open(self, session_id: str) -> None:
        from app.call.session import CallSession, CallSettings
        from app.call.waiting_room import incidents as check_incidents
        from app.call.waiting_room import run_checks

        if self._settings is None:
            self._settings = CallSettings.from_config(self._config)
        queue: asyncio.Queue[call.CallEvent] = asyncio.Queue()
        self._queue = queue
        camera, microphone, speaker = (
            self._media.camera(),
            self._media.microphone(),
            self._media.speaker(),
        )
        if self._checks:
            report = await run_checks(camera, microphone, speaker)
            if not report.ok:
                found = check_incidents(report)
                for incident in found:
                    log.warning("waiting room check failed (%s)", incident.code.value)
                    self._tell(incident)
                raise CallNotOpened(tuple(i.code for i in found))
        session = CallSession(
            signalling=self._signalling(),
            session_id=session_id,
            cabin_id=self._config.site.cabin_id,
            camera=camera,
            microphone=microphone,
            speaker=speaker,
            settings=self._settings,
            summary=self._summary(),
            on_remote_video=self._remote_video,
            on_local_video=self._local_video,
            stethoscope=self._media.stethoscope(),
            otoscope=self._media.otoscope(),
        )
        session.add_listener(self._on_event)
        self._session = session
        self.opened.append(session_id)
        self._start = asyncio.create_task(session.start())
        done, _ = await asyncio.wait({self._start}, timeout=self._open_wait_s)
        if self._start in done:
            self._start.result()  # a device that cannot open: the controller goes degraded
        self._preview = asyncio.create_task(self._run_preview(session, camera, microphone))

    async def end(self) -> None:
        session, self._session = self._session, None
        await self._stop_preview()
        if session is not None:
            try:
                await session.hang_up()
            except Exception as exc:  # ending must always finish; the call room traces its own
                log.warning("call hang-up failed (%s)", type(exc).__name__)
        start, self._start = self._start, None
        if start is not None and not start.done():
            start.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await start

    async def events(self) -> AsyncIterator[object]:
        queue = self._queue
        if queue is None:
            return
        while True:
            event = await queue.get()
            yield event
            if isinstance(event, call.CallEnded):
                return

    # -- what the session reports --------------------------------------------------------

    def _summary(self) -> dict[str, Any]:
        try:
            return dict(self.hooks.summary())
        except Exception as exc:  # the doctor then sees less; the call still opens
            log.error("call summary failed (%s)", type(exc).__name__)
            return {}

    def _tell(self, event: call.CallEvent) -> None:
        for listener in list(self.hooks.listeners):
            try:
                listener(event)
            except Exception as exc:
                log.error("call listener failed (%s)", type(exc).__name__)

    def _on_event(self, event: call.CallEvent) -> None:
        if isinstance(event, call.DoctorIdentified | call.CallEnded) and self._preview:
            self._preview.cancel()  # the tracks read the devices from now on
        if self._queue is not None:
            self._queue.put_nowait(event)
        self._tell(event)

    def _remote_video(self, rgb: Image) -> None:
        if self.hooks.on_remote_video is not None:
            self.hooks.on_remote_video(rgb)

    def _local_video(self, bgr: Image) -> None:
        if self.hooks.on_local_video is not None:
            self.hooks.on_local_video(bgr)
        session = self._session
        if self.hooks.on_mic_level is not None and session is not None:
            self.hooks.on_mic_level(level_of(session.microphone_level_dbfs))

    async def _stop_preview(self) -> None:
        preview, self._preview = self._preview, None
        if preview is not None:
            preview.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await preview

    async def _run_preview(
        self, session: CallSession, camera: FrameSource, microphone: AudioSource
    ) -> None:
        """Self view and microphone bar while nobody pulls the tracks (before the doctor)."""
        from app.call.audio import rms_dbfs

        n = 0
        try:
            while session.doctor is None:
                if self._start is not None and self._start.done():
                    if self._start.cancelled() or self._start.exception() is not None:
                        return
                frame = await camera.read()
                n += 1
                if n % PREVIEW_EVERY_N_FRAMES:
                    continue
                if self.hooks.on_local_video is not None:
                    self.hooks.on_local_video(frame)
                if self.hooks.on_mic_level is not None:
                    self.hooks.on_mic_level(level_of(rms_dbfs(await microphone.read())))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a camera that fails here is caught by the call's own checks
            log.info("waiting room preview stopped (%s)", type(exc).__name__)


def summary_of(
    context: SessionContext,
    config: KioskConfig,
    *,
    names: Mapping[str, str] | None = None,
    today: date | None = None,
    reasons: Iterable[Any] | None = None,
    reason_text: str | None = None,
) -> dict[str, Any]:
    """What the doctor's console shows about the patient, in French words (app/call/summary.py).

    Only what the patient agreed to share reaches this point: the call is
    opened after the teleconsultation consent, which covers it. `names` maps
    a professional's account id to the name the doctor reads (the controller
    knows who is signed in); without it a manual value says "un professionnel
    de la cabine". The age is counted on the session's day.
    """
    started = getattr(context, "started_at", None)
    day = today or (started.astimezone().date() if isinstance(started, datetime) else None)
    return doctor_summary(
        context,
        config.site,
        today=day or date.today(),
        names=names,
        devices={d.id: d.kind.value for d in config.devices},
        reasons=reasons,
        reason_text=reason_text,
    )
