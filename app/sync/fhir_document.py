"""The doctor's documents (report, prescription) as DocumentReference.

Why the content travels inline only up to a bound: the document was issued on
the platform by the doctor and only printed or handed over at the cabin, so
the platform already holds the original. The kiosk sends what it received so
the act's record is complete: up to `INLINE_MAX_BYTES` the bytes themselves
(base64 in `attachment.data`), above that only their size and hashes, which
are enough to prove which document the patient got without a multi-megabyte
retry loop on a pharmacy's network. `attachment.hash` is SHA-1 because R4
says so; a SHA-256 travels alongside in a kiosk extension.
"""

from __future__ import annotations

import base64
import hashlib

from app.domain.trace import ActorKind, TraceKind
from app.sync.fhir_context import Json, MappingContext, doctor_ref, fhir_datetime
from app.sync.identifiers import CS_DOCUMENT_KIND, EXT_ATTACHMENT_SHA256, check_safe
from app.sync.session_snapshot import SessionDocument, SessionSnapshot
from app.sync.vendor import DOCUMENT_KINDS

INLINE_MAX_BYTES = 1024 * 1024


def document_kind_code(kind: str) -> str:
    """The published code of a document kind; a kind the code system lacks is `other`
    (its own words stay in `type.text`)."""
    return kind if kind in DOCUMENT_KINDS else "other"


def document_item(document: SessionDocument) -> str:
    return f"document/{check_safe('document', document.document_id)}"


def document_author(document: SessionDocument, snapshot: SessionSnapshot) -> str | None:
    """The RPPS of the doctor the trace names as sending this document, if any."""
    for entry in snapshot.trace:
        if (
            entry.kind is TraceKind.DOCUMENT_RECEIVED
            and entry.subject == document.document_id
            and entry.actor.kind is ActorKind.DOCTOR
            and entry.actor.id is not None
        ):
            return entry.actor.id
    return None


def attachment(document: SessionDocument, inline_max_bytes: int = INLINE_MAX_BYTES) -> Json:
    content = document.content
    out: Json = {}
    if document.media_type:
        out["contentType"] = document.media_type
    if content is not None:
        out["extension"] = [
            {"url": EXT_ATTACHMENT_SHA256, "valueString": hashlib.sha256(content).hexdigest()}
        ]
        if not document.media_type:
            out["contentType"] = "application/octet-stream"
        if len(content) <= inline_max_bytes:
            out["data"] = base64.b64encode(content).decode("ascii")
        out["size"] = len(content)
        digest = hashlib.sha1(content, usedforsecurity=False).digest()
        out["hash"] = base64.b64encode(digest).decode("ascii")
    out["title"] = document.title or document.kind
    out["creation"] = fhir_datetime(document.created_at)
    return out


def document_resource(
    document: SessionDocument,
    snapshot: SessionSnapshot,
    ctx: MappingContext,
    inline_max_bytes: int = INLINE_MAX_BYTES,
) -> Json:
    resource: Json = {
        "resourceType": "DocumentReference",
        "identifier": [ctx.session_id_for(document_item(document)).as_fhir()],
        "status": "current",
        "docStatus": "final",
        "type": {
            "coding": [{"system": CS_DOCUMENT_KIND, "code": document_kind_code(document.kind)}],
            "text": document.kind,
        },
        "subject": ctx.ref(ctx.patient_id, "Patient"),
        "date": fhir_datetime(document.created_at),
    }
    author = document_author(document, snapshot)
    if author is not None:
        resource["author"] = [doctor_ref(author)]
    resource["content"] = [{"attachment": attachment(document, inline_max_bytes)}]
    resource["context"] = {"encounter": [ctx.ref(ctx.encounter_id, "Encounter")]}
    return resource
