"""`kiosk config check` refuses a file that cannot run a cabin: the untouched template,
placeholders, example hosts, missing or unusable files; the schema refuses bad URL
schemes, empty paths and wrong phone numbers. Every refusal is one sentence."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kiosk_config import EXAMPLES, ConfigError, check_config, parse_config
from kiosk_config.readiness import TEMPLATE, host_problem, template_placeholders

DEMO = (EXAMPLES / "demo.toml").read_text(encoding="utf-8")
TEMPLATE_TEXT = TEMPLATE.read_text(encoding="utf-8")


def _sentences(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        check_config(path)
    return [p.sentence() for p in info.value.problems]


def _schema(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "site.toml")
    return [p.sentence() for p in info.value.problems]


def _write(tmp_path: Path, text: str, name: str = "site.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _pem_pair(folder: Path, stem: str = "cabin") -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, stem)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{stem}.pem", folder / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def _filled_template(tmp_path: Path) -> str:
    """The cabin template as a technician fills it in: every CHANGE ME replaced."""
    cert, key = _pem_pair(tmp_path)
    ca, _ = _pem_pair(tmp_path, "ca")
    (tmp_path / "data").mkdir()
    secret = tmp_path / "cabin-secret"
    secret.write_text("ab" * 32)
    secret.chmod(0o600)
    replacements = {
        'cabin_id = "CAB-0001"': 'cabin_id = "CAB-LYON-0042"',
        'name = "Pharmacie du Marché"': 'name = "Pharmacie des Terreaux"',
        'phone = "04 72 00 00 00"': 'phone = "+33 (0)4 78 28 12 34"',
        'street = "3 place du Marché"': 'street = "8 place des Terreaux"',
        "https://platform.example.org": "https://fhir.telecabine.fr",
        "/etc/telecabine/platform-ca.pem": str(ca),
        "/etc/telecabine/cabin.pem": str(cert),
        "/etc/telecabine/cabin.key": str(key),
        "/etc/telecabine/cabin-secret": str(secret),
        "turns:turn.example.org:5349": "turns:turn.telecabine.fr:5349",
        'credential = "CHANGE ME"': 'credential = "s3cr3t-from-the-platform"',
        '"/var/lib/telecabine"': f'"{tmp_path / "data"}"',
        "AA:BB:CC:DD:EE:01": "C4:7F:51:10:22:31",
        "AA:BB:CC:DD:EE:02": "C4:7F:51:10:22:32",
        'name = "Maison de santé pluriprofessionnelle"': 'name = "MSP des Pentes"',
        'phone = "04 72 00 00 01"': 'phone = "04 72 00 11 22"',
    }
    text = TEMPLATE_TEXT
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def test_the_untouched_template_is_refused_key_by_key(tmp_path: Path) -> None:
    sentences = _sentences(TEMPLATE)
    keys = [s.split("'")[1] for s in sentences]
    assert keys == [
        "site.cabin_id",
        "site.name",
        "site.phone",
        "site.address.street",
        "platform.url",
        "platform.ca_file",
        "platform.client_cert_file",
        "platform.client_key_file",
        "platform.cabin_key_file",
        "platform.ice_servers[0].urls[0]",
        "platform.ice_servers[0].credential",
        "devices[2].ble_address",
        "devices[3].ble_address",
        "nearby_places[0].name",
        "nearby_places[0].phone",
    ]
    assert (
        "'platform.url' has 'https://platform.example.org': is an example host (RFC 2606):"
        " expected a real host name." in sentences
    )
    assert (
        "'platform.ice_servers[0].credential' has 'CHANGE ME': is a placeholder of the cabin"
        " template: expected this cabin's own value." in sentences
    )
    assert (
        "'platform.ca_file' has '/etc/telecabine/platform-ca.pem': does not exist:"
        " expected an existing file." in sentences
    )
    assert (
        "'site.cabin_id' has 'CAB-0001': is the cabin template's example value (marked"
        " CHANGE ME): expected this cabin's own value." in sentences
    )


def test_a_filled_in_template_is_ready(tmp_path: Path) -> None:
    report = check_config(_write(tmp_path, _filled_template(tmp_path)))
    assert report.config.site.phone == "04 78 28 12 34"
    assert report.config.site.address_lines() == (
        "Pharmacie des Terreaux",
        "8 place des Terreaux",
        "69001 Lyon",
    )
    # The serial port of the tensiometer is not plugged in on this machine: a note, not an error.
    assert [w.key for w in report.warnings] == (
        [] if Path("/dev/ttyUSB0").exists() else ["devices[4].serial_port"]
    )


@pytest.mark.parametrize(
    "placeholder", ["CHANGE ME", "change me", "Change-Me", "CHANGE_ME", "changeme", "xx CHANGE ME"]
)
def test_change_me_in_any_case_anywhere_is_refused(tmp_path: Path, placeholder: str) -> None:
    text = DEMO.replace('hours = "tous les jours, de 9 h à 21 h"', f'hours = "{placeholder}"')
    assert _sentences(_write(tmp_path, text)) == [
        f"'nearby_places[1].hours' has {placeholder!r}: is a placeholder of the cabin template:"
        " expected this cabin's own value."
    ]


@pytest.mark.parametrize(
    "host",
    [
        "example.org",
        "example.com",
        "fhir.example.net",
        "platform.example",
        "kiosk.invalid",
        "fhir.test",
        "EXAMPLE.ORG",
    ],
)
def test_example_hosts_are_refused_in_every_mode(tmp_path: Path, host: str) -> None:
    text = DEMO.replace("http://127.0.0.1:8780", f"https://{host}:8443")
    (sentence,) = _sentences(_write(tmp_path, text))
    assert sentence.startswith(f"'platform.url' has 'https://{host}:8443': is ")
    assert "expected a real host name" in sentence


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "app.localhost", "0.0.0.0"])
def test_this_computer_is_refused_in_production_only(tmp_path: Path, host: str) -> None:
    text = DEMO.replace("http://127.0.0.1:8780", f"http://{host}:8780")
    assert check_config(_write(tmp_path, text)).config.platform.url.startswith("http://")
    production = text.replace('mode = "test"', 'mode = "production"').replace(
        '"var/demo"', f'"{tmp_path / "data"}"'
    )
    (sentence,) = _sentences(_write(tmp_path, production, "prod.toml"))
    assert sentence == (
        f"'platform.url' has 'http://{host}:8780': is this computer itself: expected the"
        ' platform\'s host (or mode = "test").'
    )


def test_host_problem_lets_real_hosts_through() -> None:
    for host in ("fhir.telecabine.fr", "10.0.0.4", "example.org.fr", "myexample.org"):
        assert host_problem(host, production=True) is None, host


def test_missing_unreadable_and_mismatched_files(tmp_path: Path) -> None:
    cert, key = _pem_pair(tmp_path)
    other_cert, _ = _pem_pair(tmp_path, "other")
    base = DEMO.replace('url = "http://127.0.0.1:8780"', 'url = "http://127.0.0.1:8780"\n{extra}')

    def check(extra: str) -> list[str]:
        return _sentences(_write(tmp_path, base.replace("{extra}", extra)))

    assert check(f'ca_file = "{tmp_path / "nope.pem"}"') == [
        f"'platform.ca_file' has '{tmp_path / 'nope.pem'}': does not exist: expected an existing"
        " file."
    ]
    assert check(f'ca_file = "{tmp_path}"') == [
        f"'platform.ca_file' has '{tmp_path}': is not a file: expected a PEM file."
    ]
    (sentence,) = check(f'ca_file = "{tmp_path / "site.toml"}"')
    assert "is not a PEM CA certificate" in sentence
    (sentence,) = check(f'client_cert_file = "{other_cert}"\nclient_key_file = "{key}"')
    assert sentence.startswith(f"'platform.client_cert_file' has '{other_cert}': is not a PEM")
    assert check(f'client_key_file = "{key}"') == [
        f"'platform.client_key_file' has '{key}': is given without 'platform.client_cert_file':"
        " expected both, or neither."
    ]
    relative = check('client_cert_file = "certs/absent.pem"')
    assert relative == [
        f"'platform.client_cert_file' has 'certs/absent.pem': does not exist (from {Path.cwd()}):"
        " expected an existing file."
    ]
    ok = _write(
        tmp_path, base.replace("{extra}", f'client_cert_file = "{cert}"\nclient_key_file = "{key}"')
    )
    assert check_config(ok).config.platform.client_cert_file == cert
    if os.geteuid() != 0:
        key.chmod(0)
        (sentence,) = check(f'client_cert_file = "{cert}"\nclient_key_file = "{key}"')
        assert sentence == (
            f"'platform.client_key_file' has '{key}': cannot be read by this user:"
            " expected a readable file."
        )


def test_production_paths_are_absolute(tmp_path: Path) -> None:
    text = DEMO.replace('mode = "test"', 'mode = "production"').replace(
        "127.0.0.1", "fhir.telecabine.fr"
    )
    assert _sentences(_write(tmp_path, text)) == [
        "'storage.data_dir' has 'var/demo': is a relative path: expected an absolute path in"
        " production (e.g. /var/lib/telecabine)."
    ]
    a_file = _write(tmp_path, "", "not-a-folder")
    text = DEMO.replace('"var/demo"', f'"{a_file}"')
    assert _sentences(_write(tmp_path, text)) == [
        f"'storage.data_dir' has '{a_file}': is not a folder: expected a folder."
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", "javascript:alert(1)"),
        ("url", "file:///etc/passwd"),
        ("url", "data:text/html,hi"),
        ("url", "ftp://platform.telecabine.fr"),
        ("url", "https://user:pw@platform.telecabine.fr"),
        ("url", "https://"),
        ("url", "https://platform telecabine.fr"),
        ("url", "https://platform.telecabine.fr:99999"),
        ("url", ""),
    ],
)
def test_platform_url_is_http_or_https_only(field: str, value: str) -> None:
    (sentence,) = _schema(DEMO.replace('url = "http://127.0.0.1:8780"', f'{field} = "{value}"'))
    assert sentence.startswith(f"'platform.url' has {value!r}: expected a")
    assert "URL" in sentence


@pytest.mark.parametrize(
    "url",
    [
        "stun:stun.telecabine.fr",
        "stun:stun.telecabine.fr:3478",
        "turn:turn.telecabine.fr:3478?transport=udp",
        "turns:turn.telecabine.fr:5349?transport=tcp",
        "turn:[2001:db8::1]:3478",
    ],
)
def test_ice_urls_take_stun_turn_turns(url: str) -> None:
    cfg = parse_config(DEMO + f'\n[[platform.ice_servers]]\nurls = ["{url}"]\n')
    assert cfg.platform.ice_servers[0].urls == (url,)


@pytest.mark.parametrize(
    "url",
    [
        "https://turn.telecabine.fr",
        "javascript:alert(1)",
        "turn:",
        "turn://turn.telecabine.fr:3478",
        "stun:stun.telecabine.fr?transport=udp",
        "turn:turn.telecabine.fr:0",
        "stuns:stun.telecabine.fr",
    ],
)
def test_ice_urls_refuse_other_schemes(url: str) -> None:
    text = DEMO + f'\n[[platform.ice_servers]]\nurls = ["{url}"]\n'
    (sentence,) = _schema(text)
    assert sentence.startswith(f"'platform.ice_servers[0].urls[0]' has {url!r}: expected a")


@pytest.mark.parametrize(
    ("key", "old"),
    [
        ("storage.data_dir", 'data_dir = "var/demo"'),
        ("platform.ca_file", 'url = "http://127.0.0.1:8780"'),
    ],
)
@pytest.mark.parametrize("empty", ['""', '"   "'])
def test_empty_paths_are_refused(key: str, old: str, empty: str) -> None:
    name = key.split(".")[1]
    new = f"{name} = {empty}" if name == "data_dir" else f"{old}\n{name} = {empty}"
    (sentence,) = _schema(DEMO.replace(old, new))
    assert sentence == (
        f"'{key}' has {empty.replace(chr(34), chr(39))}: expected a file or folder path,"
        " not an empty value."
    )


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("0472102030", "04 72 10 20 30"),
        ("04.72.10.20.30", "04 72 10 20 30"),
        ("04-72-10-20-30", "04 72 10 20 30"),
        ("+33 4 72 10 20 30", "04 72 10 20 30"),
        ("+33 (0)4 72 10 20 30", "04 72 10 20 30"),
        ("0033472102030", "04 72 10 20 30"),
        ("+262 262 12 34 56", "02 62 12 34 56"),
        ("09 70 12 34 56", "09 70 12 34 56"),
    ],
)
def test_site_phone_is_a_french_number(written: str, kept: str) -> None:
    cfg = parse_config(DEMO.replace('phone = "01 23 45 67 00"', f'phone = "{written}"'))
    assert cfg.site.phone == kept


@pytest.mark.parametrize(
    "written", ["15", "112", "0072102030", "04 72 10 20", "+44 20 7946 0000", "téléphone", ""]
)
def test_a_wrong_site_phone_says_what_is_expected(written: str) -> None:
    (sentence,) = _schema(DEMO.replace('phone = "01 23 45 67 00"', f'phone = "{written}"'))
    assert sentence == (
        f"'site.phone' has {written!r}: expected a French phone number of ten digits such as"
        " '04 72 10 20 30' or '+33 4 72 10 20 30'."
    )


def test_site_phone_is_optional_and_its_absence_is_a_note(tmp_path: Path) -> None:
    text = DEMO.replace('phone = "01 23 45 67 00"\n', "")
    report = check_config(_write(tmp_path, text))
    assert report.config.site.phone is None
    assert [w.sentence() for w in report.warnings] == [
        "'site.phone': is not set: the doctor's summary will have no number to call the site back."
    ]


def test_address_on_one_or_two_lines() -> None:
    site = parse_config(DEMO).site
    assert site.address.lines() == (
        "1 place de la Mairie, dans la pharmacie, au fond à droite",
        "75001 Paris",
    )
    assert site.address_lines(with_name=False, lines=1) == (
        "1 place de la Mairie, dans la pharmacie, au fond à droite, 75001 Paris",
    )
    bare = parse_config(DEMO.replace('complement = "dans la pharmacie, au fond à droite"\n', ""))
    assert bare.site.address_lines() == (
        "Pharmacie de démonstration",
        "1 place de la Mairie",
        "75001 Paris",
    )
    assert bare.site.address.one_line() == "1 place de la Mairie, 75001 Paris"


def test_template_marks_are_read_from_its_comments() -> None:
    marked = template_placeholders(TEMPLATE)
    assert marked["site.cabin_id"] == ["CAB-0001"]
    assert marked["devices[*].ble_address"] == ["AA:BB:CC:DD:EE:01", "AA:BB:CC:DD:EE:02"]
    assert marked["platform.ice_servers[*].urls[*]"] == ["turns:turn.example.org:5349"]
    assert "site.address.city" not in marked  # a real cabin may well be in Lyon


def test_cli_refuses_the_template_and_notes_warnings(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "app.cli", "config", "check", str(TEMPLATE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 2
    assert "15 problem(s)" in res.stderr
    assert "Traceback" not in res.stderr
    no_phone = _write(tmp_path, DEMO.replace('phone = "01 23 45 67 00"\n', ""))
    ok = subprocess.run(
        [sys.executable, "-m", "app.cli", "config", "check", str(no_phone)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "  note: 'site.phone': is not set" in ok.stdout


def test_kiosk_run_refuses_the_untouched_cabin_template_before_starting_anything(
    tmp_path: Path,
) -> None:
    """A cabin started on the template would take patients and fail them: it stops first."""
    env = {"PATH": "/usr/sbin:/usr/bin:/bin", "HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "run", "--config", str(TEMPLATE)],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "placeholder of the cabin template" in result.stderr
    assert "configuration is not ready; nothing was started" in result.stderr
    assert "Traceback" not in result.stderr
