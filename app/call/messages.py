"""The signalling and data-channel message schema, as a pure codec.

Sans-I/O in the h11 manner: ``decode(text)`` turns one WebSocket or data
channel message into a frozen dataclass or raises SignallingProtocolError, and
``encode(message)`` gives the JSON text back. The WebSocket client, the data
channel handler and the reference platform all go through this one module, so
the schema documented in docs/call.md is the one that runs.

Every message is a JSON object with a ``type``. Unknown fields are ignored (a
newer platform may add some); unknown types are an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from app.call.errors import SignallingErrorReason, SignallingProtocolError

MAX_MESSAGE_CHARS = 8 * 1024 * 1024
"""A PDF prescription in base64 fits well under this; anything larger is refused."""

MAX_TEXT_CHARS = 2000
"""A chat line; longer text is a report and goes as a document."""

_RPPS = re.compile(r"^\d{11}$")
_SESSION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class DoctorIdentity:
    """Who the platform says the doctor is; shown to the patient before any video."""

    name: str
    rpps: str
    specialty: str

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise SignallingProtocolError(
                SignallingErrorReason.BAD_FIELD, "The doctor's name is empty.", remote=False
            )
        if not _RPPS.fullmatch(self.rpps):
            raise SignallingProtocolError(
                SignallingErrorReason.BAD_FIELD,
                f"The doctor's RPPS number must be 11 digits, not {len(self.rpps)} characters.",
                remote=False,
            )
        if not self.specialty.strip():
            raise SignallingProtocolError(
                SignallingErrorReason.BAD_FIELD, "The doctor's specialty is empty.", remote=False
            )

    def to_json(self) -> JsonObject:
        return {"name": self.name, "rpps": self.rpps, "specialty": self.specialty}


@dataclass(frozen=True)
class Hello:
    """The kiosk announces a session to the waiting list (kiosk → platform)."""

    session_id: str
    cabin_id: str
    summary: JsonObject = field(default_factory=dict, repr=False)  # patient facts
    type: Literal["hello"] = "hello"


@dataclass(frozen=True)
class SummaryUpdate:
    """New facts for the doctor's patient panel, merged key by key (kiosk → platform)."""

    patch: JsonObject = field(repr=False)  # patient facts
    type: Literal["summary"] = "summary"


@dataclass(frozen=True)
class Welcome:
    """The platform has put the session in the waiting list (platform → kiosk)."""

    session_id: str
    type: Literal["welcome"] = "welcome"


@dataclass(frozen=True)
class DoctorJoined:
    """A logged-in doctor took the patient; the identity is the platform's assertion."""

    doctor: DoctorIdentity
    resume: bool = False  # her console re-took the patient with its peer connection still up
    type: Literal["doctor"] = "doctor"


@dataclass(frozen=True)
class PeerLeft:
    """The other side's signalling connection went away (page closed, network)."""

    role: Literal["doctor", "kiosk"]
    type: Literal["peer-left"] = "peer-left"


@dataclass(frozen=True)
class Offer:
    sdp: str
    restart: bool = False
    type: Literal["offer"] = "offer"


@dataclass(frozen=True)
class Answer:
    sdp: str
    type: Literal["answer"] = "answer"


@dataclass(frozen=True)
class Candidate:
    """A trickled ICE candidate; ``candidate`` None means end of candidates."""

    candidate: str | None
    sdp_mid: str | None = None
    sdp_mline_index: int | None = None
    type: Literal["candidate"] = "candidate"


@dataclass(frozen=True)
class Bye:
    """The call is over for the sender; ``reason`` is a short code, never free text."""

    reason: str = "hangup"
    type: Literal["bye"] = "bye"


@dataclass(frozen=True)
class Text:
    """A chat line, for hard-of-hearing patients (data channel, or signalling as fallback)."""

    text: str = field(repr=False)  # free text: may say anything about the patient
    sender: Literal["doctor", "patient"]
    type: Literal["text"] = "text"


@dataclass(frozen=True)
class MediaState:
    """What the sender is sending, so the other side can say "micro coupé" etc."""

    muted: bool = False
    camera_off: bool = False
    audio_only: bool = False
    type: Literal["media"] = "media"


@dataclass(frozen=True)
class DocumentMessage:
    """A document issued by the doctor (report or prescription); checked in documents.py."""

    kind: str
    title: str = field(repr=False)
    text: str | None = field(default=None, repr=False)
    pdf_base64: str | None = field(default=None, repr=False)
    document_id: str = ""
    type: Literal["document"] = "document"


