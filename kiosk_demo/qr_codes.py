"""What the demo's patient holds up to the camera: appli carte Vitale codes (TEST ONLY).

The fictional identity, codes signed with the demo's TEST key (kiosk_demo/keys.py),
and the codes the scanner must refuse (expired, forged, malformed, another
code). The frames themselves are the camera simulator's (drivers/qr/sim_frames.py).
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from drivers.camera.source import Frame
from drivers.qr.apcv_standin import b64url_encode, encode_payload
from drivers.qr.profile import ApcvIdentity
from drivers.qr.sim_frames import phone_showing
from kiosk_demo.keys import signing_key


def demo_identity(
    now: dt.datetime, lifetime: dt.timedelta = dt.timedelta(minutes=5)
) -> ApcvIdentity:
    """A fictional patient (TEST ONLY), born in Fort-de-France (97209), valid NIR."""
    return ApcvIdentity(
        birth_name="LAVIOLETTE",
        first_names=("JOSEPHINE", "ROSE"),
        birth_date="1986-02-17",
        sex="F",
        birth_place_insee="97209",
        nir="286029720904573",
        issued_at=now,
        expires_at=now + lifetime,
        nonce=b64url_encode(secrets.token_bytes(16)),
    )


def phone_showing_identity(now: dt.datetime, *, seed: int = 0) -> list[Frame]:
    """What the camera sees while a patient holds up the app: a few frames of one code."""
    return phone_showing(encode_payload(demo_identity(now), signing_key()), seed=seed)


class QrShown(enum.StrEnum):
    """What the demo's patient shows the camera (the operator panel's choices)."""

    VALID = "valid"  # the demo identity, signed with the test key, fresh
    EXPIRED = "expired"  # the same, but its 5 minutes of validity ended 10 minutes ago
    BAD_SIGNATURE = "bad-signature"  # signed with a key the kiosk does not trust
    MALFORMED = "malformed"  # the right prefix, a broken body
    OTHER = "other"  # some other QR code (a web address)


def code_text(shown: QrShown, now: dt.datetime) -> str:
    """The text of the QR code for one of the operator's choices, at `now`."""
    if shown is QrShown.VALID:
        return encode_payload(demo_identity(now), signing_key())
    if shown is QrShown.EXPIRED:
        return encode_payload(demo_identity(now - dt.timedelta(minutes=15)), signing_key())
    if shown is QrShown.BAD_SIGNATURE:
        return encode_payload(demo_identity(now), Ed25519PrivateKey.generate())
    if shown is QrShown.MALFORMED:
        return "APCV-TEST1.bm90IGpzb24.c2lnbmF0dXJl"
    return "https://example.org/telecabine"
