"""The trace of the act (CSP R.6316-4): who did what, when, and what went wrong.

Why it holds no health value: the trace is read by support staff and sent
with the act; it refers to measurements, documents and consents by their id,
and the values themselves live in their own encrypted records. An incident
carries a code (to count and sort them) and a plain message written for a
person, never a stack trace.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime

from app.domain.errors import DomainError


class TraceKind(enum.StrEnum):
    SESSION_STARTED = "session-started"
    EMERGENCY_CHECK_DONE = "emergency-check-done"
    INFORMATION_GIVEN = "information-given"
    IDENTIFICATION = "identification"  # card, QR or manual entry: identity obtained
    IDENTITY_CONFIRMED = "identity-confirmed"  # by the patient
    IDENTITY_REFUSED = "identity-refused"  # the patient said "this is not me"
    CONSENT_GRANTED = "consent-granted"
    CONSENT_REFUSED = "consent-refused"
    CONSENT_WITHDRAWN = "consent-withdrawn"
    ORIENTATION_ANSWERED = "orientation-answered"
    VISIT_REASON_GIVEN = "visit-reason-given"  # subject "given" or "left-to-the-doctor", no words
    MEASUREMENT_TAKEN = "measurement-taken"
    MEASUREMENT_SKIPPED = "measurement-skipped"
    MEASUREMENT_REFUSED = "measurement-refused"  # implausible reading, not kept
    CALL_STARTED = "call-started"
    CALL_ENDED = "call-ended"
    DOCUMENT_RECEIVED = "document-received"
    PAYMENT = "payment"
    INCIDENT = "incident"
    STOP = "stop"
    ABANDON = "abandon"  # inactivity
    EMERGENCY_EXIT = "emergency-exit"
    WIPE = "wipe"
    ASSISTANT_SIGNED_IN = "assistant-signed-in"  # actor: the professional; subject: the purpose
    ASSISTANT_SIGNED_OUT = (
        "assistant-signed-out"  # subject: act-done, idle, signed-out, session-end
    )
    # The patient's help call to the people on site (issue 15; docs/onsite.md): subject the
    # call id, message the client's detail (where it reached, by whom, why it ended).
    HELP_CALLED = "help-called"
    HELP_ACKNOWLEDGED = "help-acknowledged"
    HELP_ENDED = "help-ended"
    # The cabin made ready between patients (actor: the staff member's account). It falls
    # between sessions: the store's audit keeps it (`preparation.confirmed`), named here so
    # the platform's code system knows the act.
    PREPARATION_CONFIRMED = "preparation-confirmed"
    # The doctor took a still from the cabin's examination camera during the call (issue 17;
    # docs/call-exam.md): actor the doctor, subject the still's id, message the device. The
    # picture is a document of the session, never in the trace; a still that could not be
    # kept in the store is followed by an EXAM_STILL_NOT_KEPT incident naming the same id.
    EXAM_STILL_TAKEN = "exam-still-taken"


class ActorKind(enum.StrEnum):
    PATIENT = "patient"
    ASSISTANT = "assistant"  # a pharmacist or nurse, by account id
    DOCTOR = "doctor"  # by RPPS number
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    id: str | None = None  # account id (assistant) or RPPS (doctor)


PATIENT = Actor(ActorKind.PATIENT)
SYSTEM = Actor(ActorKind.SYSTEM)


class IncidentCode(enum.StrEnum):
    PLATFORM_UNREACHABLE = "platform-unreachable"
    DEVICE_FAILED = "device-failed"
    CALL_DROPPED = "call-dropped"
    CARD_REMOVED = "card-removed"
    CARD_ERROR = "card-error"
    IDENTITY_REFUSED_IN_PRODUCTION = "identity-refused-in-production"
    STORE_FAILED = "store-failed"
    SOFTWARE_FAULT = "software-fault"
    KIOSK_RESTARTED = "kiosk-restarted"
    CALL_QUALITY_POOR = "call-quality-poor"
    CALL_AUDIO_ONLY = "call-audio-only"
    CALL_RECONNECTING = "call-reconnecting"
    CALL_RECONNECTED = "call-reconnected"
    CALL_VIDEO_REDUCED = "call-video-reduced"
    CALL_VIDEO_RESTORED = "call-video-restored"
    CALL_SIGNALLING_LOST = "call-signalling-lost"
    CALL_MEDIA_CHECK_FAILED = "call-media-check-failed"
    UI_ERROR = "ui-error"  # the screen met an unexpected error and showed the calm screen
    SPEECH_FAILED = "speech-failed"  # reading aloud could not render the words
    AUDIO_FAILED = "audio-failed"  # the words were rendered but could not be played
    CHAT_SEND_FAILED = "chat-send-failed"  # a text line to the doctor could not be sent
    INSI_UNAVAILABLE = "insi-unavailable"  # INSi could not be asked (network, platform, INSi)
    INSI_MISMATCH = "insi-mismatch"  # INSi knows the NIR but the traits differ
    INSI_SEVERAL_CANDIDATES = "insi-several-candidates"  # INSi found several people
    INSI_REFUSED = "insi-refused"  # INSi refused the query or gave an unusable answer
    CARD_CHANGED = "card-changed"  # another card than the session's was put in the reader
    CARD_LEFT_IN_READER = "card-left-in-reader"  # the session closed with the card still in
    WAIT_TOO_LONG = "wait-too-long"  # no doctor within the site's maximum wait
    PRINTER_OUT_OF_PAPER = "printer-out-of-paper"  # the cabin's printer has no paper
    PRINTER_OFFLINE = "printer-offline"  # the printer is off, stopped or unreachable
    PRINT_FAILED = "print-failed"  # a print job was aborted or did not finish in time
    EXAM_STILL_NOT_KEPT = "exam-still-not-kept"  # a still the doctor took is not in the store


INCIDENT_MESSAGES: dict[IncidentCode, str] = {
    IncidentCode.PLATFORM_UNREACHABLE: "The teleconsultation platform could not be reached.",
    IncidentCode.DEVICE_FAILED: "A measuring device failed or did not answer.",
    IncidentCode.CALL_DROPPED: "The video call was interrupted.",
    IncidentCode.CARD_REMOVED: "The card was taken out of the reader during the session.",
    IncidentCode.CARD_ERROR: "The card could not be read.",
    IncidentCode.IDENTITY_REFUSED_IN_PRODUCTION: (
        "A test identity was presented to a cabin in production and refused."
    ),
    IncidentCode.STORE_FAILED: "The local encrypted store could not record data.",
    IncidentCode.SOFTWARE_FAULT: (
        "An unexpected software error occurred; the session was closed safely."
    ),
    IncidentCode.KIOSK_RESTARTED: (
        "The kiosk restarted during the session; what was recorded was kept and sent."
    ),
    IncidentCode.CALL_QUALITY_POOR: "The call quality became poor.",
    IncidentCode.CALL_AUDIO_ONLY: "The call went on in audio only because of poor quality.",
    IncidentCode.CALL_RECONNECTING: "The call connection was lost and the kiosk tried to reconnect.",
    IncidentCode.CALL_RECONNECTED: "The call connection came back after an interruption.",
    IncidentCode.CALL_VIDEO_REDUCED: (
        "The kiosk sent a smaller or slower picture because the connection was poor."
    ),
    IncidentCode.CALL_VIDEO_RESTORED: "The call's picture came back after a poor connection.",
    IncidentCode.CALL_SIGNALLING_LOST: "The link to the platform was lost during the call.",
    IncidentCode.CALL_MEDIA_CHECK_FAILED: (
        "The camera, microphone or speaker check failed before the call."
    ),
    IncidentCode.UI_ERROR: (
        "The screen met an unexpected error; a calm screen was shown and the session went on."
    ),
    IncidentCode.SPEECH_FAILED: "The kiosk could not prepare the words to read aloud.",
    IncidentCode.AUDIO_FAILED: "The kiosk could not play the words read aloud.",
    IncidentCode.CHAT_SEND_FAILED: "A text message to the doctor could not be sent.",
    IncidentCode.INSI_UNAVAILABLE: (
        "The national identity service (INSi) could not be asked; the identity stays provisional."
    ),
    IncidentCode.INSI_MISMATCH: (
        "The national identity service (INSi) knows this number with other traits; "
        "a professional should check the identity."
    ),
    IncidentCode.INSI_SEVERAL_CANDIDATES: (
        "The national identity service (INSi) found several people for these traits; "
        "a professional should check the identity."
    ),
    IncidentCode.INSI_REFUSED: (
        "The national identity service (INSi) refused the query or gave an unusable answer."
    ),
    IncidentCode.CARD_CHANGED: (
        "Another card than the one the session began with was put in the reader; "
        "the patient was asked."
    ),
    IncidentCode.CARD_LEFT_IN_READER: (
        "The session closed with the card still in the reader; it was not taken in time."
    ),
    IncidentCode.WAIT_TOO_LONG: (
        "No doctor answered within the cabin's maximum wait; the patient was offered to "
        "keep waiting or to finish."
    ),
    IncidentCode.PRINTER_OUT_OF_PAPER: (
        "The cabin's printer had no paper; the documents stayed available by their QR codes."
    ),
    IncidentCode.PRINTER_OFFLINE: (
        "The cabin's printer was off, stopped or unreachable; nothing was printed."
    ),
    IncidentCode.PRINT_FAILED: "A print job failed or did not finish in time.",
    IncidentCode.EXAM_STILL_NOT_KEPT: (
        "A still the doctor took during the examination could not be kept in the local "
        "encrypted store."
    ),
}


class TraceError(DomainError):
    pass


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """One line of the trace. `subject` is an id (measurement, document, consent item, device)."""

    at: datetime
    kind: TraceKind
    actor: Actor = SYSTEM
    subject: str | None = None
    incident: IncidentCode | None = None
    message: str = ""

    def __post_init__(self) -> None:
        if self.at.utcoffset() is None:
            raise TraceError("A trace entry needs a time with a time zone.")
        if (self.kind is TraceKind.INCIDENT) != (self.incident is not None):
            raise TraceError("An incident code goes with, and only with, an incident entry.")


def incident(
    at: datetime, code: IncidentCode, subject: str | None = None, actor: Actor = SYSTEM
) -> TraceEntry:
    """An incident entry with the plain message of its code."""
    return TraceEntry(at, TraceKind.INCIDENT, actor, subject, code, INCIDENT_MESSAGES[code])


EXAM_STILL_DEVICES: dict[str, str] = {"otoscope": "otoscope", "dermatoscope": "dermatoscope"}
"""The examination cameras a still comes from, and the word the trace's sentence uses."""