@dataclass(frozen=True)
class DocumentAck:
    """The kiosk got a document (or refused it, with a reason code): kiosk → platform → doctor.

    Why: the doctor's console says "(envoyé)" only when the patient's kiosk
    really has the document, not when the doctor's browser sent it (the
    kiosk's socket may be down, the document may fail its checks).
    """

    document_id: str
    accepted: bool = True
    reason: str = ""  # a DocumentErrorReason value when refused, never free text
    type: Literal["document-ack"] = "document-ack"


@dataclass(frozen=True)
class ExamSwitch:
    """The doctor switches an examination device on or off (console → kiosk, data channel)."""

    device: Literal["stethoscope", "otoscope"]
    on: bool
    type: Literal["exam-switch"] = "exam-switch"


@dataclass(frozen=True)
class ExamStillRequest:
    """The doctor asks for a still from the otoscope (console → kiosk, data channel)."""

    request_id: str
    type: Literal["exam-still"] = "exam-still"


@dataclass(frozen=True)
class ExamDevices:
    """Which examination devices the cabin has, the mid of each one's track, and what is on.

    Kiosk → console on the data channel, at its opening and after each switch:
    the console routes the tracks by mid (docs/call-exam.md). An empty mid: no device.
    """

    stethoscope_mid: str = ""
    otoscope_mid: str = ""
    stethoscope_on: bool = False
    otoscope_on: bool = False
    type: Literal["exam-devices"] = "exam-devices"


@dataclass(frozen=True)
class ExamStillTaken:
    """The kiosk took (and keeps) a still, or could not: a reason code, never free text."""

    request_id: str
    still_id: str = ""
    accepted: bool = True
    reason: str = ""
    type: Literal["exam-still-taken"] = "exam-still-taken"


@dataclass(frozen=True)
class ReceiverReport:
    """What the doctor's browser receives of the kiosk's video, each second (console → kiosk).

    Why: the kiosk decides what it *sends* (the video ladder, audio-only) on
    what the doctor *sees*. Its own decoder's frame rate says nothing about the
    kiosk → doctor direction, and aiortc's receiver decodes far fewer frames
    than Chromium on the same lossy line (docs/call-network.md), so judging by
    it dropped the kiosk's video where a browser keeps it.
    `fps`: frames decoded per second over the last interval, None when the
    console expects no video; `loss`: the video's packet loss over the
    interval, 0..1; `freeze_s`: seconds of freeze Chromium counted in it.
    """

    fps: float | None
    loss: float = 0.0
    freeze_s: float = 0.0
    type: Literal["receiver-report"] = "receiver-report"


@dataclass(frozen=True)
class ErrorMessage:
    code: str
    message: str = ""
    type: Literal["error"] = "error"


Message = (
    Hello
    | SummaryUpdate
    | Welcome
    | DoctorJoined
    | PeerLeft
    | Offer
    | Answer
    | Candidate
    | Bye
    | Text
    | MediaState
    | DocumentMessage
    | DocumentAck
    | ExamSwitch
    | ExamStillRequest
    | ExamDevices
    | ExamStillTaken
    | ReceiverReport
    | ErrorMessage
)


def _fail(reason: SignallingErrorReason, message: str) -> SignallingProtocolError:
    return SignallingProtocolError(reason, message, remote=True)


def _str(obj: Mapping[str, Any], key: str, kind: str, *, optional: bool = False) -> Any:
    if key not in obj or obj[key] is None:
        if optional:
            return None
        raise _fail(
            SignallingErrorReason.MISSING_FIELD, f"A '{kind}' message needs the field '{key}'."
        )
    value = obj[key]
    if not isinstance(value, str):
        raise _fail(
            SignallingErrorReason.BAD_FIELD,
            f"The field '{key}' of a '{kind}' message must be text, not {type(value).__name__}.",
        )
    return value


def _bool(obj: Mapping[str, Any], key: str, kind: str) -> bool:
    value = obj.get(key, False)
    if not isinstance(value, bool):
        raise _fail(
            SignallingErrorReason.BAD_FIELD,
            f"The field '{key}' of a '{kind}' message must be true or false.",
        )
    return value


def _object(obj: Mapping[str, Any], key: str, kind: str, *, default: bool = False) -> JsonObject:
    if key not in obj and default:
        return {}
    value = obj.get(key)
    if not isinstance(value, dict):
        raise _fail(
            SignallingErrorReason.BAD_FIELD if key in obj else SignallingErrorReason.MISSING_FIELD,
            f"The field '{key}' of a '{kind}' message must be an object.",
        )
    return value


