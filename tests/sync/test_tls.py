"""TLS to the platform from the site configuration: CA file and the cabin's client certificate."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from app.store import AsyncStore, OutboxState
from app.sync.service import build_sync
from app.sync.store_adapter import StoreOutbox
from app.sync.transport import TlsConfigError, ssl_context_from_files
from devtools.platform.testing import running_platform
from kiosk_config import parse_config
from tests.sync.conftest import put_sessions
from tests.sync.sessions import TEST_SITE, small_session

NOW = dt.datetime.now(dt.UTC)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(hours=1))
        .not_valid_after(NOW + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def issue(
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate], cn: str, *, server: bool
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    ca_key, ca_cert = ca
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(hours=1))
        .not_valid_after(NOW + dt.timedelta(days=1))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    return key, builder.sign(ca_key, hashes.SHA256())


def write_pair(
    folder: Path, stem: str, pair: tuple[ec.EllipticCurvePrivateKey, x509.Certificate]
) -> tuple[Path, Path]:
    key, cert = pair
    cert_path, key_path = folder / f"{stem}.pem", folder / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "pki"
    folder.mkdir()
    ca = make_ca("Telecabine test CA")
    other_ca = make_ca("Somebody else's CA")
    ca_path, _ = write_pair(folder, "ca", ca)
    other_path, _ = write_pair(folder, "other-ca", other_ca)
    server_cert, server_key = write_pair(folder, "server", issue(ca, "platform", server=True))
    client_cert, client_key = write_pair(folder, "client", issue(ca, "CAB-T1", server=False))
    return {
        "ca": ca_path,
        "other_ca": other_path,
        "server_cert": server_cert,
        "server_key": server_key,
        "client_cert": client_cert,
        "client_key": client_key,
    }


def server_context(pki: dict[str, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki["server_cert"], pki["server_key"])
    context.load_verify_locations(pki["ca"])
    context.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: the cabin must show its certificate
    return context


def config(url: str, ca: Path, cert: Path | None, key: Path | None) -> str:
    client = f'client_cert_file = "{cert}"\nclient_key_file = "{key}"\n' if cert else ""
    return f"""
[site]
cabin_id = "{TEST_SITE.cabin_id}"
name = "{TEST_SITE.site_name}"
insee_code = "{TEST_SITE.insee_code}"
mode = "test"
[site.address]
street = "{TEST_SITE.street}"
postal_code = "{TEST_SITE.postal_code}"
city = "{TEST_SITE.city}"
[platform]
url = "{url}"
ca_file = "{ca}"
{client}"""


async def one_pass(store: AsyncStore, toml: str) -> tuple[int, str | None]:
    service = build_sync(parse_config(toml), StoreOutbox(store), request_timeout_s=5)
    try:
        report = await service.sender.drain_once(ignore_retry_times=True)
        return report.acknowledged, service.sender.stats.last_error
    finally:
        await service.stop()


async def test_mutual_tls_with_the_site_ca_and_client_certificate(
    tmp_path: Path, store: AsyncStore, pki: dict[str, Path]
) -> None:
    await put_sessions(store, TEST_SITE.cabin_id, [small_session("S-1")])
    async with running_platform(tmp_path, tls=server_context(pki)) as (url, platform):
        assert url.startswith("https://127.0.0.1:")
        # No client certificate: the platform closes the handshake; nothing is acknowledged.
        acked, error = await one_pass(store, config(url, pki["ca"], None, None))
        assert acked == 0 and error is not None
        assert (await store.outbox_item(1)).state is OutboxState.READY
        # A CA that did not sign the platform's certificate: refused on our side.
        acked, error = await one_pass(
            store, config(url, pki["other_ca"], pki["client_cert"], pki["client_key"])
        )
        assert (acked, error) == (0, "The platform's TLS certificate was not accepted.")
        # The right CA and the cabin's certificate: sent and acknowledged.
        acked, error = await one_pass(
            store, config(url, pki["ca"], pki["client_cert"], pki["client_key"])
        )
        assert (acked, error) == (1, None)
        assert (await store.outbox_item(1)).state is OutboxState.ACKNOWLEDGED
        assert platform.store.count("Encounter") == 1


def test_unreadable_ca_file_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(TlsConfigError) as err:
        ssl_context_from_files(tmp_path / "missing-ca.pem")
    assert str(err.value) == (
        "The platform's TLS settings cannot be used (CA file or client certificate "
        "unreadable or invalid: FileNotFoundError)."
    )
