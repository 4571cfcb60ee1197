"""One consultation call, kiosk side: the aiortc peer, its media and its incidents.

The session controller creates a CallSession once the waiting-room checks are
done, calls ``start()``, reads ``events()`` (or registers a listener), and
calls ``set_muted``/``set_camera_off``/``send_text``/``hang_up`` on the
patient's touches. Everything here runs on the one asyncio loop.

The kiosk always makes the offer: it owns codec choice (VP8 first), the ICE
policy from the site configuration, and reconnection. aiortc cannot restart
ICE on a live connection, so a reconnection is a fresh RTCPeerConnection with
the same local tracks and an offer flagged ``restart``; the doctor's console
answers it with a fresh connection too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp

from app.call import messages as m
from app.call.audio import AudioSink, AudioSource, MicrophoneTrack, to_mono_int16
from app.call.documents import ReceivedDocument, accept
from app.call.echo import echo_canceller_for
from app.call.encoders import RungVp8Encoder, rung_bitrate, use_video_encoder, use_voice_encoder
from app.call.errors import (
    DeviceUnavailable,
    DocumentError,
    SignallingProtocolError,
    SignallingUnavailable,
)
from app.call.events import (
    CallEnded,
    CallEvent,
    ConnectionStatus,
    ConnectionStatusChanged,
    DoctorIdentified,
    DocumentReceived,
    EndReason,
    ExamDeviceChanged,
    ExamStillKept,
    Incident,
    IncidentCode,
    QualityChanged,
    RemoteMediaStarted,
    RemoteMediaState,
    StateChanged,
    TextReceived,
)
from app.call.exam import OTOSCOPE_FPS, encode_jpeg, opus_only, use_exam_encoder
from app.call.exam_still import ExamDevice, ExamStill
from app.call.ice import rtc_configuration
from app.call.quality import (
    QualityLevel,
    QualityMonitor,
    QualitySample,
    SendRate,
    VideoRung,
    rr_fraction_lost,
)
from app.call.receive import use_video_receive_repair
from app.call.signalling import Signalling
from app.call.state import CallState, CallStateMachine, Trigger
from app.call.video import CameraTrack, FrameCounter, FrameSource, Image
from app.runtime import trim_native_heap
from kiosk_config.schema import IceServer, KioskConfig

log = logging.getLogger(__name__)
TRIM_AGAIN_S = 3.0  # after the end of a call, the native heap is trimmed again


@dataclass(frozen=True)
class CallSettings:
    ice_servers: tuple[IceServer, ...] = ()
    relay_only: bool = False
    reconnect_s: float = 30.0
    stats_interval_s: float = 1.0
    media_stall_s: float = 4.0
    negotiation_timeout_s: float = 8.0

    @classmethod
    def from_config(cls, config: KioskConfig, *, relay_only: bool = False) -> CallSettings:
        return cls(
            ice_servers=config.platform.ice_servers,
            relay_only=relay_only,
            reconnect_s=config.timeouts.call_reconnect_s,
        )


PEER_LEFT_CONFIRM_S = 1.5
"""After the platform says the doctor left while her media still flow, look again this late."""


def _vp8_first() -> list[Any]:
    codecs = RTCRtpSender.getCapabilities("video").codecs
    return [c for c in codecs if c.mimeType.lower() in ("video/vp8", "video/rtx")]


class PeerTrack(MediaStreamTrack):
    """One peer connection's hold on a long-lived local track (camera or microphone).

    Why: aiortc stops a sender's track when its connection closes. A
    reconnection is a fresh RTCPeerConnection; handing it the camera and
    microphone tracks the old one stopped sends nothing (the doctor who
    rejoins sees and hears nothing). Each connection gets its own PeerTrack;
    when aiortc stops it, the camera and microphone tracks stay live for the
    next one, with their mute, camera-off and failure state.
    """

    def __init__(self, inner: CameraTrack | MicrophoneTrack) -> None:
        super().__init__()
        self.kind = inner.kind
        self.inner = inner
        inner.resume()

    async def recv(self) -> Any:
        if self.readyState != "live" or self.inner.readyState != "live":
            raise MediaStreamError
        return await self.inner.recv()


STALL_FALLBACK_GRACE_S = 3.0
REPORT_FRESH_S = 2.5
"""The doctor's receiver report counts for the quality sample this long (it comes each second)."""
"""An audio-only fallback this much older than a media stall survives the reconnection."""


def _format(rung: VideoRung) -> tuple[int, int, int]:
    return rung.width, rung.height, rung.fps


def _rung_detail(rung: VideoRung) -> dict[str, int]:
    return {"width": rung.width, "height": rung.height, "fps": rung.fps}


