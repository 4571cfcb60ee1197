"""Documents the doctor issues at the end of the call (report, prescription).

They arrive as JSON (title + text) or as a PDF in base64, are checked here
(pure), and kept in memory by the session for the end screen, printing or a
QR code; the session controller decides where they go next (store, outbox).
"""

from __future__ import annotations

import base64
import binascii
import enum
from dataclasses import dataclass, field

from app.call.errors import DocumentError, DocumentErrorReason
from app.call.messages import DocumentMessage

MAX_PDF_BYTES = 5 * 1024 * 1024
MAX_TEXT_CHARS = 50_000


class DocumentKind(enum.StrEnum):
    REPORT = "report"
    PRESCRIPTION = "prescription"


@dataclass(frozen=True)
class ReceivedDocument:
    document_id: str
    kind: DocumentKind
    title: str = field(repr=False)
    text: str | None = field(repr=False)
    pdf: bytes | None = field(repr=False)

    @property
    def is_pdf(self) -> bool:
        return self.pdf is not None


def accept(message: DocumentMessage, *, fallback_id: str) -> ReceivedDocument:
    """Check a document message; raises DocumentError with a reason."""
    try:
        kind = DocumentKind(message.kind)
    except ValueError:
        raise DocumentError(
            DocumentErrorReason.BAD_KIND,
            f"A document must be a report or a prescription, not '{message.kind[:32]}'.",
        ) from None
    title = message.title.strip()[:200] or kind.value
    doc_id = message.document_id or fallback_id
    if message.pdf_base64 is not None:
        if len(message.pdf_base64) > MAX_PDF_BYTES * 4 // 3 + 4:
            raise DocumentError(
                DocumentErrorReason.TOO_LARGE,
                f"A PDF document may hold {MAX_PDF_BYTES} bytes; this one is larger.",
            )
        try:
            pdf = base64.b64decode(message.pdf_base64, validate=True)
        except (binascii.Error, ValueError):
            raise DocumentError(
                DocumentErrorReason.BAD_BASE64, "The PDF document is not valid base64."
            ) from None
        if not pdf.startswith(b"%PDF-"):
            raise DocumentError(
                DocumentErrorReason.NOT_A_PDF, "The document sent as a PDF does not start as one."
            )
        return ReceivedDocument(doc_id, kind, title, message.text, pdf)
    if message.text is None or not message.text.strip():
        raise DocumentError(
            DocumentErrorReason.NO_CONTENT, "The document has neither text nor a PDF."
        )
    if len(message.text) > MAX_TEXT_CHARS:
        raise DocumentError(
            DocumentErrorReason.TOO_LARGE,
            f"A text document may hold {MAX_TEXT_CHARS} characters, not {len(message.text)}.",
        )
    return ReceivedDocument(doc_id, kind, title, message.text, None)
