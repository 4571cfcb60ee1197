"""The doctor's examination stills (otoscope, dermatoscope) in the session's encrypted store.

A still is kept as a document of its session — kind ``imaging``, a JPEG —
in the documents table: encrypted at rest like every other fact (SQLCipher),
wiped with its session by the retention rules, and sent with the session's
bundle as a DocumentReference (docs/call-exam.md says why not a Media). No new
table, so nothing to migrate and nothing the store's open path must learn.
"""

from __future__ import annotations

import re
import uuid
from typing import Protocol

from app.store.errors import InvalidValue

STILL_KIND = "imaging"
"""The kiosk's document kind for an examination picture (code system document-kind)."""
STILL_MEDIA_TYPE = "image/jpeg"
STILL_MAX_BYTES = 2 * 1024 * 1024
_JPEG_MAGIC = b"\xff\xd8\xff"
_STILL_ID = re.compile(r"still-([1-9][0-9]{0,3})")
DEVICE_WORDS = {"otoscope": "otoscope", "dermatoscope": "dermatoscope"}


class DocumentKeeper(Protocol):
    """What keeps a document's bytes: the real `AsyncStore` (and a test's)."""

    async def record_document(
        self,
        session_id: str,
        document_id: str,
        *,
        kind: str,
        media_type: str,
        title: str,
        content: bytes,
    ) -> None: ...


def still_title(still_id: str, device: str) -> str:
    """'Photo d'examen n° 2 (otoscope)': the document's title, with no patient datum in it."""
    found = _STILL_ID.fullmatch(still_id)  # fullmatch: "$" would let a trailing newline in
    if found is None:
        raise InvalidValue("A still's id must be 'still-' and its number.")
    if device not in DEVICE_WORDS:
        raise InvalidValue("A still comes from an otoscope or a dermatoscope.")
    return f"Photo d'examen n° {found.group(1)} ({DEVICE_WORDS[device]})"


async def keep_still(
    store: DocumentKeeper, session_id: str, *, still_id: str, device: str, jpeg: bytes
) -> str:
    """Keep one still with its session; returns its document id (InvalidValue: not a JPEG still).

    The call numbers its stills from 1, and a reconnection after a cut is a new call
    in the same session: the call's number names the still for the doctor, never the
    stored document, whose id is minted here — a second `still-1` must not overwrite
    the first (the store updates a document kept under the same id).
    """
    if not jpeg.startswith(_JPEG_MAGIC):
        raise InvalidValue("A still must be a JPEG picture.")
    if len(jpeg) > STILL_MAX_BYTES:
        raise InvalidValue(f"A still may hold {STILL_MAX_BYTES} bytes, not {len(jpeg)}.")
    title = still_title(still_id, device)
    document_id = f"{still_id}.{uuid.uuid4().hex}"
    await store.record_document(
        session_id,
        document_id,
        kind=STILL_KIND,
        media_type=STILL_MEDIA_TYPE,
        title=title,
        content=jpeg,
    )
    return document_id
