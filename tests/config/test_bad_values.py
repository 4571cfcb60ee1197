"""Issue 18, part 5: every bad value of a site file is one sentence, never a traceback.

What the attack run found or could have: URLs of other schemes, empty or
meaningless paths, paths the system cannot even look at (too long, a NUL),
empty emergency numbers and names. `check_config` (what `kiosk config check`
and `kiosk run` call) must answer `ConfigError` or a report, whatever the file.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk_config import EXAMPLES, ConfigError, check_config
from kiosk_config.loader import shown_value

DEMO = (EXAMPLES / "demo.toml").read_text(encoding="utf-8")
LONG = "a" * 300


def _sentences(text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        check_config(path)
    return [p.sentence() for p in info.value.problems]


def _with(old: str, new: str) -> str:
    assert old in DEMO
    return DEMO.replace(old, new, 1)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "file:///etc/passwd",
        "data:text/html,<script>x</script>",
        "ftp://platform.net",
        "ws://platform.net",
        "//platform.net",
        "platform.net",
        " https://platform.net",
        "",
    ],
)
def test_platform_url_of_another_scheme_is_one_sentence(url: str, tmp_path: Path) -> None:
    sentences = _sentences(_with('url = "http://127.0.0.1:8780"', f'url = "{url}"'), tmp_path)
    assert len(sentences) == 1
    assert sentences[0].startswith("'platform.url' has ")
    assert "http:// or https:// URL" in sentences[0]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ('""', "expected a file or folder path, not an empty value."),
        ('"   "', "expected a file or folder path, not an empty value."),
        ('"."', "expected a folder of the kiosk's own, not the current folder or the disk's root."),
        ('"/"', "expected a folder of the kiosk's own, not the current folder or the disk's root."),
        ('"var/\\u0000x"', "expected a path without control characters or surrounding spaces."),
    ],
)
def test_data_dir_names_a_folder_of_its_own(written: str, expected: str, tmp_path: Path) -> None:
    sentences = _sentences(_with('data_dir = "var/demo"', f"data_dir = {written}"), tmp_path)
    assert len(sentences) == 1
    assert sentences[0].startswith("'storage.data_dir' has ")
    assert sentences[0].endswith(expected)


def test_relative_data_dir_is_refused_in_production(tmp_path: Path) -> None:
    text = _with('mode = "test"', 'mode = "production"')
    sentences = _sentences(text, tmp_path)
    assert (
        "'storage.data_dir' has 'var/demo': is a relative path: expected an absolute path in "
        "production (e.g. /var/lib/telecabine)."
    ) in sentences


@pytest.mark.parametrize("data_dir", [f"/{LONG}/kiosk", LONG])
def test_a_data_dir_the_system_cannot_look_at_is_a_sentence(data_dir: str, tmp_path: Path) -> None:
    sentences = _sentences(_with('data_dir = "var/demo"', f'data_dir = "{data_dir}"'), tmp_path)
    assert len(sentences) == 1
    assert sentences[0].startswith("'storage.data_dir' has ")
    assert sentences[0].endswith(
        ": cannot be looked at (File name too long): expected a usable path."
    )


def test_a_serial_port_the_system_cannot_look_at_is_a_sentence(tmp_path: Path) -> None:
    text = _with(
        'backend = "simulated"\nbaud_rate',
        f'backend = "real"\nserial_port = "/dev/{LONG}"\nbaud_rate',
    )
    sentences = _sentences(text, tmp_path)
    assert len(sentences) == 1
    assert sentences[0].startswith("'devices[4].serial_port' has '/dev/aaa")
    assert sentences[0].endswith(
        ": cannot be looked at (File name too long): expected a usable path."
    )


def test_a_certificate_path_the_system_cannot_look_at_is_a_sentence(tmp_path: Path) -> None:
    text = _with(
        'url = "http://127.0.0.1:8780"', f'url = "http://127.0.0.1:8780"\nca_file = "{LONG}"'
    )
    assert _sentences(text, tmp_path) == [
        f"'platform.ca_file' has {shown_value(LONG)}: cannot be looked at (File name too "
        "long): expected a usable path."
    ]


def test_a_data_dir_under_a_file_cannot_be_created(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    text = _with('data_dir = "var/demo"', f'data_dir = "{a_file}/kiosk"')
    assert _sentences(text, tmp_path) == [
        f"'storage.data_dir' has '{a_file}/kiosk': cannot be created (no existing folder above "
        "it): expected a folder path."
    ]


@pytest.mark.parametrize(
    ("old", "new", "sentence"),
    [
        (
            'backend = "simulated"\nbaud_rate',
            'backend = "real"\nserial_port = ""\nbaud_rate',
            "'devices[4].serial_port' has '': expected a file or folder path, not an empty value.",
        ),
        (
            'kind = "thermometer"\nbackend = "simulated"',
            'kind = "thermometer"\nble_address = ""',
            "'devices[2].ble_address' has '': expected a Bluetooth address of six hexadecimal "
            "pairs such as 'AA:BB:CC:DD:EE:01'.",
        ),
        (
            'kind = "thermometer"\nbackend = "simulated"',
            'kind = "thermometer"\nble_address = "AA:BB:CC:DD:EE"',
            "'devices[2].ble_address' has 'AA:BB:CC:DD:EE': expected a Bluetooth address of six "
            "hexadecimal pairs such as 'AA:BB:CC:DD:EE:01'.",
        ),
        (
            'reader_name = "Virtual PCD"',
            'reader_name = ""',
            "'devices[0].reader_name' has '': expected some text, not an empty value.",
        ),
        (
            'protocol = "accutorr"',
            'protocol = " "',
            "'devices[4].protocol' has ' ': expected some text, not an empty value.",
        ),
        (
            'name = "Maison de santé du Centre"',
            'name = ""',
            "'nearby_places[0].name' has '': expected some text, not an empty value.",
        ),
        (
            '[[nearby_places]]\nname = "Centre',
            '[emergency]\nsamu = ""\n\n[[nearby_places]]\nname = "Centre',
            "'emergency.samu' has '': expected a phone number of 2 to 20 digits, such as '15' or "
            "'01 40 05 48 48'.",
        ),
        (
            '[[nearby_places]]\nname = "Centre',
            '[emergency]\npoison = "call the centre"\n\n[[nearby_places]]\nname = "Centre',
            "'emergency.poison' has 'call the centre': expected a phone number of 2 to 20 digits, "
            "such as '15' or '01 40 05 48 48'.",
        ),
        (
            'url = "http://127.0.0.1:8780"',
            'url = "http://127.0.0.1:8780"\n\n[[platform.ice_servers]]\n'
            'urls = ["turn:turn.platform.net:3478"]\nusername = ""\ncredential = "x1"',
            "'platform.ice_servers[0].username' has '': expected some text, not an empty value.",
        ),
    ],
)
def test_empty_or_meaningless_values_are_one_sentence(
    old: str, new: str, sentence: str, tmp_path: Path
) -> None:
    assert _sentences(_with(old, new), tmp_path) == [sentence]


def test_good_values_of_the_new_rules_pass(tmp_path: Path) -> None:
    text = (
        _with(
            'kind = "thermometer"\nbackend = "simulated"',
            'kind = "thermometer"\nble_address = "aa:bb:cc:dd:ee:0f"',
        )
        + '\n[emergency]\npoison = "01 40 05 48 48"\nsamu = "+33 15"\n'
    )
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    config = check_config(path).config
    assert config.devices[2].ble_address == "aa:bb:cc:dd:ee:0f"
    assert config.emergency.poison == "01 40 05 48 48"


def test_the_cli_says_the_sentence_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(_with('data_dir = "var/demo"', f'data_dir = "/{LONG}/x"'), encoding="utf-8")
    res = subprocess.run(
        [sys.executable, "-m", "app.cli", "config", "check", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert "'storage.data_dir' has '/aaa" in res.stderr
    assert "cannot be looked at (File name too long)" in res.stderr


def _check_file(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "site.toml"
        path.write_bytes(data)
        try:
            check_config(path)
        except ConfigError as exc:
            assert exc.problems
            assert all(p.sentence().endswith((".", "?")) for p in exc.problems)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_any_bytes_through_check_config_give_a_report_or_the_typed_error(data: bytes) -> None:
    _check_file(data)


_value = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="a/.\\:-_ \x00", max_size=20),
    st.sampled_from(["", ".", "/", "a" * 300, "/" + "a" * 300, "javascript:x", "\u0000"]),
)


def _toml_string(text: str) -> str:
    escaped = "".join(
        c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}"
        for c in text
        if not 0xD800 <= ord(c) <= 0xDFFF
    )
    return f'"{escaped}"'


_STRING_LINES = [
    line for line in DEMO.splitlines() if "=" in line and line.split("=", 1)[1].strip()[:1] == '"'
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_STRING_LINES), _value, st.booleans())
def test_any_string_in_place_of_a_demo_string_gives_a_report_or_the_typed_error(
    line: str, value: str, real_devices: bool
) -> None:
    """Mutations reach check_config's own file and host checks, not only the schema."""
    key = line.split("=", 1)[0]
    text = DEMO.replace(line, f"{key}= {_toml_string(value)}", 1)
    if real_devices:
        text = text.replace('backend = "simulated"\nbaud_rate', 'backend = "real"\nbaud_rate')
        text = text.replace(
            'protocol = "accutorr"', f'protocol = "accutorr"\nserial_port = {_toml_string(value)}'
        )
    _check_file(text.encode("utf-8"))


def test_stat_says_why_a_path_cannot_be_looked_at(tmp_path: Path) -> None:
    """The seam under every path check: a bool, or the end of a sentence, never a raise."""
    from kiosk_config.readiness import _stat

    assert _stat(tmp_path) is True
    assert _stat(tmp_path / "missing") is False
    assert _stat(tmp_path / ("x" * 300)) == (
        "cannot be looked at (File name too long): expected a usable path"
    )
    assert _stat(Path("a\x00b")) is False  # pathlib answers False; the schema refuses NUL first
