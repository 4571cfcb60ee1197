"""TEST ONLY Ed25519 key pair for the documented test QR payload (the demo's).

The private seed is public, in this repository, on purpose: it exists so
that the demo and the tests can sign test payloads. It lives with the demo,
so the cabin's install never carries it. A kiosk in production mode never
trusts TEST_ONLY_PUBLIC_KEY (the registry only builds the test profile for
`site.mode = "test"`). The real appli carte Vitale payload and its keys are
not public; a licensed profile replaces this one.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from drivers.qr.apcv_standin import TEST_ONLY_PUBLIC_KEY

__all__ = ["TEST_ONLY_PRIVATE_SEED", "TEST_ONLY_PUBLIC_KEY", "signing_key", "verifying_key"]

TEST_ONLY_PRIVATE_SEED = bytes.fromhex(
    "26616586d3891b8cc6f55d565d2f4e553f1ffeb7e34f8a6fc74c03db2da2cde6"
)


def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(TEST_ONLY_PRIVATE_SEED)


def verifying_key() -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(TEST_ONLY_PUBLIC_KEY)
