"""`kiosk store verify|stats|rekey` as a technician runs them (in-process `main`, real files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main
from app.store import FileKeySource, Store
from app.store.migrations import LATEST_VERSION
from tests.store import factories as f
from tests.store.conftest import raw_connection


def _store(data_dir: Path) -> None:
    with Store.open(data_dir, FileKeySource(data_dir), f.FakeClock()) as s:
        s.begin_session("s-1", "CAB-01")
        s.record_identity("s-1", f.identity("CLINAME"))
        s.record_measurement("s-1", f.temperature())
        s.end_session("s-1", "completed")


def test_verify_on_a_clean_store(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _store(data_dir)
    assert main(["store", "verify", "--data-dir", str(data_dir)]) == 0
    assert capsys.readouterr().out == (
        f"store {data_dir / 'store.db'}\n"
        "ok      cipher_integrity_check: clean\n"
        "ok      integrity_check: clean\n"
        "ok      no damaged database moved aside\n"
        "ok      audit chain intact (5 rows)\n"
        "verdict: ok\n"
    )


def test_verify_says_exactly_where_the_chain_breaks(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _store(data_dir)
    conn = raw_connection(data_dir)
    conn.execute("UPDATE audit_log SET detail = 'measurement=m-9 source=device' WHERE id = 4")
    conn.close()
    assert main(["store", "verify", "--data-dir", str(data_dir)]) == 1
    out = capsys.readouterr().out
    assert (
        "BROKEN  audit chain broken at row 4: its content does not match its hash; the row was edited.\n"
        in out
    )
    assert out.endswith("verdict: BROKEN\n")


def test_verify_names_damaged_pages_without_moving_the_file(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _store(data_dir)
    db = data_dir / "store.db"
    data = bytearray(db.read_bytes())
    data[2 * 4096 + 300] ^= 0x40  # page 3
    db.write_bytes(bytes(data))
    assert main(["store", "verify", "--data-dir", str(data_dir)]) == 1
    out = capsys.readouterr().out
    assert "BROKEN  cipher_integrity_check: \n" in out
    assert "HMAC verification failed for page 3" in out
    assert db.read_bytes() == bytes(data)  # verify changes nothing


def test_verify_with_the_wrong_key_or_no_store(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _store(data_dir)
    from app.store import StoreKey
    from app.store.keys import write_secret_file

    write_secret_file(data_dir / "store.key", StoreKey.generate().hex_for_file())
    assert main(["store", "verify", "--data-dir", str(data_dir)]) == 2
    assert capsys.readouterr().err == (
        "kiosk store: The store key does not open the database store.db; the file was left "
        "untouched. Maintenance is needed: restore the right key for this cabin.\n"
    )
    assert main(["store", "stats", "--data-dir", str(tmp_path / "empty")]) == 2
    assert (
        capsys.readouterr().err
        == f"kiosk store: There is no store in {tmp_path / 'empty'} (no store.db file).\n"
    )


def test_stats_counts_without_health_data(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _store(data_dir)
    assert main(["store", "stats", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    lines = dict(line.split(None, 1) for line in out.splitlines())
    assert lines["rows.sessions"] == "1"
    assert lines["rows.measurements"] == "1"
    assert lines["outbox.ready"] == "1"
    assert lines["schema_version"] == str(LATEST_VERSION)
    assert int(lines["size.pages"]) > 10
    assert "CLINAME" not in out and "38.4" not in out and f.NIR not in out


def test_data_dir_from_the_site_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kiosk_config import EXAMPLES

    data_dir = tmp_path / "site-data"
    _store(data_dir)
    text = (
        (EXAMPLES / "demo.toml")
        .read_text()
        .replace('data_dir = "var/demo"', f'data_dir = "{data_dir}"')
    )
    config = tmp_path / "site.toml"
    config.write_text(text)
    assert main(["store", "verify", "--config", str(config)]) == 0
    assert capsys.readouterr().out.startswith(f"store {data_dir / 'store.db'}\n")


def test_rekey_from_the_command_line(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _store(data_dir)
    old = (data_dir / "store.key").read_bytes()
    assert main(["store", "rekey", "--data-dir", str(data_dir), "--key-source", "file"]) == 0
    out = capsys.readouterr().out
    assert out == (
        f"store {data_dir / 'store.db'} re-encrypted with a new key (key file {data_dir / 'store.key'}).\n"
    )
    new = (data_dir / "store.key").read_bytes()
    assert new != old and old.decode() not in out and new.decode() not in out
    assert main(["store", "verify", "--data-dir", str(data_dir)]) == 0


def test_rekey_refuses_while_the_kiosk_has_the_store_open(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store.open(data_dir, FileKeySource(data_dir), f.FakeClock()):
        assert main(["store", "rekey", "--data-dir", str(data_dir)]) == 2
    assert "already open in another process (is the kiosk running?)" in capsys.readouterr().err
