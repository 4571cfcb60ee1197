"""The documented TEST payload of the appli carte Vitale QR code — TEST ONLY.

The real payload is not public. This format stands in for it so that the
whole path (camera, detection, signature, expiry, identity) is built and
tested; it is fully specified in docs/drivers-card-qr.md:

    APCV-TEST1.<base64url(JSON claims)>.<base64url(Ed25519 signature)>

- base64url without padding (RFC 4648 §5); the signature (64 bytes) covers the
  ASCII bytes "APCV-TEST1." + the encoded claims, as in a JWS compact form;
- claims: a JSON object with exactly the keys birth_name, first_names (1 to
  10 strings), birth_date (YYYY-MM-DD), sex (M, F or U), birth_place_insee
  (5 characters, Corsica 2A/2B), nir (15 characters, key checked, sex digit
  consistent), issued_at and expires_at (UTC, YYYY-MM-DDTHH:MM:SSZ), nonce
  (base64url of 16 bytes);
- the code lives at most 10 minutes (expires_at - issued_at), is refused
  from expires_at on, and before issued_at minus 2 minutes of clock skew.

Order of checks: prefix, structure, signature, then claims: nothing
unauthenticated is interpreted beyond its encoding.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
from collections.abc import Iterable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from drivers.qr.errors import QrErrorReason, QrPayloadError
from drivers.qr.profile import ApcvIdentity, QrProfile
from vocabulary.nir import is_valid_nir

PREFIX = "APCV-TEST1."

# The public half of the TEST key pair: what the TEST profile trusts. Its private
# half is public too, on purpose (the demo and the tests sign with it), and lives
# with the demo (kiosk_demo/keys.py), never in the cabin's install; a site in
# production mode never gets this profile (drivers/registry.py).
TEST_ONLY_PUBLIC_KEY = bytes.fromhex(
    "0ebffc2902e68d1ed842dfebb94affd8155cd2c5dde8f0ec6ee617899b00b082"
)
MAX_LENGTH = 2048
MAX_LIFETIME = dt.timedelta(minutes=10)
CLOCK_SKEW = dt.timedelta(minutes=2)
KEYS = frozenset(
    {
        "birth_name",
        "first_names",
        "birth_date",
        "sex",
        "birth_place_insee",
        "nir",
        "issued_at",
        "expires_at",
        "nonce",
    }
)
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_INSEE = re.compile(r"(?:\d{5}|2[AB]\d{3})")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, what: str) -> bytes:
    if _B64URL.fullmatch(text) is None or len(text) % 4 == 1:
        raise QrPayloadError(QrErrorReason.MALFORMED, f"The {what} is not base64url text.")
    # Checked above: only the alphabet and a possible length, which the decoder always reads.
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def format_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class TestApcvProfile(QrProfile):
    """Reads APCV-TEST1 payloads signed by one of `trusted_keys` (the test key by default)."""

    __test__ = False  # not a pytest test class, whatever its name
    name = "apcv-test1"

    def __init__(self, trusted_keys: Iterable[bytes] = (TEST_ONLY_PUBLIC_KEY,)) -> None:
        self._keys = [Ed25519PublicKey.from_public_bytes(raw) for raw in trusted_keys]

    def parse(self, text: str, *, now: dt.datetime) -> ApcvIdentity:
        if now.tzinfo is None:
            now = now.replace(tzinfo=dt.UTC)
        if not text.startswith(PREFIX):
            raise QrPayloadError(
                QrErrorReason.UNKNOWN_FORMAT,
                "The QR code is not an appli carte Vitale test code (unknown prefix).",
            )
        if len(text) > MAX_LENGTH:
            raise QrPayloadError(
                QrErrorReason.MALFORMED,
                f"The QR code text is longer than {MAX_LENGTH} characters ({len(text)}).",
            )
        parts = text[len(PREFIX) :].split(".")
        if len(parts) != 2:
            raise QrPayloadError(
                QrErrorReason.MALFORMED,
                f"The QR code has {len(parts)} part(s) after its prefix; 2 are expected.",
            )
        claims_b64, signature_b64 = parts
        claims_raw = b64url_decode(claims_b64, "claims part")
        signature = b64url_decode(signature_b64, "signature part")
        if len(signature) != 64:
            raise QrPayloadError(
                QrErrorReason.MALFORMED,
                f"The signature has {len(signature)} bytes; an Ed25519 signature has 64.",
            )
        self._verify(signature, (PREFIX + claims_b64).encode("ascii"))
        identity = _claims(claims_raw)
        if now < identity.issued_at - CLOCK_SKEW:
            raise QrPayloadError(
                QrErrorReason.NOT_YET_VALID,
                "The QR code was issued in the future: check the kiosk's clock.",
            )
        if now >= identity.expires_at:
            raise QrPayloadError(
                QrErrorReason.EXPIRED,
                "The QR code has expired: ask the patient to show a fresh one.",
            )
        return identity

    def _verify(self, signature: bytes, signed: bytes) -> None:
        for key in self._keys:
            try:
                key.verify(signature, signed)
            except InvalidSignature:
                continue
            return
        raise QrPayloadError(
            QrErrorReason.BAD_SIGNATURE, "The QR code's signature is not from a trusted key."
        )


def encode_payload(
    identity: ApcvIdentity,
    key: Ed25519PrivateKey,
    *,
    extra_claims: dict[str, Any] | None = None,
) -> str:
    """A signed APCV-TEST1 text (the simulator's phone, tests and the demo)."""
    claims: dict[str, Any] = {
        "birth_name": identity.birth_name,
        "first_names": list(identity.first_names),
        "birth_date": identity.birth_date,
        "sex": identity.sex,
        "birth_place_insee": identity.birth_place_insee,
        "nir": identity.nir,
        "issued_at": format_time(identity.issued_at),
        "expires_at": format_time(identity.expires_at),
        "nonce": identity.nonce or b64url_encode(secrets.token_bytes(16)),
    }
    claims.update(extra_claims or {})
    body = b64url_encode(
        json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    )
    signature = key.sign((PREFIX + body).encode("ascii"))
    return f"{PREFIX}{body}.{b64url_encode(signature)}"


def _bad(message: str) -> QrPayloadError:
    return QrPayloadError(QrErrorReason.BAD_FIELD, message)


def _claims(raw: bytes) -> ApcvIdentity:
    try:
        claims = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _bad("The signed claims are not UTF-8 JSON.") from None
    if not isinstance(claims, dict):
        raise _bad("The signed claims are not a JSON object.")
    missing = sorted(KEYS - claims.keys())
    if missing:
        raise _bad(f"The signed claims lack: {', '.join(missing)}.")
    extra = sorted(k for k in claims if k not in KEYS)
    if extra:
        raise _bad(f"The signed claims have unknown keys: {', '.join(extra)}.")
    birth_name = _name(claims["birth_name"], "birth name")
    first_names = claims["first_names"]
    if not isinstance(first_names, list) or not 1 <= len(first_names) <= 10:
        raise _bad("The first names are not a list of 1 to 10 names.")
    names = tuple(_name(item, "first name") for item in first_names)
    sex = claims["sex"]
    if sex not in ("M", "F", "U"):
        raise _bad("The sex is not M, F or U.")
    place = claims["birth_place_insee"]
    if not isinstance(place, str) or _INSEE.fullmatch(place) is None:
        raise _bad("The place of birth is not a 5-character INSEE code.")
    nir = claims["nir"]
    if not isinstance(nir, str) or not is_valid_nir(nir):
        raise _bad("The NIR is malformed or its key does not match.")
    if (sex == "M" and nir[0] not in "17") or (sex == "F" and nir[0] not in "28"):
        raise _bad("The NIR and the sex disagree.")
    nonce = claims["nonce"]
    try:
        nonce_ok = isinstance(nonce, str) and len(b64url_decode(nonce, "nonce")) == 16
    except QrPayloadError:
        nonce_ok = False
    if not nonce_ok:
        raise _bad("The nonce is not 16 bytes of base64url.")
    issued_at = _time(claims["issued_at"], "issue time")
    expires_at = _time(claims["expires_at"], "expiry time")
    if not dt.timedelta(0) < expires_at - issued_at <= MAX_LIFETIME:
        raise _bad("The QR code's lifetime is not between 0 and 10 minutes.")
    return ApcvIdentity(
        birth_name=birth_name,
        first_names=names,
        birth_date=_date(claims["birth_date"]),
        sex=sex,
        birth_place_insee=place,
        nir=nir,
        issued_at=issued_at,
        expires_at=expires_at,
        nonce=nonce,
    )


def _name(value: object, what: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 100 or not value.isprintable():
        raise _bad(f"A {what} is not a printable text of 1 to 100 characters.")
    if value != value.strip():
        raise _bad(f"A {what} has leading or trailing spaces.")
    return value


def _date(value: object) -> str:
    if not isinstance(value, str) or _DATE.fullmatch(value) is None:
        raise _bad("The date of birth is not a YYYY-MM-DD date.")
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise _bad("The date of birth is not a YYYY-MM-DD date.") from None
    return value


def _time(value: object, what: str) -> dt.datetime:
    if not isinstance(value, str) or _TIME.fullmatch(value) is None:
        raise _bad(f"The {what} is not a UTC time in YYYY-MM-DDTHH:MM:SSZ form.")
    try:
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        raise _bad(f"The {what} is not a UTC time in YYYY-MM-DDTHH:MM:SSZ form.") from None