def _session_id(obj: Mapping[str, Any], kind: str) -> str:
    value: str = _str(obj, "session_id", kind)
    if not _SESSION_ID.fullmatch(value):
        raise _fail(
            SignallingErrorReason.BAD_FIELD,
            f"The session id of a '{kind}' message is not a valid id ({len(value)} characters).",
        )
    return value


def _doctor(obj: Mapping[str, Any]) -> DoctorJoined:
    raw = _object(obj, "doctor", "doctor")
    name, rpps, specialty = (_str(raw, k, "doctor") for k in ("name", "rpps", "specialty"))
    try:
        identity = DoctorIdentity(name=name, rpps=rpps, specialty=specialty)
    except SignallingProtocolError as exc:
        raise _fail(exc.reason, str(exc)) from None
    return DoctorJoined(identity, resume=_bool(obj, "resume", "doctor"))


def _candidate(obj: Mapping[str, Any]) -> Candidate:
    index = obj.get("sdpMLineIndex")
    if index is not None and (type(index) is not int or index < 0):
        raise _fail(
            SignallingErrorReason.BAD_FIELD,
            "The field 'sdpMLineIndex' of a 'candidate' message must be a whole number.",
        )
    return Candidate(
        candidate=_str(obj, "candidate", "candidate", optional=True),
        sdp_mid=_str(obj, "sdpMid", "candidate", optional=True),
        sdp_mline_index=index,
    )


def _text(obj: Mapping[str, Any]) -> Text:
    text: str = _str(obj, "text", "text")
    sender = _str(obj, "sender", "text")
    if sender not in ("doctor", "patient"):
        raise _fail(
            SignallingErrorReason.BAD_FIELD,
            "The sender of a 'text' message must be 'doctor' or 'patient'.",
        )
    if len(text) > MAX_TEXT_CHARS:
        raise _fail(
            SignallingErrorReason.TOO_LARGE,
            f"A chat line may hold {MAX_TEXT_CHARS} characters, not {len(text)}.",
        )
    return Text(text=text, sender=sender)


def _exam_switch(obj: Mapping[str, Any]) -> ExamSwitch:
    device = _str(obj, "device", "exam-switch")
    if device not in ("stethoscope", "otoscope"):
        raise _fail(
            SignallingErrorReason.BAD_FIELD,
            "The device of an 'exam-switch' message must be 'stethoscope' or 'otoscope'.",
        )
    if "on" not in obj:
        raise _fail(
            SignallingErrorReason.MISSING_FIELD, "An 'exam-switch' message needs the field 'on'."
        )
    return ExamSwitch(device=device, on=_bool(obj, "on", "exam-switch"))


def _request_id(obj: Mapping[str, Any], kind: str) -> str:
    value: str = _str(obj, "request_id", kind)
    if not _SESSION_ID.fullmatch(value):
        raise _fail(
            SignallingErrorReason.BAD_FIELD,
            f"The request id of a '{kind}' message is not a valid id ({len(value)} characters).",
        )
    return value


def _number(
    obj: Mapping[str, Any], key: str, kind: str, *, low: float, high: float, optional: bool = False
) -> float | None:
    """A number within [low, high]; None only when optional and absent or null."""
    value = obj.get(key)
    if value is None:
        if optional:
            return None
        value = low
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _fail(
            SignallingErrorReason.BAD_FIELD,
            f"The field '{key}' of a '{kind}' message must be a number from {low:g} to {high:g}.",
        )
    return float(value)


def _receiver_report(obj: Mapping[str, Any]) -> ReceiverReport:
    kind = "receiver-report"
    loss = _number(obj, "loss", kind, low=0.0, high=1.0)
    freeze = _number(obj, "freeze_s", kind, low=0.0, high=3600.0)
    return ReceiverReport(
        fps=_number(obj, "fps", kind, low=0.0, high=240.0, optional=True),
        loss=loss or 0.0,
        freeze_s=freeze or 0.0,
    )


def _peer_left(obj: Mapping[str, Any]) -> PeerLeft:
    role = _str(obj, "role", "peer-left")
    if role not in ("doctor", "kiosk"):
        raise _fail(
            SignallingErrorReason.BAD_FIELD,
            "The role of a 'peer-left' message must be 'doctor' or 'kiosk'.",
        )
    return PeerLeft(role=role)


