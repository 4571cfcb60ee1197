"""The patient's link to a document, as the platform mints it.

Why ask the platform: the end screen's QR code must lead to a page that
exists and that only the patient can open. The platform keeps each document
the doctor sent and mints an unguessable, expiring link for it; the cabin
asks for that link with the session id it opened the call with (a random id
only the cabin and the platform know) and shows it as a QR code. A link
that does not come back (platform down, no such document, an answer that
points elsewhere) means no QR code, never a guessed URL.

Contract: `GET <platform>/cabin/documents/{session_id}/{document_id}` →
200 `{"url": "<platform>/patient/documents/<token>", "expiresAt": "…Z"}`,
404 when the platform has no such document for that session.
"""

from __future__ import annotations

import json
import logging
import ssl as ssl_module
from urllib.parse import quote, urlsplit

from app.sync.errors import SyncError
from app.sync.transport import CabinAuth

log = logging.getLogger(__name__)

LINK_PATH = "/cabin/documents/{session}/{id}"
PATIENT_PATH = "/patient/documents/"
MAX_ANSWER_BYTES = 4096


def forget_parsed_links() -> None:
    """Drop the URLs `urllib.parse` keeps: `urlsplit` caches the last 128 it split (lru_cache).

    `accepted_link` splits each document's patient link, so that cache holds
    working links after the session; the controller calls this at every wipe
    (issue 18 §3). Only a cache of the standard library: clearing it costs a
    re-parse, nothing else.
    """
    clear = getattr(urlsplit, "cache_clear", None)
    if clear is not None:
        clear()


def link_request_url(template: str, session_id: str, document_id: str) -> str:
    return template.replace("{session}", quote(session_id, safe="")).replace(
        "{id}", quote(document_id, safe="")
    )


def accepted_link(base_url: str, answer: object) -> str | None:
    """The link from the platform's answer, if it points to the platform's patient page."""
    if not isinstance(answer, dict):
        return None
    url = answer.get("url")
    if not isinstance(url, str) or len(url) > 2048:
        return None
    ours, theirs = urlsplit(base_url), urlsplit(url)
    if (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc):
        return None
    if not theirs.path.startswith(PATIENT_PATH) or len(theirs.path) <= len(PATIENT_PATH):
        return None
    return url


async def fetch_document_link(
    template: str,
    session_id: str,
    document_id: str,
    *,
    ssl: ssl_module.SSLContext | None = None,
    timeout_s: float = 5.0,
    auth: CabinAuth | None = None,
) -> str | None:
    """The patient's link for one document, or None (logged with the status only).

    `auth` is the cabin's token (docs/threat-model.md): the platform gives a
    document's link only to the cabin of that session."""
    import aiohttp  # on first use, not before the welcome screen (docs/runtime.md, cold start)

    url = link_request_url(template, session_id, document_id)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as http:
            headers = await auth.headers(http) if auth is not None else {}
            async with http.get(
                url, ssl=ssl if ssl is not None else True, headers=headers
            ) as response:
                if response.status != 200:
                    log.warning("document link refused (status %d)", response.status)
                    return None
                body = await response.content.read(MAX_ANSWER_BYTES + 1)
                if len(body) > MAX_ANSWER_BYTES:
                    log.warning("document link answer too long (%d bytes)", len(body))
                    return None
                answer = json.loads(body)
    except (aiohttp.ClientError, TimeoutError, ValueError, OSError, SyncError) as exc:
        log.warning("document link not fetched (%s)", type(exc).__name__)
        return None
    link = accepted_link(url, answer)
    if link is None:
        log.warning("document link answer does not point to the platform's patient page")
    return link
