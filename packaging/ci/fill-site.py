#!/usr/bin/env python3
"""Fill the cabin template as a technician would, for the CI and the throwaway-root check.

    fill-site.py OUT_DIR TEMPLATE DATA_DIR

Writes OUT_DIR/site.toml (every CHANGE ME replaced with a plausible value, the
platform on a name that does not resolve: the kiosk comes up offline) and the
certificate files it names (self-signed, made here) and the provisioning secret
(`cabin_key_file`, hex, 0600) where the template names one. Needs `cryptography`
(the kiosk's own dependency). Not for a real cabin.
"""

from __future__ import annotations

import datetime
import re
import secrets
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

REPLACEMENTS = (
    ('"CAB-0001"', '"CAB-CI01"'),
    ('"Pharmacie du Marché"', '"Pharmacie de la Gare"'),
    ('"3 place du Marché"', '"1 rue de la Gare"'),
    ("https://platform.example.org", "https://platform.telecabine-ci.fr"),
    ("turn.example.org", "turn.telecabine-ci.fr"),
    ('credential = "CHANGE ME"', 'credential = "ci-secret-1234"'),
    ('"AA:BB:CC:DD:EE:01"', '"C4:7C:8D:6A:10:01"'),
    ('"AA:BB:CC:DD:EE:02"', '"C4:7C:8D:6A:10:02"'),
    ('"Maison de santé pluriprofessionnelle"', '"Maison de santé de la Gare"'),
    ('"04 72 00 00 01"', '"04 72 00 00 09"'),
    ('"04 72 00 00 00"', '"04 72 00 00 08"'),
)


def _certificate(common_name: str, cert_path: Path, key_path: Path | None) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key_path is not None:
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        key_path.chmod(0o600)


def fill(out: Path, template: Path, data_dir: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    _certificate("ci-platform-ca", out / "platform-ca.pem", None)
    _certificate("CAB-CI01", out / "cabin.pem", out / "cabin.key")
    text = template.read_text(encoding="utf-8")
    for old, new in REPLACEMENTS:
        text = text.replace(old, new)
    text = text.replace("/etc/telecabine/", f"{out}/")
    text = text.replace('"/var/lib/telecabine"', f'"{data_dir}"')
    text = re.sub(r"[ \t]*#[^\n\"]*CHANGE ME[^\n]*", "", text)
    # The cabin's provisioning secret (hex, 0600), where the template names one.
    for found in re.finditer(r'^cabin_key_file\s*=\s*"([^"]+)"', text, flags=re.MULTILINE):
        secret = Path(found.group(1))
        if not secret.exists():
            secret.write_text(secrets.token_hex(32) + "\n", encoding="ascii")
            secret.chmod(0o600)
    site = out / "site.toml"
    site.write_text(text, encoding="utf-8")
    return site


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: fill-site.py OUT_DIR TEMPLATE DATA_DIR")
    print(fill(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])))