_DECODERS: dict[str, Callable[[Mapping[str, Any]], Message]] = {
    "hello": lambda o: Hello(
        session_id=_session_id(o, "hello"),
        cabin_id=_str(o, "cabin_id", "hello"),
        summary=_object(o, "summary", "hello", default=True),
    ),
    "summary": lambda o: SummaryUpdate(patch=_object(o, "patch", "summary")),
    "welcome": lambda o: Welcome(session_id=_session_id(o, "welcome")),
    "doctor": _doctor,
    "peer-left": _peer_left,
    "offer": lambda o: Offer(sdp=_str(o, "sdp", "offer"), restart=_bool(o, "restart", "offer")),
    "answer": lambda o: Answer(sdp=_str(o, "sdp", "answer")),
    "candidate": _candidate,
    "bye": lambda o: Bye(reason=_str(o, "reason", "bye", optional=True) or "hangup"),
    "text": _text,
    "media": lambda o: MediaState(
        muted=_bool(o, "muted", "media"),
        camera_off=_bool(o, "camera_off", "media"),
        audio_only=_bool(o, "audio_only", "media"),
    ),
    "document": lambda o: DocumentMessage(
        kind=_str(o, "kind", "document"),
        title=_str(o, "title", "document"),
        text=_str(o, "text", "document", optional=True),
        pdf_base64=_str(o, "pdf_base64", "document", optional=True),
        document_id=_str(o, "document_id", "document", optional=True) or "",
    ),
    "document-ack": lambda o: DocumentAck(
        document_id=_str(o, "document_id", "document-ack"),
        accepted=_bool(o, "accepted", "document-ack") if "accepted" in o else True,
        reason=_str(o, "reason", "document-ack", optional=True) or "",
    ),
    "exam-switch": _exam_switch,
    "exam-still": lambda o: ExamStillRequest(request_id=_request_id(o, "exam-still")),
    "exam-devices": lambda o: ExamDevices(
        stethoscope_mid=_str(o, "stethoscope_mid", "exam-devices", optional=True) or "",
        otoscope_mid=_str(o, "otoscope_mid", "exam-devices", optional=True) or "",
        stethoscope_on=_bool(o, "stethoscope_on", "exam-devices"),
        otoscope_on=_bool(o, "otoscope_on", "exam-devices"),
    ),
    "exam-still-taken": lambda o: ExamStillTaken(
        request_id=_request_id(o, "exam-still-taken"),
        still_id=_str(o, "still_id", "exam-still-taken", optional=True) or "",
        accepted=_bool(o, "accepted", "exam-still-taken") if "accepted" in o else True,
        reason=_str(o, "reason", "exam-still-taken", optional=True) or "",
    ),
    "receiver-report": _receiver_report,
    "error": lambda o: ErrorMessage(
        code=_str(o, "code", "error"), message=_str(o, "message", "error", optional=True) or ""
    ),
}

MESSAGE_TYPES: frozenset[str] = frozenset(_DECODERS)


def decode(raw: str | bytes) -> Message:
    """One message from the wire; raises only SignallingProtocolError."""
    if len(raw) > MAX_MESSAGE_CHARS:
        raise _fail(
            SignallingErrorReason.TOO_LARGE,
            f"A signalling message may hold {MAX_MESSAGE_CHARS} characters, not {len(raw)}.",
        )
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError):
        raise _fail(
            SignallingErrorReason.NOT_JSON,
            f"A signalling message of {len(raw)} characters is not JSON.",
        ) from None
    if not isinstance(obj, dict):
        raise _fail(
            SignallingErrorReason.NOT_AN_OBJECT,
            f"A signalling message must be a JSON object, not {type(obj).__name__}.",
        )
    kind = obj.get("type")
    if not isinstance(kind, str) or kind not in _DECODERS:
        shown = kind if isinstance(kind, str) and len(kind) <= 32 else type(kind).__name__
        raise _fail(
            SignallingErrorReason.UNKNOWN_TYPE, f"The signalling message type '{shown}' is unknown."
        )
    return _DECODERS[kind](obj)


def to_json(message: Message) -> JsonObject:
    """The JSON object of a message, with the wire's field names."""
    if isinstance(message, DoctorJoined):
        joined: JsonObject = {"type": message.type, "doctor": message.doctor.to_json()}
        if message.resume:
            joined["resume"] = True
        return joined
    if isinstance(message, Candidate):
        return {
            "type": message.type,
            "candidate": message.candidate,
            "sdpMid": message.sdp_mid,
            "sdpMLineIndex": message.sdp_mline_index,
        }
    out: JsonObject = {"type": message.type}
    for name in message.__dataclass_fields__:
        if name != "type":
            out[name] = getattr(message, name)
    return out


def encode(message: Message) -> str:
    return json.dumps(to_json(message), ensure_ascii=False, separators=(",", ":"))
