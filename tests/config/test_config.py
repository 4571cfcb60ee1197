"""Site configuration: examples load, and every bad file is explained."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kiosk_config import EXAMPLES, ConfigError, Mode, load_config, parse_config

DEMO = (EXAMPLES / "demo.toml").read_text(encoding="utf-8")


def test_examples_load() -> None:
    demo = load_config(EXAMPLES / "demo.toml")
    assert demo.site.mode is Mode.TEST
    assert [d.kind for d in demo.devices] == [
        "card-reader",
        "camera",
        "thermometer",
        "oximeter",
        "tensiometer",
    ]
    cabin = load_config(EXAMPLES / "cabin-template.toml")
    assert cabin.site.mode is Mode.PRODUCTION
    assert cabin.platform.ice_servers[0].urls == ("turns:turn.example.org:5349",)


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "site.toml")
    return [p.sentence() for p in info.value.problems]


def test_unknown_key_suggests_the_close_one() -> None:
    text = DEMO.replace("retention_days = 1", "retension_days = 1")
    assert _problems(text) == [
        "'storage.retension_days': is not a known key. Did you mean 'retention_days'?"
    ]


def test_bad_value_names_key_value_and_expectation() -> None:
    text = DEMO.replace("baud_rate = 9600", "baud_rate = 9601")
    (sentence,) = _problems(text)
    assert sentence.startswith("'devices[4].baud_rate' has 9601: expected one of 1200")


def test_missing_key_says_what_it_is_for() -> None:
    text = DEMO.replace('insee_code = "75056"\n', "")
    (sentence,) = _problems(text)
    assert sentence.startswith("'site.insee_code': is required (INSEE (COG) code")


def test_corsican_insee_code_is_accepted() -> None:
    cfg = parse_config(DEMO.replace('insee_code = "75056"', 'insee_code = "2A004"'))
    assert cfg.site.insee_code == "2A004"


def test_real_ble_device_needs_an_address() -> None:
    text = DEMO.replace('kind = "thermometer"\nbackend = "simulated"', 'kind = "thermometer"')
    (sentence,) = _problems(text)
    assert "a real thermometer device needs 'ble_address'" in sentence


def test_french_is_required_and_duplicate_devices_refused() -> None:
    assert any("French" in s for s in _problems(DEMO.replace('["fr", "en", "ar"]', '["en"]')))
    dup = DEMO.replace('id = "oxi-1"', 'id = "thermo-1"')
    assert any("used twice" in s for s in _problems(dup))


def test_not_toml_and_unreadable_file(tmp_path: Path) -> None:
    assert _problems("this is = = not toml")[0].startswith("'(file)': is not valid TOML")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(tmp_path / "absent.toml")


def test_cli_config_check(tmp_path: Path) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "app.cli", "config", "check", str(EXAMPLES / "demo.toml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "DEMO-CAB-01" in ok.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(DEMO.replace("retention_days = 1", "retention_days = -3"), encoding="utf-8")
    res = subprocess.run(
        [sys.executable, "-m", "app.cli", "config", "check", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 2
    assert "'storage.retention_days' has -3" in res.stderr


def test_the_upload_section_has_defaults_and_ranges_and_reaches_the_sender() -> None:
    from app.sync.service import upload_settings_from
    from app.sync.upload import UploadSettings

    assert upload_settings_from(load_config(EXAMPLES / "demo.toml")) == UploadSettings()
    cabin = load_config(EXAMPLES / "cabin-template.toml")
    assert cabin.platform.upload.strategy == "auto"
    section = '[platform.upload]\nstrategy = "conditional-create"\nmax_conditional_entries = 4\n\n'
    tuned = DEMO.replace("[storage]", section + "[storage]", 1)
    settings = upload_settings_from(parse_config(tuned, "site.toml"))
    assert (settings.strategy, settings.max_conditional_entries) == ("conditional-create", 4)
    too_big = tuned.replace("max_conditional_entries = 4", "max_conditional_entries = 5000")
    (sentence,) = _problems(too_big)
    assert sentence.startswith("'platform.upload.max_conditional_entries' has 5000")
    (sentence,) = _problems(tuned.replace('"conditional-create"', '"put"'))
    assert sentence.startswith("'platform.upload.strategy' has 'put'")
