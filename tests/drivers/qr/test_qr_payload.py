"""The APCV-TEST1 payload: spec-built texts, every refusal with its exact sentence, fuzzing."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.events import QrIdentity
from drivers.qr.apcv_standin import PREFIX, TestApcvProfile, b64url_encode, encode_payload
from drivers.qr.errors import QrErrorReason, QrPayloadError
from drivers.qr.profile import ApcvIdentity
from kiosk_demo.keys import TEST_ONLY_PUBLIC_KEY, signing_key

ISSUED = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
NOW = ISSUED + dt.timedelta(minutes=1)
NONCE = b64url_encode(bytes(range(16)))  # "AAECAwQFBgcICQoLDA0ODw"
IDENTITY = ApcvIdentity(
    birth_name="LAVIOLETTE",
    first_names=("JOSÉPHINE", "ROSE"),
    birth_date="1986-02-17",
    sex="F",
    birth_place_insee="97209",
    nir="286029720904573",
    issued_at=ISSUED,
    expires_at=ISSUED + dt.timedelta(minutes=5),
    nonce=NONCE,
)
PROFILE = TestApcvProfile()


def claims_of(identity: ApcvIdentity = IDENTITY) -> dict[str, Any]:
    text = encode_payload(identity, signing_key())
    body = text[len(PREFIX) :].split(".")[0]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return decoded


def signed(claims: dict[str, Any], key: Ed25519PrivateKey | None = None) -> str:
    body = b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
    signature = (key or signing_key()).sign((PREFIX + body).encode())
    return f"{PREFIX}{body}.{b64url_encode(signature)}"


def refusal(text: str, now: dt.datetime = NOW) -> tuple[QrErrorReason, str]:
    with pytest.raises(QrPayloadError) as caught:
        PROFILE.parse(text, now=now)
    return caught.value.reason, caught.value.message


def test_spec_built_payload_claims_exactly() -> None:
    assert NONCE == "AAECAwQFBgcICQoLDA0ODw"
    assert claims_of() == {
        "birth_name": "LAVIOLETTE",
        "first_names": ["JOSÉPHINE", "ROSE"],
        "birth_date": "1986-02-17",
        "sex": "F",
        "birth_place_insee": "97209",
        "nir": "286029720904573",
        "issued_at": "2026-11-23T09:00:00Z",
        "expires_at": "2026-11-23T09:05:00Z",
        "nonce": "AAECAwQFBgcICQoLDA0ODw",
    }
    text = encode_payload(IDENTITY, signing_key())
    assert text.startswith("APCV-TEST1.eyJiaXJ0aF9uYW1lIjoiTEFWSU9MRVRURSIs")
    assert len(text.split(".")[-1]) == 86  # 64 signature bytes in base64url


def test_a_good_payload_gives_the_identity() -> None:
    identity = PROFILE.parse(encode_payload(IDENTITY, signing_key()), now=NOW)
    assert identity == IDENTITY
    assert repr(identity).startswith("ApcvIdentity(issued_at=")
    assert "LAVIOLETTE" not in repr(identity)
    assert identity.to_event("camera-1") == QrIdentity(
        "camera-1",
        "LAVIOLETTE",
        ("JOSÉPHINE", "ROSE"),
        "1986-02-17",
        "F",
        "97209",
        "286029720904573",
        expires_at="2026-11-23T09:05:00Z",
    )


def test_time_window_with_clock_skew() -> None:
    text = encode_payload(IDENTITY, signing_key())
    assert PROFILE.parse(text, now=ISSUED - dt.timedelta(minutes=2)) == IDENTITY
    assert refusal(text, ISSUED - dt.timedelta(minutes=2, seconds=1)) == (
        QrErrorReason.NOT_YET_VALID,
        "The QR code was issued in the future: check the kiosk's clock.",
    )
    assert PROFILE.parse(text, now=ISSUED + dt.timedelta(minutes=4, seconds=59)) == IDENTITY
    assert refusal(text, ISSUED + dt.timedelta(minutes=5)) == (
        QrErrorReason.EXPIRED,
        "The QR code has expired: ask the patient to show a fresh one.",
    )
    naive_now = NOW.replace(tzinfo=None)
    assert PROFILE.parse(text, now=naive_now) == IDENTITY  # naive means UTC


def test_signature_refusals() -> None:
    text = encode_payload(IDENTITY, signing_key())
    other = encode_payload(IDENTITY, Ed25519PrivateKey.from_private_bytes(bytes(32)))
    expected = (QrErrorReason.BAD_SIGNATURE, "The QR code's signature is not from a trusted key.")
    assert refusal(other) == expected
    body, signature = text[len(PREFIX) :].split(".")
    tampered_claims = claims_of() | {"birth_name": "AUTRE"}
    tampered = PREFIX + b64url_encode(json.dumps(tampered_claims).encode()) + "." + signature
    assert refusal(tampered) == expected
    with pytest.raises(QrPayloadError) as caught:
        TestApcvProfile(trusted_keys=[]).parse(text, now=NOW)
    assert caught.value.reason is QrErrorReason.BAD_SIGNATURE
    other_key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    trusting_both = TestApcvProfile(
        trusted_keys=[
            other_key.public_key().public_bytes_raw(),
            TEST_ONLY_PUBLIC_KEY,
        ]
    )
    assert trusting_both.parse(text, now=NOW) == IDENTITY


@pytest.mark.parametrize(
    ("text", "reason", "message"),
    [
        (
            "https://example.org/menu",
            QrErrorReason.UNKNOWN_FORMAT,
            "The QR code is not an appli carte Vitale test code (unknown prefix).",
        ),
        (
            PREFIX + "A" * 2100,
            QrErrorReason.MALFORMED,
            "The QR code text is longer than 2048 characters (2111).",
        ),
        (
            PREFIX + "abc",
            QrErrorReason.MALFORMED,
            "The QR code has 1 part(s) after its prefix; 2 are expected.",
        ),
        (
            PREFIX + "a.b.c",
            QrErrorReason.MALFORMED,
            "The QR code has 3 part(s) after its prefix; 2 are expected.",
        ),
        (PREFIX + "e30=.AAAA", QrErrorReason.MALFORMED, "The claims part is not base64url text."),
        (PREFIX + "e30.A", QrErrorReason.MALFORMED, "The signature part is not base64url text."),
        (
            PREFIX + "e30.AAAA",
            QrErrorReason.MALFORMED,
            "The signature has 3 bytes; an Ed25519 signature has 64.",
        ),
    ],
)
def test_structure_refusals(text: str, reason: QrErrorReason, message: str) -> None:
    assert refusal(text) == (reason, message)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"birth_name": ""}, "A birth name is not a printable text of 1 to 100 characters."),
        ({"birth_name": " X"}, "A birth name has leading or trailing spaces."),
        ({"first_names": []}, "The first names are not a list of 1 to 10 names."),
        ({"first_names": ["A\nB"]}, "A first name is not a printable text of 1 to 100 characters."),
        ({"sex": "X"}, "The sex is not M, F or U."),
        ({"sex": "M"}, "The NIR and the sex disagree."),
        ({"birth_place_insee": "2C004"}, "The place of birth is not a 5-character INSEE code."),
        ({"nir": "286029720904574"}, "The NIR is malformed or its key does not match."),
        ({"birth_date": "1986-02-30"}, "The date of birth is not a YYYY-MM-DD date."),
        ({"nonce": "short"}, "The nonce is not 16 bytes of base64url."),
        (
            {"issued_at": "2026-11-23 09:00:00"},
            "The issue time is not a UTC time in YYYY-MM-DDTHH:MM:SSZ form.",
        ),
        (
            {"expires_at": "2026-11-23T09:30:00Z"},
            "The QR code's lifetime is not between 0 and 10 minutes.",
        ),
        (
            {"expires_at": "2026-11-23T09:00:00Z"},
            "The QR code's lifetime is not between 0 and 10 minutes.",
        ),
        ({"extra": 1}, "The signed claims have unknown keys: extra."),
    ],
)
def test_field_refusals(change: dict[str, Any], message: str) -> None:
    assert refusal(signed(claims_of() | change)) == (QrErrorReason.BAD_FIELD, message)


def test_missing_keys_and_non_objects() -> None:
    claims = claims_of()
    del claims["nir"], claims["sex"]
    assert refusal(signed(claims)) == (
        QrErrorReason.BAD_FIELD,
        "The signed claims lack: nir, sex.",
    )
    body = b64url_encode(b"[1, 2]")
    text = f"{PREFIX}{body}.{b64url_encode(signing_key().sign((PREFIX + body).encode()))}"
    assert refusal(text) == (QrErrorReason.BAD_FIELD, "The signed claims are not a JSON object.")
    body = b64url_encode(b"\xff\xfe")
    text = f"{PREFIX}{body}.{b64url_encode(signing_key().sign((PREFIX + body).encode()))}"
    assert refusal(text) == (QrErrorReason.BAD_FIELD, "The signed claims are not UTF-8 JSON.")


@given(st.text(max_size=300))
def test_any_text_only_raises_the_typed_error(text: str) -> None:
    for candidate in (text, PREFIX + text):
        try:
            PROFILE.parse(candidate, now=NOW)
        except QrPayloadError as exc:
            assert exc.reason in QrErrorReason


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(st.dictionaries(st.sampled_from(sorted(claims_of())), json_values, max_size=9))
@settings(max_examples=200)
def test_signed_garbage_claims_only_raise_the_typed_error(change: dict[str, Any]) -> None:
    """Past the signature, any claim value must still end in a QrPayloadError or an identity."""
    try:
        PROFILE.parse(signed(claims_of() | change), now=NOW)
    except QrPayloadError as exc:
        assert exc.reason is QrErrorReason.BAD_FIELD
