"""A scripted doctor for the headless demo: a real aiortc peer logged in like the console.

It speaks the platform's doctor protocol exactly as the console page does
(docs/call.md): `POST /console/api/login`, the doctor's WebSocket, `take`,
then answers the kiosk's offer with its own camera (a drawn picture) and
microphone (a tone), talks on the data channel, sends a document and says
`bye`. Like the console, it can switch the cabin's stethoscope and otoscope on
and off and take a still (docs/call-exam.md); it counts what each device's
own track brings. Why not Chromium here: the headless demo must run on any machine
without a screen in well under two minutes; an in-process peer starts in
milliseconds and cannot be left behind. The integration test drives the
real console in headless Chromium.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

import aiohttp
import cv2
import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription

from app.call import messages as m
from app.call.audio import MicrophoneTrack, ToneMicrophone
from app.call.ice import rtc_configuration
from app.call.video import HEIGHT, WIDTH, CameraTrack, Image
from kiosk_config.schema import IceServer

log = logging.getLogger(__name__)


class DoctorPicture:
    """What the doctor's camera shows: a drawn figure and a caption, gently moving."""

    def __init__(self, caption: str, fps: int = 15) -> None:
        self.width, self.height, self.fps = WIDTH, HEIGHT, fps
        self._caption = caption
        self._n = 0
        self._next = 0.0

    async def open(self) -> None:
        self._next = time.monotonic()

    async def read(self) -> Image:
        delay = self._next - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        self._next = max(self._next + 1 / self.fps, time.monotonic() - 1)
        self._n += 1
        frame = np.full((self.height, self.width, 3), (92, 64, 40), np.uint8)  # BGR: dark blue
        sway = int(12 * np.sin(self._n / 10))
        cx = self.width // 2 + sway
        cv2.ellipse(frame, (cx, 470), (170, 150), 0, 180, 360, (210, 210, 210), -1)  # shoulders
        cv2.circle(frame, (cx, 200), 85, (150, 180, 225), -1)  # face
        cv2.circle(frame, (cx - 30, 185), 9, (60, 40, 30), -1)
        cv2.circle(frame, (cx + 30, 185), 9, (60, 40, 30), -1)
        cv2.ellipse(frame, (cx, 235), (30, 14), 0, 0, 180, (60, 40, 120), 4)
        cv2.putText(
            frame, self._caption, (20, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2
        )
        return frame

    async def close(self) -> None:
        return None


class ScriptedDoctor:
    """One doctor: log in, take the first waiting patient, talk, send documents, hang up."""

    def __init__(
        self,
        base_url: str,
        *,
        login: str = "dr-martin",
        password: str = "password",  # noqa: S107 - the demo account's published password
        ice_servers: tuple[IceServer, ...] = (),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._login, self._password = login, password
        self._ice = ice_servers
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pc: RTCPeerConnection | None = None
        self._channel: Any = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.me: dict[str, Any] = {}
        self.waiting: list[dict[str, Any]] = []
        self.patient: dict[str, Any] = {}
        self.texts: list[str] = []  # what the patient wrote
        self.frames = 0  # the patient's pictures received
        self.kiosk_said_bye = False
        self.exam = m.ExamDevices()  # the cabin's examination devices, as it last said
        self.exam_frames: dict[str, int] = {}  # frames received per examination track (mid)
        self.stills: list[m.ExamStillTaken] = []
        self._stills_asked = 0
        self.changed = asyncio.Event()

    # -- life cycle -------------------------------------------------------------------------

    async def connect(self) -> None:
        self._http = aiohttp.ClientSession()
        async with self._http.post(
            self.base_url + "/console/api/login",
            json={"login": self._login, "password": self._password},
        ) as response:
            body = await response.json()
            if response.status != 200:
                raise RuntimeError(f"The demo doctor could not log in ({response.status}).")
        ws_url = "ws" + self.base_url.removeprefix("http") + "/signalling/doctor"
        self._ws = await self._http.ws_connect(ws_url, params={"token": body["token"]})
        self._reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._pc is not None:
            await self._pc.close()
            self._pc = None
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._http is not None:
            await self._http.close()

    async def until(self, predicate: Any, timeout: float, what: str) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self.changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), 0.25)
        log.debug("demo doctor: %s", what)

    # -- what the doctor does ------------------------------------------------------------------

    async def take_first_waiting(self, timeout: float = 20.0) -> str:
        await self.until(
            lambda: any(p.get("status") == "waiting" for p in self.waiting), timeout, "waiting"
        )
        session_id = next(p["session_id"] for p in self.waiting if p.get("status") == "waiting")
        await self._send_json({"type": "take", "session_id": session_id})
        return str(session_id)

    async def say(self, text: str) -> None:
        await self._peer(m.Text(text=text, sender="doctor"))

    async def send_document(self, kind: str, title: str, text: str, document_id: str) -> None:
        await self._send(m.DocumentMessage(kind, title, text, document_id=document_id))

    async def switch_exam(self, device: str, on: bool) -> None:
        """The console's stethoscope or otoscope button."""
        if device not in ("stethoscope", "otoscope"):
            raise ValueError(f"No examination device {device!r}.")
        await self._peer(
            m.ExamSwitch(device="stethoscope" if device == "stethoscope" else "otoscope", on=on)
        )

    async def take_still(self) -> str:
        """The console's "take a still" button; the answer arrives in `stills`."""
        self._stills_asked += 1
        request_id = f"demo-still-{self._stills_asked}"
        await self._peer(m.ExamStillRequest(request_id))
        return request_id

    def exam_received(self, device: str) -> int:
        """Frames (video) or 20 ms blocks (audio) received on that device's track."""
        mid = self.exam.stethoscope_mid if device == "stethoscope" else self.exam.otoscope_mid
        return self.exam_frames.get(mid, 0) if mid else 0

    async def hang_up(self) -> None:
        await self._peer(m.Bye(reason="doctor-hung-up"))

    @property
    def channel_open(self) -> bool:
        return self._channel is not None and self._channel.readyState == "open"

    # -- wire --------------------------------------------------------------------------------

    async def _send_json(self, payload: dict[str, Any]) -> None:
        assert self._ws is not None
        await self._ws.send_str(json.dumps(payload))

    async def _send(self, message: m.Message) -> None:
        assert self._ws is not None
        await self._ws.send_str(m.encode(message))

    async def _peer(self, message: m.Message) -> None:
        """Over the data channel when open (as the console does), else through the platform."""
        if self.channel_open:
            self._channel.send(m.encode(message))
        else:
            await self._send(message)

    async def _read(self) -> None:
        assert self._ws is not None
        async for msg in self._ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                continue
            try:
                data = json.loads(msg.data)
                await self._on(data, msg.data)
            except Exception as exc:  # one bad message must not end the demo doctor
                log.warning("demo doctor: message refused (%s)", type(exc).__name__)
            self.changed.set()

    async def _on(self, data: dict[str, Any], raw: str) -> None:
        kind = data.get("type")
        if kind == "me":
            self.me = data.get("doctor", {})
        elif kind == "waiting":
            self.waiting = list(data.get("patients", []))
        elif kind == "patient":
            self.patient = data
        elif kind == "offer":
            await self._answer(m.decode(raw))
        elif kind == "text":
            self.texts.append(str(data.get("text", "")))
        elif kind == "bye":
            self.kiosk_said_bye = True

    async def _answer(self, offer: m.Message) -> None:
        assert isinstance(offer, m.Offer)
        if self._pc is not None:
            await self._pc.close()
        pc = RTCPeerConnection(rtc_configuration(self._ice))
        self._pc = pc

        @pc.on("track")
        def on_track(track: Any) -> None:
            mid = next((t.mid for t in pc.getTransceivers() if t.receiver.track is track), None)
            first = next((t for t in pc.getTransceivers() if t.kind == track.kind), None)
            if first is not None and first.receiver.track is not track and mid is not None:
                self._spawn(self._count_exam(track, mid))  # a further m-line: a device
            elif track.kind == "video":
                self._spawn(self._count_frames(track))

        @pc.on("datachannel")
        def on_channel(channel: Any) -> None:
            self._channel = channel

            @channel.on("message")  # type: ignore[untyped-decorator]
            def on_message(data: Any) -> None:
                if isinstance(data, str):
                    with contextlib.suppress(Exception):
                        message = m.decode(data)
                        if isinstance(message, m.Text):
                            self.texts.append(message.text)
                        elif isinstance(message, m.Bye):
                            self.kiosk_said_bye = True
                        elif isinstance(message, m.ExamDevices):
                            self.exam = message
                        elif isinstance(message, m.ExamStillTaken):
                            self.stills.append(message)
                self.changed.set()

        await pc.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
        # aiortc's "balanced" bundling leaves a second audio (the stethoscope) on the first
        # audio's transport, which BUNDLE discards: every m-line on the primary one.
        primary = pc.getTransceivers()[0].receiver.transport
        for transceiver in pc.getTransceivers()[1:]:
            if transceiver.receiver.transport is not primary:
                transceiver.receiver.setTransport(primary)
                transceiver.sender.setTransport(primary)
        camera = DoctorPicture(str(self.me.get("name", "Doctor")) + " (demo)")
        await camera.open()
        microphone = ToneMicrophone(frequency=330.0, amplitude=0.1)
        await microphone.open()
        pc.addTrack(CameraTrack(camera))  # aiortc reuses the offered transceivers
        pc.addTrack(MicrophoneTrack(microphone))
        await pc.setLocalDescription(await pc.createAnswer())
        await self._send(m.Answer(sdp=pc.localDescription.sdp))

    async def _count_frames(self, track: Any) -> None:
        with contextlib.suppress(Exception):
            while True:
                await track.recv()
                self.frames += 1
                if self.frames % 10 == 1:
                    self.changed.set()

    async def _count_exam(self, track: Any, mid: str) -> None:
        with contextlib.suppress(Exception):
            while True:
                await track.recv()
                self.exam_frames[mid] = self.exam_frames.get(mid, 0) + 1
                if self.exam_frames[mid] % 10 == 1:
                    self.changed.set()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