_STILL_ID = re.compile(r"still-[1-9][0-9]{0,3}")


def _still_id(still_id: str) -> str:
    # fullmatch: a trailing newline or any free text must not pass (the subject leaves the kiosk)
    if _STILL_ID.fullmatch(still_id) is None:
        raise TraceError("A still is named by 'still-' and its number in the call.")
    return still_id


def exam_still_taken(at: datetime, doctor: Actor, still_id: str, device: str) -> TraceEntry:
    """The line 'the doctor took a still with the otoscope', at `at`, naming the still's id.

    Why only the id and a fixed sentence: the trace is read by support staff
    and sent with the act, and the picture shows the patient's body; the
    picture itself is a document of the session (encrypted, sent as a
    DocumentReference). The id is the call's own number (`still-1`…), so no
    free text can ride along; the device comes from a closed table.
    """
    if doctor.kind is not ActorKind.DOCTOR:
        raise TraceError("Only the doctor takes an examination still.")
    word = EXAM_STILL_DEVICES.get(device)
    if word is None:
        raise TraceError("A still comes from the otoscope or the dermatoscope.")
    return TraceEntry(
        at,
        TraceKind.EXAM_STILL_TAKEN,
        doctor,
        _still_id(still_id),
        message=f"The doctor took a still with the {word}.",
    )


def exam_still_not_kept(at: datetime, still_id: str) -> TraceEntry:
    """The incident of a still that did not reach the encrypted store, naming it by its id."""
    return incident(at, IncidentCode.EXAM_STILL_NOT_KEPT, _still_id(still_id))
