"""The APCV-TEST1 payload parser at its edges: base64url text and impossible times."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from drivers.qr.apcv_standin import (
    PREFIX,
    TestApcvProfile,
    b64url_decode,
    b64url_encode,
    encode_payload,
)
from drivers.qr.errors import QrErrorReason, QrPayloadError
from drivers.qr.profile import ApcvIdentity

KEY = Ed25519PrivateKey.generate()
PROFILE = TestApcvProfile((KEY.public_key().public_bytes_raw(),))
ISSUED = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
IDENTITY = ApcvIdentity(
    birth_name="LAVIOLETTE",
    first_names=("ROSE",),
    birth_date="1986-02-17",
    sex="F",
    birth_place_insee="97209",
    nir="286029720904573",
    issued_at=ISSUED,
    expires_at=ISSUED + dt.timedelta(minutes=5),
    nonce=b64url_encode(bytes(16)),
)


def claims() -> dict[str, Any]:
    body = encode_payload(IDENTITY, KEY)[len(PREFIX) :].split(".")[0]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return decoded


def signed(values: dict[str, Any]) -> str:
    body = b64url_encode(json.dumps(values).encode())
    return f"{PREFIX}{body}.{b64url_encode(KEY.sign((PREFIX + body).encode()))}"


def test_the_key_made_here_reads_its_own_payload() -> None:
    assert PROFILE.parse(signed(claims()), now=ISSUED) == IDENTITY


@pytest.mark.parametrize("field", ["issued_at", "expires_at"])
@pytest.mark.parametrize(
    "value", ["2026-13-01T09:00:00Z", "2026-02-30T09:00:00Z", "2026-11-23T25:00:00Z"]
)
def test_a_time_of_the_right_shape_but_no_real_moment_is_refused(field: str, value: str) -> None:
    with pytest.raises(QrPayloadError) as caught:
        PROFILE.parse(signed({**claims(), field: value}), now=ISSUED)
    what = {"issued_at": "issue time", "expires_at": "expiry time"}[field]
    assert caught.value.reason is QrErrorReason.BAD_FIELD
    assert caught.value.message == f"The {what} is not a UTC time in YYYY-MM-DDTHH:MM:SSZ form."


@given(st.binary(max_size=80))
def test_base64url_text_decodes_back_to_its_bytes(data: bytes) -> None:
    assert b64url_decode(b64url_encode(data), "claims part") == data


@given(st.from_regex(r"[A-Za-z0-9_=+/ -]{0,40}", fullmatch=True))
def test_any_text_is_bytes_or_the_typed_error(text: str) -> None:
    try:
        data = b64url_decode(text, "claims part")
    except QrPayloadError as exc:
        assert exc.reason is QrErrorReason.MALFORMED
        assert exc.message == "The claims part is not base64url text."
    else:
        # Unused trailing bits are not checked ("00" reads as "0w"): the signature covers
        # the text as sent, so this gives no second valid code for other claims.
        assert text.isascii() and "=" not in text and len(data) == len(text) * 3 // 4
        assert b64url_decode(b64url_encode(data), "claims part") == data