class CallSession:
    def __init__(
        self,
        *,
        signalling: Signalling,
        session_id: str,
        cabin_id: str,
        camera: FrameSource,
        microphone: AudioSource,
        speaker: AudioSink,
        settings: CallSettings | None = None,
        summary: m.JsonObject | None = None,
        on_remote_video: Callable[[Image], None] | None = None,
        on_local_video: Callable[[Image], None] | None = None,
        stethoscope: AudioSource | None = None,
        otoscope: FrameSource | None = None,
    ) -> None:
        self._signalling = signalling
        self._session_id = session_id
        self._cabin_id = cabin_id
        self._camera = camera
        self._microphone = microphone
        self._speaker = speaker
        self.settings = settings or CallSettings()
        self._summary: m.JsonObject = dict(summary or {})
        self._on_remote_video = on_remote_video
        self._camera_track = CameraTrack(camera, on_frame=on_local_video)
        self._mic_track = MicrophoneTrack(microphone, echo=echo_canceller_for(speaker))
        # The examination devices (docs/call-exam.md): raw audio, no echo canceller.
        self._exam_sources: dict[ExamDevice, AudioSource | FrameSource] = {}
        self._exam_tracks: dict[ExamDevice, CameraTrack | MicrophoneTrack] = {}
        if stethoscope is not None:
            self._exam_sources[ExamDevice.STETHOSCOPE] = stethoscope
            self._exam_tracks[ExamDevice.STETHOSCOPE] = MicrophoneTrack(stethoscope, echo=None)
        if otoscope is not None:
            otoscope_track = CameraTrack(otoscope, on_frame=self._keep_otoscope_frame)
            otoscope_track.set_format(otoscope.width, otoscope.height, OTOSCOPE_FPS)
            self._exam_sources[ExamDevice.OTOSCOPE] = otoscope
            self._exam_tracks[ExamDevice.OTOSCOPE] = otoscope_track
        self._exam_on: dict[ExamDevice, bool] = dict.fromkeys(self._exam_tracks, False)
        self._exam_senders: dict[ExamDevice, RTCRtpSender] = {}
        self._exam_peers: dict[ExamDevice, PeerTrack] = {}
        self._exam_mids: dict[ExamDevice, str] = {}
        self._last_otoscope: Image | None = None
        self._stills: list[ExamStill] = []
        self._machine = CallStateMachine()
        self._queue: asyncio.Queue[CallEvent] = asyncio.Queue()
        self._listeners: list[Callable[[CallEvent], None]] = []
        self._pc: RTCPeerConnection | None = None
        self._channel: Any = None
        self._video_sender: RTCRtpSender | None = None
        self._video_encoder: RungVp8Encoder | None = None
        self._send_rate = SendRate()
        self._peer_video: PeerTrack | None = None
        self._generation = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reconnect_task: asyncio.Task[None] | None = None
        self._media_up = asyncio.Event()
        self._ended: asyncio.Future[CallEnded] = asyncio.get_running_loop().create_future()
        self._ending = False
        self._doctor: m.DoctorIdentity | None = None
        self._doctor_present = False
        self._told_lost = False
        self._joined_at: float | None = None
        self._negotiated_at = 0.0
        self._first_in_generation: set[str] = set()
        self._documents: list[ReceivedDocument] = []
        self._quality = QualityMonitor()
        self._fallback_at: float | None = None  # when the monitor last gave up video
        self._dropped_at: float | None = None  # when the reconnection under way began
        self._stalled = False  # that reconnection began with a media stall (a cut)
        self._restore_on_reconnect = False  # audio-only lifted by the stall: say so when back
        self._loss_counters: tuple[int, int] | None = None
        self._doctor_report: tuple[float, m.ReceiverReport] | None = None  # (monotonic, report)
        self._last_remote = {"audio": 0.0, "video": 0.0}
        self._remote_state = m.MediaState()
        self._reported_device_failures: set[str] = set()
        self.remote_video = FrameCounter()
        self.remote_audio_blocks = 0
        self.quality_level = QualityLevel.GOOD

    # ---- what the UI and the controller read -------------------------------------------

    @property
    def state(self) -> CallState:
        return self._machine.state

    @property
    def doctor(self) -> m.DoctorIdentity | None:
        return self._doctor

    @property
    def documents(self) -> tuple[ReceivedDocument, ...]:
        return tuple(self._documents)

    @property
    def stills(self) -> tuple[ExamStill, ...]:
        """The stills the doctor took during this call, in order."""
        return tuple(self._stills)

    def exam_device_on(self, device: ExamDevice) -> bool:
        return self._exam_on.get(device, False)

    @property
    def muted(self) -> bool:
        return self._mic_track.muted

    @property
    def camera_off(self) -> bool:
        return not self._camera_track.enabled

    @property
    def audio_only(self) -> bool:
        return self._quality.audio_only

    @property
    def microphone_level_dbfs(self) -> float:
        return self._mic_track.level_dbfs

    @property
    def frames_sent(self) -> int:
        return self._camera_track.frames_sent

    def add_listener(self, listener: Callable[[CallEvent], None]) -> None:
        self._listeners.append(listener)

    async def events(self) -> AsyncIterator[CallEvent]:
        """Every event in order, ending with CallEnded. One reader only."""
        while True:
            event = await self._queue.get()
            yield event
            if isinstance(event, CallEnded):
                return

    async def wait_ended(self) -> CallEnded:
        return await asyncio.shield(self._ended)

    # ---- what the patient does ------------------------------------------------------------

    async def start(self) -> None:
        """Open media, announce the session to the waiting list, wait for a doctor.

        A device that cannot open raises DeviceUnavailable (the waiting room
        should have caught it). A platform that stays unreachable for the
        reconnection window ends the call with SIGNALLING_UNREACHABLE.
        """
        await self._camera.open()
        await self._microphone.open()
        await self._speaker.open()
        self._fire(Trigger.ANNOUNCE)
        if not await self._connect_signalling(first=True):
            return
        self._spawn(self._signalling_loop())
        self._spawn(self._monitor_loop())

    async def update_summary(self, patch: m.JsonObject) -> None:
        """New facts for the doctor (measurements as they arrive); kept for a re-announce."""
        self._summary.update(patch)
        with contextlib.suppress(SignallingUnavailable):
            await self._signalling.send_summary(patch)

    def set_muted(self, muted: bool) -> None:
        self._mic_track.muted = muted
        self._spawn(self._send_media_state())

    def set_camera_off(self, off: bool) -> None:
        self._camera_track.enabled = not off
        self._spawn(self._send_media_state())

    async def send_text(self, text: str) -> None:
        message = m.Text(text=text[: m.MAX_TEXT_CHARS], sender="patient")
        if self._channel is not None and self._channel.readyState == "open":
            self._channel.send(m.encode(message))
            return
        with contextlib.suppress(SignallingUnavailable):
            await self._signalling.send(message)

    async def hang_up(self) -> CallEnded:
        reason = EndReason.PATIENT_HUNG_UP if self._doctor else EndReason.CANCELLED
        return await self._end(reason, send_bye=True)

    # ---- internals ------------------------------------------------------------------------

    def _emit(self, event: CallEvent) -> None:
        self._queue.put_nowait(event)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception as exc:  # a listener's bug must not break the call
                # The type only: the message could quote chat text or a document.
                log.error("call event listener failed (%s)", type(exc).__name__)

    def _incident(self, code: IncidentCode, **detail: str | int | float) -> None:
        log.info("call incident %s", code.value)
        self._emit(Incident(code, dict(detail)))

    def _fire(self, trigger: Trigger) -> None:
        before = self._machine.state
        after = self._machine.fire(trigger)
        if after is not before:
            self._emit(StateChanged(after))

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _hello(self) -> m.Hello:
        return m.Hello(session_id=self._session_id, cabin_id=self._cabin_id, summary=self._summary)

    async def _connect_signalling(self, *, first: bool) -> bool:
        deadline = time.monotonic() + self.settings.reconnect_s
        delay = 0.2
        while not self._ending:
            try:
                await self._signalling.connect(self._hello())
            except SignallingUnavailable:
                in_call = self.state is CallState.IN_CALL
                if not in_call and time.monotonic() >= deadline:
                    self._incident(IncidentCode.SIGNALLING_UNREACHABLE)
                    await self._end(EndReason.SIGNALLING_UNREACHABLE, send_bye=False)
                    return False
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            if not first:
                self._incident(IncidentCode.SIGNALLING_RESTORED)
            return True
        return False

    async def _signalling_loop(self) -> None:
        while not self._ending:
            try:
                message = await self._signalling.receive()
            except SignallingProtocolError as exc:
                self._incident(IncidentCode.SIGNALLING_PROTOCOL, reason=exc.reason.value)
                continue
            except SignallingUnavailable:
                if self._ending:
                    return
                self._incident(IncidentCode.SIGNALLING_LOST)
                if not await self._connect_signalling(first=False):
                    return
                continue
            try:
                await self._dispatch(message)
            except SignallingUnavailable:
                continue  # the next receive notices and reconnects

    async def _dispatch(self, message: m.Message) -> None:
        if isinstance(message, m.DoctorJoined):
            await self._on_doctor(message.doctor, resume=message.resume)
        elif isinstance(message, m.Answer):
            pc = self._pc
            if pc is not None and pc.signalingState == "have-local-offer":
                await pc.setRemoteDescription(RTCSessionDescription(message.sdp, "answer"))
        elif isinstance(message, m.Candidate):
            await self._on_candidate(message)
        elif isinstance(message, m.PeerLeft):
            if message.role == "doctor" and self._doctor_present:
                self._doctor_present = False
                self._incident(IncidentCode.DOCTOR_LEFT)
                if self._media_fresh():
                    # Perhaps only her signalling socket went (media are peer to peer): look
                    # again in a moment rather than tell the patient the doctor is lost.
                    self._spawn(self._confirm_doctor_left())
                else:
                    self._start_reconnect()
        else:
            await self._on_peer_message(message, via="signalling")

    async def _on_peer_message(self, message: m.Message, *, via: str) -> None:
        """Messages the doctor may send over either the data channel or signalling."""
        if isinstance(message, m.Bye):
            await self._end(EndReason.DOCTOR_HUNG_UP, send_bye=False)
        elif isinstance(message, m.Text):
            self._emit(TextReceived(text=message.text, sender=message.sender))
        elif isinstance(message, m.MediaState):
            self._remote_state = message
            self._emit(RemoteMediaState(message.muted, message.camera_off, message.audio_only))
        elif isinstance(message, m.ReceiverReport):
            self._doctor_report = (time.monotonic(), message)
        elif isinstance(message, m.ExamSwitch):
            await self._switch_exam(ExamDevice(message.device), message.on)
        elif isinstance(message, m.ExamStillRequest):
            await self._take_still(message.request_id)
        elif isinstance(message, m.DocumentMessage):
            await self._on_document(message)
        elif isinstance(message, m.ErrorMessage):
            self._incident(IncidentCode.SIGNALLING_PROTOCOL, error=message.code[:40])
        elif not isinstance(message, m.Welcome):
            self._incident(IncidentCode.SIGNALLING_PROTOCOL, unexpected=message.type, via=via)

    async def _on_document(self, message: m.DocumentMessage) -> None:
        try:
            document = accept(message, fallback_id=f"doc-{len(self._documents) + 1}")
        except DocumentError as exc:
            self._incident(IncidentCode.DOCUMENT_REJECTED, reason=exc.reason.value)
            await self._acknowledge(message.document_id, accepted=False, reason=exc.reason.value)
            return
        if any(d.document_id == document.document_id for d in self._documents):
            await self._acknowledge(document.document_id)  # sent again: we still have it
            return  # sent over both paths; keep one
        self._documents.append(document)
        self._emit(DocumentReceived(document))
        await self._acknowledge(document.document_id)

    async def _acknowledge(
        self, document_id: str, *, accepted: bool = True, reason: str = ""
    ) -> None:
        """Tell the doctor's console the kiosk has (or refused) the document: only then "envoyé".

        Through the platform (it relays to the doctor who took the patient);
        a link down loses the ack, and the console then says "non confirmé".
        """
        if not document_id:
            return
        ack = m.DocumentAck(document_id=document_id, accepted=accepted, reason=reason)
        with contextlib.suppress(SignallingUnavailable):
            await self._signalling.send(ack)

    async def _on_candidate(self, message: m.Candidate) -> None:
        pc = self._pc
        if pc is None or pc.remoteDescription is None or not message.candidate:
            return
        text = message.candidate.removeprefix("candidate:")
        try:
            candidate = candidate_from_sdp(text)
        except (ValueError, IndexError):
            self._incident(IncidentCode.SIGNALLING_PROTOCOL, reason="bad-candidate")
            return
        candidate.sdpMid = message.sdp_mid
        candidate.sdpMLineIndex = message.sdp_mline_index
        await pc.addIceCandidate(candidate)

    async def _on_doctor(self, doctor: m.DoctorIdentity, *, resume: bool = False) -> None:
        if self._ending:
            return
        same = doctor == self._doctor
        if same and self._doctor_present and self.state is CallState.IN_CALL:
            return  # the platform repeats who is there after a signalling reconnect
        if not same:
            self._doctor = doctor
            self._emit(DoctorIdentified(doctor))
        elif not self._doctor_present:
            self._incident(IncidentCode.DOCTOR_RETURNED)
            if resume and self.state is CallState.IN_CALL and self._media_fresh():
                # Her console reconnected its socket and says its peer connection is up, and
                # her media still arrive: nothing to redo. A new page (resume false) always
                # gets a fresh offer.
                self._doctor_present = True
                return
        self._doctor_present = True
        if self.state is CallState.IN_CALL:
            # Back before the kiosk saw the drop (a fast rejoin): the fresh offer below
            # runs under the reconnection window like any other, so a negotiation that
            # never completes still ends in the degraded path.
            self._negotiated_at = time.monotonic()
            self._start_reconnect()
        self._fire(Trigger.DOCTOR_JOINED)
        if self._joined_at is None:
            self._joined_at = time.monotonic()
        await self._negotiate(restart=self._generation > 0)

    async def _negotiate(self, *, restart: bool) -> None:
        # Marked before the first await: the reconnection loop must not start another one.
        self._negotiated_at = time.monotonic()
        old, self._pc = self._pc, None
        self._channel = None
        if old is not None:
            await old.close()
        self._generation += 1
        generation = self._generation
        self._media_up.clear()
        self._first_in_generation.clear()
        self._loss_counters = None
        self._doctor_report = None  # it told of the old connection
        self._negotiated_at = time.monotonic()
        # This call's own TURN credential when the platform mints one (docs/call.md).
        ice_servers = await self._signalling.call_ice_servers() or self.settings.ice_servers
        if generation != self._generation:
            return  # another negotiation started while the platform was asked
        pc = RTCPeerConnection(rtc_configuration(ice_servers, relay_only=self.settings.relay_only))
        self._pc = pc

        @pc.on("track")
        def on_track(track: Any) -> None:
            consumer = self._consume_video if track.kind == "video" else self._consume_audio
            self._spawn(consumer(track, generation))

        @pc.on("connectionstatechange")
        def on_state() -> None:
            if generation != self._generation or pc is not self._pc:
                return  # an old connection we closed ourselves
            if pc.connectionState == "failed":
                self._incident(IncidentCode.ICE_FAILED)
                self._start_reconnect()
            elif pc.connectionState == "closed" and not self._ending:
                # The doctor's side closed the connection (DTLS close: page closed, hung
                # up without a bye): a drop seen at once, not after the media stall.
                self._start_reconnect()

        # Fresh holds on the camera and microphone: aiortc stops the old ones with `old`.
        self._peer_video = PeerTrack(self._camera_track)
        video_track = None if self._quality.audio_only else self._peer_video
        video = pc.addTransceiver(video_track or "video", direction="sendrecv")
        video.setCodecPreferences(_vp8_first())
        use_video_receive_repair(video.receiver)  # the doctor's video on a lossy line
        if video_track is None:
            video.sender.replaceTrack(None)
        self._video_sender = video.sender
        # Before the first frame (app/call/encoders.py): the bitrate follows the rung and the
        # line's estimate, which starts low on each new connection (the line may have changed).
        self._send_rate = SendRate()
        self._video_encoder = use_video_encoder(video.sender, self._video_cap())
        voice = pc.addTransceiver(PeerTrack(self._mic_track), direction="sendrecv")
        opus_only(voice)  # the FEC encoder makes Opus; PCMU/PCMA would be fed it
        use_voice_encoder(voice.sender)
        self._add_exam_transceivers(pc)
        channel = pc.createDataChannel("chat")
        self._channel = channel

        @channel.on("message")
        def on_message(data: Any) -> None:
            if generation != self._generation or not isinstance(data, str):
                return
            try:
                message = m.decode(data)
            except SignallingProtocolError as exc:
                self._incident(IncidentCode.DATA_CHANNEL_PROTOCOL, reason=exc.reason.value)
                return
            self._spawn(self._on_peer_message(message, via="data-channel"))

        @channel.on("open")
        def on_open() -> None:
            # Always: after a stall lifted the audio-only fallback, the console must hear it.
            self._spawn(self._send_media_state())
            if self._exam_tracks:
                self._send_exam_devices()

        await pc.setLocalDescription(await pc.createOffer())
        self._exam_mids = {
            device: sender_mid
            for device, sender in self._exam_senders.items()
            if (sender_mid := _mid_of(pc, sender)) is not None
        }
        await self._signalling.send_offer(pc.localDescription.sdp, restart=restart)

    def _remote_started(self, kind: str) -> None:
        self._last_remote[kind] = time.monotonic()
        if kind in self._first_in_generation:
            return
        self._first_in_generation.add(kind)
        since = time.monotonic() - (self._joined_at or self._negotiated_at)
        if self._generation > 1:
            since = time.monotonic() - self._negotiated_at
        self._emit(RemoteMediaStarted(kind=kind, seconds_since_doctor_joined=since))
        if self.state in (CallState.CONNECTING, CallState.RECONNECTING):
            back = self.state is CallState.RECONNECTING
            if back:
                recovery_s = time.monotonic() - (self._dropped_at or self._negotiated_at)
                self._incident(IncidentCode.RECONNECTED, recovery_s=round(recovery_s, 1))
                self._dropped_at = None
                if self._restore_on_reconnect:
                    self._restore_on_reconnect = False
                    self._incident(IncidentCode.VIDEO_RESTORED, after="reconnection")
            self._fire(Trigger.MEDIA_UP)
            self._media_up.set()
            if back and self._told_lost:
                self._told_lost = False
                self._emit(ConnectionStatusChanged(ConnectionStatus.DOCTOR_BACK))

    async def _consume_video(self, track: Any, generation: int) -> None:
        while generation == self._generation and not self._ending:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if generation != self._generation:
                return
            self.remote_video.tick()
            self._remote_started("video")
            if self._on_remote_video is not None:
                self._on_remote_video(frame.to_ndarray(format="rgb24"))

    async def _consume_audio(self, track: Any, generation: int) -> None:
        while generation == self._generation and not self._ending:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if generation != self._generation:
                return
            self.remote_audio_blocks += 1
            self._remote_started("audio")
            self._speaker.write(to_mono_int16(frame))

    async def _confirm_doctor_left(self) -> None:
        """After `peer-left` with media still flowing: a drop only if her media stop too.

        The doctor's page or network gone: her audio (a packet every 20 ms,
        silence included) stops at once, so `PEER_LEFT_CONFIRM_S` later the
        reconnection window opens and the patient is told. Only her console's
        socket gone: the media go on, the patient sees and hears her, and the
        console re-takes the patient with `resume` (no renegotiation).
        """
        await asyncio.sleep(PEER_LEFT_CONFIRM_S)
        if self._ending or self._doctor_present:
            return
        if not self._media_fresh():
            self._start_reconnect()

    def _media_fresh(self, within_s: float = 1.0) -> bool:
        """The doctor's audio or video arrived within `within_s` on the call under way."""
        if self.state is not CallState.IN_CALL:
            return False
        return time.monotonic() - max(self._last_remote.values()) < within_s

    def _start_reconnect(self) -> None:
        if self._ending or (self._reconnect_task is not None and not self._reconnect_task.done()):
            return
        if self._machine.can(Trigger.DROP):
            self._fire(Trigger.DROP)
        if self._dropped_at is None:
            self._dropped_at = time.monotonic()
        self._incident(IncidentCode.RECONNECTING, window_s=self.settings.reconnect_s)
        if self._doctor is not None and not self._told_lost:
            # The patient hears it in words (not a frozen face): the kiosk keeps waiting.
            self._told_lost = True
            self._emit(
                ConnectionStatusChanged(ConnectionStatus.DOCTOR_LOST, self.settings.reconnect_s)
            )
        self._reconnect_task = self._spawn(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        self._media_up.clear()
        deadline = time.monotonic() + self.settings.reconnect_s
        while not self._ending and (remaining := deadline - time.monotonic()) > 0:
            stale = time.monotonic() - self._negotiated_at > self.settings.negotiation_timeout_s
            if self._doctor_present and self._signalling.connected and stale:
                try:
                    await self._negotiate(restart=True)
                except SignallingUnavailable:
                    pass
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._media_up.wait(), min(remaining, 0.5))
            if self._media_up.is_set():
                return
        if not self._ending:
            self._incident(IncidentCode.RECONNECT_TIMEOUT, window_s=self.settings.reconnect_s)
            self._spawn(self._end(EndReason.RECONNECT_TIMEOUT, send_bye=True))

    async def _monitor_loop(self) -> None:
        while not self._ending:
            await asyncio.sleep(self.settings.stats_interval_s)
            self._check_devices()
            if self.state is not CallState.IN_CALL:
                continue
            now = time.monotonic()
            silent = now - self._last_remote["audio"] > self.settings.media_stall_s
            frozen = now - self._last_remote["video"] > self.settings.media_stall_s
            if silent and (frozen or self._remote_state.camera_off or self.audio_only):
                self._incident(IncidentCode.MEDIA_STALLED, seconds=self.settings.media_stall_s)
                self._fresh_monitor_after_stall(now)
                self._start_reconnect()
                continue
            await self._sample_quality()

    def _fresh_monitor_after_stall(self, now: float) -> None:
        """A cut is not a bad line: the next connection starts with a fresh monitor, video on.

        Kept only: an audio-only fallback older than the stall by more than
        `STALL_FALLBACK_GRACE_S` (the line was bad before it went silent).
        """
        stall_began = now - self.settings.media_stall_s
        fell_back = self._quality.audio_only and self._fallback_at is not None
        if fell_back and self._fallback_at is not None:
            if self._fallback_at < stall_began - STALL_FALLBACK_GRACE_S:
                return
        self._restore_on_reconnect = self._quality.audio_only
        self._quality = QualityMonitor()
        self._camera_track.set_format(*_format(self._quality.video_rung))
        if self._video_encoder is not None:
            self._video_encoder.set_cap(self._video_cap())

    def _check_devices(self) -> None:
        for name, track, code in (
            ("camera", self._camera_track, IncidentCode.CAMERA_UNAVAILABLE),
            ("microphone", self._mic_track, IncidentCode.MICROPHONE_UNAVAILABLE),
        ):
            failure = getattr(track, "failure", None)
            if failure is not None and name not in self._reported_device_failures:
                self._reported_device_failures.add(name)
                self._incident(code, reason=failure.reason.value)

    async def _sample_quality(self) -> None:
        pc = self._pc
        if pc is None:
            return
        report = await pc.getStats()
        rtts: list[float] = []
        remote_loss = 0.0
        received = lost = 0
        for stats in report.values():
            if stats.type == "remote-inbound-rtp":
                if stats.roundTripTime:
                    rtts.append(stats.roundTripTime * 1000)
                remote_loss = max(remote_loss, rr_fraction_lost(float(stats.fractionLost)))
            elif stats.type == "inbound-rtp":
                received += stats.packetsReceived
                lost += max(0, stats.packetsLost)
        previous = self._loss_counters
        self._loss_counters = (received, lost)
        self.remote_video.rate()  # read every tick: the next rate is over one interval
        if received == 0 or (previous is not None and received == previous[0]):
            self._quality.feed(None)  # no packet: a cut or a stall, not a bad line
            return
        sample = self._send_side_sample(max(rtts) if rtts else None, remote_loss)
        decision = self._quality.feed(sample)
        if decision.level_changed:
            self.quality_level = decision.level
            self._emit(QualityChanged(decision.level, sample))
            if decision.level is QualityLevel.POOR:
                self._incident(
                    IncidentCode.QUALITY_POOR,
                    loss_pct=round(sample.loss * 100, 1),
                    rtt_ms=round(sample.rtt_ms or 0.0),
                )
        rung = self._quality.video_rung
        if decision.step_down or decision.step_up or decision.restore_video:
            self._camera_track.set_format(*_format(rung))
        if decision.raw is not None and not self._quality.audio_only:  # no video: nothing learnt
            self._send_rate.feed(decision.raw, sample.rtt_ms)
        if self._video_encoder is not None:
            self._video_encoder.set_cap(self._video_cap())
        if decision.step_down:
            self._incident(IncidentCode.VIDEO_REDUCED, **_rung_detail(rung))
        elif decision.step_up:
            self._incident(IncidentCode.VIDEO_RAISED, **_rung_detail(rung))
        if decision.fall_back_to_audio:
            self._fallback_at = time.monotonic()
            self._incident(IncidentCode.AUDIO_ONLY_FALLBACK)
            await self._set_video_sending(False)
        elif decision.restore_video:
            self._incident(IncidentCode.VIDEO_RESTORED, **_rung_detail(rung))
            await self._set_video_sending(True)

    def _video_cap(self) -> int:
        """The VP8 target's cap: the lower of what the rung needs and what the line carries."""
        return min(rung_bitrate(*_format(self._quality.video_rung)), self._send_rate.bps)

    def _send_side_sample(self, rtt_ms: float | None, remote_loss: float) -> QualitySample:
        """The kiosk → doctor direction, which is the one the kiosk's decisions act on.

        RTT comes from RTCP; the frame rate, the freezes and the loss (after
        retransmission, over the whole second) from the console's `ReceiverReport`
        of the last `REPORT_FRESH_S`. Without one (another doctor's client), the
        RTCP receiver reports' loss stands in and the frame rate is not known. The
        receiver reports' per-stream fraction is noisy (a stream with a few
        packets in the report's interval reads 0.3–0.5 on a 10 % line), so it
        does not override the doctor's own count. The kiosk's own decoding of the doctor's video is not
        used: it is the other direction (docs/call-network.md).
        """
        report = self._doctor_report
        fresh = report is not None and time.monotonic() - report[0] <= REPORT_FRESH_S
        if report is None or not fresh:
            return QualitySample(rtt_ms=rtt_ms, loss=remote_loss, fps=None)
        sending_video = not (self.audio_only or self.camera_off)
        seen = report[1]
        fps = seen.fps if sending_video else None
        loss = seen.loss  # after retransmission, over the second: RR fractions per SSRC are noisy
        return QualitySample(rtt_ms=rtt_ms, loss=loss, fps=fps, freeze_s=seen.freeze_s)

    async def _set_video_sending(self, on: bool) -> None:
        if self._video_sender is not None:
            self._video_sender.replaceTrack(self._peer_video if on else None)
        # The otoscope's video follows the face's: audio first on a failing line.
        otoscope = self._exam_senders.get(ExamDevice.OTOSCOPE)
        if otoscope is not None and self._exam_on.get(ExamDevice.OTOSCOPE, False):
            if on:
                self._attach_exam(ExamDevice.OTOSCOPE)
            else:
                otoscope.replaceTrack(None)
        await self._send_media_state()

    # ---- the examination devices (docs/call-exam.md) ----------------------------------

    def _add_exam_transceivers(self, pc: RTCPeerConnection) -> None:
        """One send-only transceiver per device, in the offer from the start (no renegotiation)."""
        self._exam_senders, self._exam_peers = {}, {}
        # aiortc's "balanced" bundling puts a second audio transceiver on the first audio
        # one's transport and marks it bundled, so the BUNDLE answer never moves it to the
        # primary (the video's) and it sends nothing. On the primary from the start.
        primary = pc.getTransceivers()[0].receiver.transport
        for device in self._exam_tracks:
            kind = "audio" if device is ExamDevice.STETHOSCOPE else "video"
            transceiver = pc.addTransceiver(kind, direction="sendonly")
            transceiver.receiver.setTransport(primary)
            transceiver.sender.setTransport(primary)
            if device is ExamDevice.STETHOSCOPE:
                opus_only(transceiver)
                use_exam_encoder(transceiver.sender)
            else:
                transceiver.setCodecPreferences(_vp8_first())
            self._exam_senders[device] = transceiver.sender
            paused = device is ExamDevice.OTOSCOPE and self._quality.audio_only
            if self._exam_on[device] and not paused:
                self._attach_exam(device)

    def _attach_exam(self, device: ExamDevice) -> None:
        sender = self._exam_senders.get(device)
        if sender is None:
            return
        peer = self._exam_peers.get(device)
        if peer is None:
            peer = self._exam_peers[device] = PeerTrack(self._exam_tracks[device])
        else:
            self._exam_tracks[device].resume()
        sender.replaceTrack(peer)

    async def _switch_exam(self, device: ExamDevice, on: bool) -> None:
        """The doctor's switch: open the device and feed its track, or stop and close it."""
        track = self._exam_tracks.get(device)
        if track is None or self._exam_on[device] is on:
            self._send_exam_devices()
            return
        source = self._exam_sources[device]
        if on:
            try:
                await source.open()
            except DeviceUnavailable as exc:
                self._incident(
                    IncidentCode.EXAM_DEVICE_UNAVAILABLE,
                    device=device.value,
                    reason=exc.reason.value,
                )
                self._send_exam_devices()
                return
            track.failure = None
            self._exam_on[device] = True
            self._attach_exam(device)
        else:
            self._exam_on[device] = False
            sender = self._exam_senders.get(device)
            if sender is not None:
                sender.replaceTrack(None)
            if device is ExamDevice.OTOSCOPE:
                self._last_otoscope = None
            try:
                await source.close()
            except Exception as exc:  # a device failing as it closes: it is off all the same
                log.error("exam device close failed (%s)", type(exc).__name__)
        log.info("exam device %s %s", device.value, "on" if on else "off")
        self._emit(ExamDeviceChanged(device.value, on))
        self._send_exam_devices()

    def _keep_otoscope_frame(self, image: Image) -> None:
        self._last_otoscope = image

    async def _take_still(self, request_id: str) -> None:
        """A still from the otoscope's picture under way, kept and acknowledged to the doctor."""
        reason = ""
        if ExamDevice.OTOSCOPE not in self._exam_tracks:
            reason = "no-otoscope"
        elif not self._exam_on[ExamDevice.OTOSCOPE] or self._last_otoscope is None:
            reason = "otoscope-off"
        if reason:
            self._send_peer(m.ExamStillTaken(request_id, accepted=False, reason=reason))
            return
        image = self._last_otoscope
        assert image is not None
        loop = asyncio.get_running_loop()
        try:
            jpeg = await loop.run_in_executor(None, encode_jpeg, image)
        except ValueError:
            self._incident(IncidentCode.EXAM_STILL_FAILED)
            self._send_peer(m.ExamStillTaken(request_id, accepted=False, reason="encode-failed"))
            return
        height, width = image.shape[:2]
        still = ExamStill(
            still_id=f"still-{len(self._stills) + 1}",
            device=ExamDevice.OTOSCOPE,
            jpeg=jpeg,
            width=int(width),
            height=int(height),
            taken_at=datetime.now(tz=UTC),
        )
        self._stills.append(still)
        log.info("exam still taken (%d bytes)", len(jpeg))
        self._emit(ExamStillKept(still, self._session_id))
        self._send_peer(m.ExamStillTaken(request_id, still_id=still.still_id))

    def _send_exam_devices(self) -> None:
        self._send_peer(
            m.ExamDevices(
                stethoscope_mid=self._exam_mids.get(ExamDevice.STETHOSCOPE, ""),
                otoscope_mid=self._exam_mids.get(ExamDevice.OTOSCOPE, ""),
                stethoscope_on=self._exam_on.get(ExamDevice.STETHOSCOPE, False),
                otoscope_on=self._exam_on.get(ExamDevice.OTOSCOPE, False),
            )
        )

    def _send_peer(self, message: m.Message) -> None:
        """On the data channel only: the examination is peer to peer, like the media."""
        if self._channel is not None and self._channel.readyState == "open":
            self._channel.send(m.encode(message))

    async def _send_media_state(self) -> None:
        state = m.MediaState(
            muted=self._mic_track.muted,
            camera_off=not self._camera_track.enabled,
            audio_only=self._quality.audio_only,
        )
        if self._channel is not None and self._channel.readyState == "open":
            self._channel.send(m.encode(state))
        else:
            with contextlib.suppress(SignallingUnavailable):
                await self._signalling.send(state)

    async def _end(self, reason: EndReason, *, send_bye: bool) -> CallEnded:
        if self._ending:
            return await asyncio.shield(self._ended)
        self._ending = True
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        if send_bye:
            bye = m.Bye(reason=reason.value)
            if self._channel is not None and self._channel.readyState == "open":
                self._channel.send(m.encode(bye))
            with contextlib.suppress(SignallingUnavailable):
                await self._signalling.send(bye)
        pc, self._pc = self._pc, None
        self._generation += 1
        if pc is not None:
            await pc.close()
        self._camera_track.stop()
        self._mic_track.stop()
        closers = [self._camera.close, self._microphone.close, self._speaker.close]
        for device, track in self._exam_tracks.items():
            track.stop()
            if self._exam_on[device]:
                self._exam_on[device] = False
                closers.append(self._exam_sources[device].close)
        for closer in closers:
            try:
                await closer()
            except Exception as exc:  # a device that fails while closing must not stop the end
                log.error("device close failed at the end of the call (%s)", type(exc).__name__)
        await self._signalling.close()
        if self._machine.can(Trigger.END):
            self._fire(Trigger.END)
        ended = CallEnded(reason=reason, documents=tuple(self._documents))
        self._emit(ended)
        if not self._ended.done():
            self._ended.set_result(ended)
        # The call's frame buffers back to the system (docs/runtime.md): now, and once the
        # screens have let go of the call (its objects are in cycles: a full collection).
        freed = trim_native_heap()
        asyncio.get_running_loop().call_later(TRIM_AGAIN_S, trim_native_heap)
        log.info("call ended: %s (native heap trimmed: %.1f MiB)", reason.value, freed / 2**20)
        return ended


def _mid_of(pc: RTCPeerConnection, sender: RTCRtpSender) -> str | None:
    for transceiver in pc.getTransceivers():
        if transceiver.sender is sender:
            mid: str | None = transceiver.mid
            return mid
    return None
