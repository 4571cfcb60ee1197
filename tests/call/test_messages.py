"""The signalling schema codec: round trips, exact errors, and fuzzing."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.call import messages as m
from app.call.errors import SignallingErrorReason, SignallingProtocolError

MARTIN = m.DoctorIdentity("Dr Claire Martin", "10003456789", "Médecine générale")

EXAMPLES: list[m.Message] = [
    m.Hello("DEMO-CAB-01-s1", "DEMO-CAB-01", {"identity": {"status": "QUAL"}}),
    m.SummaryUpdate({"measurements": [{"kind": "spo2", "value": 97}]}),
    m.Welcome("DEMO-CAB-01-s1"),
    m.DoctorJoined(MARTIN),
    m.PeerLeft("doctor"),
    m.Offer("v=0\r\n", restart=True),
    m.Answer("v=0\r\n"),
    m.Candidate("candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host", "0", 0),
    m.Candidate(None),
    m.Bye("reconnect-timeout"),
    m.Text("Bonjour", "doctor"),
    m.MediaState(muted=True, camera_off=False, audio_only=True),
    m.DocumentMessage("report", "Compte rendu", text="RAS", document_id="d1"),
    m.ErrorMessage("hello-expected", "Send 'hello' first."),
    m.DocumentAck("d1"),
    m.DocumentAck("d2", accepted=False, reason="not-a-pdf"),
    m.DoctorJoined(MARTIN, resume=True),
    m.ExamSwitch("stethoscope", on=True),
    m.ExamSwitch("otoscope", on=False),
    m.ExamStillRequest("DEMO-CAB-01-s1-still-1"),
    m.ExamDevices(stethoscope_mid="2", otoscope_mid="3", stethoscope_on=True),
    m.ExamStillTaken("r1", still_id="still-1"),
    m.ExamStillTaken("r2", accepted=False, reason="otoscope-off"),
    m.ReceiverReport(fps=29.5, loss=0.02, freeze_s=0.4),
    m.ReceiverReport(fps=None),
]


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda x: f"{x.type}-{EXAMPLES.index(x)}")
def test_round_trip(message: m.Message) -> None:
    assert m.decode(m.encode(message)) == message


def test_doctor_wire_form() -> None:
    assert json.loads(m.encode(m.DoctorJoined(MARTIN))) == {
        "type": "doctor",
        "doctor": {
            "name": "Dr Claire Martin",
            "rpps": "10003456789",
            "specialty": "Médecine générale",
        },
    }


@pytest.mark.parametrize(
    ("raw", "reason", "text"),
    [
        ("{", SignallingErrorReason.NOT_JSON, "A signalling message of 1 characters is not JSON."),
        (
            "[1]",
            SignallingErrorReason.NOT_AN_OBJECT,
            "A signalling message must be a JSON object, not list.",
        ),
        (
            '{"type": "dance"}',
            SignallingErrorReason.UNKNOWN_TYPE,
            "The signalling message type 'dance' is unknown.",
        ),
        (
            '{"type": 3}',
            SignallingErrorReason.UNKNOWN_TYPE,
            "The signalling message type 'int' is unknown.",
        ),
        (
            '{"type": "offer"}',
            SignallingErrorReason.MISSING_FIELD,
            "A 'offer' message needs the field 'sdp'.",
        ),
        (
            '{"type": "offer", "sdp": "x", "restart": "yes"}',
            SignallingErrorReason.BAD_FIELD,
            "The field 'restart' of a 'offer' message must be true or false.",
        ),
        (
            '{"type": "text", "text": "a", "sender": "nurse"}',
            SignallingErrorReason.BAD_FIELD,
            "The sender of a 'text' message must be 'doctor' or 'patient'.",
        ),
        (
            '{"type": "doctor", "doctor": {"name": "Dr X", "rpps": "123", "specialty": "MG"}}',
            SignallingErrorReason.BAD_FIELD,
            "The doctor's RPPS number must be 11 digits, not 3 characters.",
        ),
        (
            '{"type": "hello", "session_id": "../etc", "cabin_id": "c"}',
            SignallingErrorReason.BAD_FIELD,
            "The session id of a 'hello' message is not a valid id (6 characters).",
        ),
        (
            '{"type": "candidate", "candidate": "c", "sdpMLineIndex": -1}',
            SignallingErrorReason.BAD_FIELD,
            "The field 'sdpMLineIndex' of a 'candidate' message must be a whole number.",
        ),
        (
            '{"type": "receiver-report", "fps": -1, "loss": 0}',
            SignallingErrorReason.BAD_FIELD,
            "The field 'fps' of a 'receiver-report' message must be a number from 0 to 240.",
        ),
        (
            '{"type": "receiver-report", "fps": 20, "loss": true}',
            SignallingErrorReason.BAD_FIELD,
            "The field 'loss' of a 'receiver-report' message must be a number from 0 to 1.",
        ),
        (
            '{"type": "receiver-report", "fps": 20, "loss": NaN}',
            SignallingErrorReason.BAD_FIELD,
            "The field 'loss' of a 'receiver-report' message must be a number from 0 to 1.",
        ),
        (
            '{"type": "summary", "patch": []}',
            SignallingErrorReason.BAD_FIELD,
            "The field 'patch' of a 'summary' message must be an object.",
        ),
    ],
)
def test_errors_are_typed_and_whole_sentences(
    raw: str, reason: SignallingErrorReason, text: str
) -> None:
    with pytest.raises(SignallingProtocolError) as caught:
        m.decode(raw)
    assert caught.value.reason is reason
    assert str(caught.value) == text
    assert caught.value.remote is True


def test_too_long_text_is_refused() -> None:
    with pytest.raises(
        SignallingProtocolError, match="A chat line may hold 2000 characters, not 2001."
    ):
        m.decode(json.dumps({"type": "text", "text": "a" * 2001, "sender": "patient"}))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_decodes_or_raises_the_typed_error(raw: str) -> None:
    try:
        m.decode(raw)
    except SignallingProtocolError:
        pass


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(sorted(m.MESSAGE_TYPES)),
    st.dictionaries(
        st.sampled_from(
            [
                "sdp",
                "restart",
                "session_id",
                "cabin_id",
                "summary",
                "patch",
                "doctor",
                "role",
                "candidate",
                "sdpMid",
                "sdpMLineIndex",
                "reason",
                "text",
                "sender",
                "muted",
                "kind",
                "title",
                "pdf_base64",
                "document_id",
                "code",
                "message",
            ]
        ),
        json_values,
        max_size=6,
    ),
)
def test_any_object_of_a_known_type_decodes_or_raises_the_typed_error(
    kind: str, fields: dict[str, object]
) -> None:
    try:
        message = m.decode(json.dumps({"type": kind, **fields}))
    except SignallingProtocolError:
        return
    assert m.decode(m.encode(message)) == message


def test_document_ack_and_resume_wire_forms() -> None:
    assert json.loads(m.encode(m.DocumentAck("d1"))) == {
        "type": "document-ack",
        "document_id": "d1",
        "accepted": True,
        "reason": "",
    }
    assert m.decode('{"type": "document-ack", "document_id": "d1"}') == m.DocumentAck("d1")
    # An older platform's "doctor" message has no resume: a fresh offer, as before.
    assert "resume" not in json.loads(m.encode(m.DoctorJoined(MARTIN)))
    assert json.loads(m.encode(m.DoctorJoined(MARTIN, resume=True)))["resume"] is True


def test_exam_messages_refuse_unknown_devices_and_missing_switches() -> None:
    for raw in (
        '{"type": "exam-switch", "device": "ecg", "on": true}',
        '{"type": "exam-switch", "device": "otoscope"}',
        '{"type": "exam-still", "request_id": "a b"}',
        '{"type": "exam-still", "request_id": "r1\\n"}',  # "$" let a trailing newline in
        '{"type": "welcome", "session_id": "s1\\n"}',
    ):
        with pytest.raises(SignallingProtocolError):
            m.decode(raw)
