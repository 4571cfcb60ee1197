"""Whatever bytes the site file holds, the loader answers with `ConfigError` sentences,
never a traceback (issue 18: non-UTF-8, deep nesting, huge files)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk_config import EXAMPLES, ConfigError, check_config, load_config, parse_config
from kiosk_config.loader import MAX_BYTES

DEMO = (EXAMPLES / "demo.toml").read_bytes()


def _only_sentences(data: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "site.toml"
    path.write_bytes(data)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return [p.sentence() for p in info.value.problems]


def test_a_file_that_is_not_utf8_is_one_sentence(tmp_path: Path) -> None:
    latin1 = DEMO.decode("utf-8").encode("latin-1")
    offset = latin1.index(b"\xe9")
    assert _only_sentences(latin1, tmp_path) == [
        f"'(file)': is not UTF-8 text (byte 0xe9 at offset {offset}):"
        " expected a TOML file saved as UTF-8."
    ]


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_bytes(b"\xef\xbb\xbf" + DEMO)
    assert load_config(path).site.cabin_id == "DEMO-CAB-01"


@pytest.mark.parametrize("depth", [9, 400, 5_000, 40_000])
def test_deeply_nested_arrays_and_tables_are_one_sentence(tmp_path: Path, depth: int) -> None:
    arrays = b"x = " + b"[" * depth + b"]" * depth + b"\n"
    tables = b"x = " + b"{a = " * depth + b"1" + b"}" * depth + b"\n"
    for data in (arrays, tables):
        assert _only_sentences(data, tmp_path) == [
            "'(file)': nests tables or arrays more than 8 deep: expected a site configuration."
        ]


def test_a_huge_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    huge = DEMO + b"# " + b"x" * (MAX_BYTES + 10) + b"\n"
    assert _only_sentences(huge, tmp_path) == [
        "'(file)': is larger than 256 KiB: expected a site file of a few KiB."
    ]


def test_a_huge_integer_and_binary_garbage_are_sentences(tmp_path: Path) -> None:
    assert _only_sentences(
        DEMO.replace(b"retention_days = 1", b"retention_days = " + b"9" * 5000), tmp_path
    )
    assert _only_sentences(b"\x00\xff\xfe garbage", tmp_path)
    assert _only_sentences(b"", tmp_path)[0].startswith("'site': is required")


def test_a_folder_or_a_bad_path_is_a_sentence(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(tmp_path)
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(str(tmp_path / "a\x00b.toml"))


def test_the_cli_never_shows_a_traceback(tmp_path: Path) -> None:
    cases = {
        "latin1.toml": DEMO.decode("utf-8").encode("latin-1"),
        "deep.toml": b"x = " + b"[" * 3000 + b"]" * 3000,
        "huge.toml": b"#" * (MAX_BYTES * 2),
        "binary.toml": bytes(range(256)),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        res = subprocess.run(
            [sys.executable, "-m", "app.cli", "config", "check", str(tmp_path / name)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert res.returncode == 2, name
        assert "Traceback" not in res.stderr, (name, res.stderr)
        assert "'(file)'" in res.stderr or "is required" in res.stderr, (name, res.stderr)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_give_only_the_typed_error(data: bytes) -> None:
    try:
        parse_config(data, "fuzz.toml")
    except ConfigError as exc:
        assert exc.problems and all(p.sentence() for p in exc.problems)


_toml_value = st.recursive(
    st.none().map(lambda _: '"x"')
    | st.integers().map(str)
    | st.text(max_size=20).map(lambda s: '"' + s.replace("\\", "").replace('"', "") + '"')
    | st.sampled_from(["true", "inf", "nan", "1979-05-27", '""', "-0", "[]", "{}"]),
    lambda inner: st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(DEMO.decode("utf-8").splitlines()),
    _toml_value,
)
def test_any_value_in_place_of_a_demo_value_gives_only_the_typed_error(
    line: str, value: str
) -> None:
    """Mutations of a real file reach the schema (not just the TOML parser)."""
    if "=" not in line or line.lstrip().startswith("#"):
        return
    key = line.split("=", 1)[0]
    text = DEMO.decode("utf-8").replace(line, f"{key}= {value}", 1)
    try:
        parse_config(text, "fuzz.toml")
    except ConfigError as exc:
        assert exc.problems and all(p.sentence() for p in exc.problems)


def test_check_config_is_as_safe_as_the_loader(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_bytes(b"x = " + b"[" * 3000 + b"]" * 3000)
    with pytest.raises(ConfigError, match="nests tables or arrays"):
        check_config(path)
