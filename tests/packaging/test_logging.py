"""Logging: one set-up, three outputs (text, journal stream with <N>, native journal), and
never a health datum or an identity — driven with canary patient data on every path of the
set-up, then over the kiosk's own log calls during a whole session (the headless demo)."""

from __future__ import annotations

import io
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import logging_setup as ls

ROOT = Path(__file__).resolve().parents[2]
CANARY_NAME = "CANARYNAME" + uuid.uuid4().hex[:6].upper()
CANARY_NIR = "2900597411123" + "45"
CANARY_NIR_PRINTED = "2 90 05 97 411 123 45"
SESSION = uuid.uuid4().hex


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(ls._INSTALLED):
        root.removeHandler(handler)
        handler.close()
    ls._INSTALLED.clear()
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)
    logging.raiseExceptions = True


def _drive_every_path(log: logging.Logger) -> None:
    """Each way a caller could hand patient data to a log call."""
    log.info("kiosk started", extra={"device": "thermo-1"})
    log.warning("card read, NIR %s", CANARY_NIR)
    ls.hide(CANARY_NAME, "1990-05-14")
    log.warning("a caller's mistake: %s born %s", CANARY_NAME.lower(), "1990-05-14")
    log.warning("printed NIR %s", CANARY_NIR_PRINTED)
    log.error("incident", extra={"incident": "store-full", "session": SESSION})
    log.error("a field with a name", extra={"device": CANARY_NAME, "incident": CANARY_NAME})
    log.error("a session that is not an id", extra={"session": CANARY_NAME})
    try:
        raise ValueError(f"bad traits for {CANARY_NAME} born 1990-05-14, NIR {CANARY_NIR}")
    except ValueError as exc:
        log.exception("identity refused")
        log.warning("parser said %s", exc)
        log.warning("parser said %(why)s", {"why": exc})
    with ls.session_context(SESSION):
        log.info("inside the session")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn(f"deprecated for {CANARY_NIR}", UserWarning, stacklevel=1)
    ls.forget_hidden()


def _assert_clean(text: str) -> None:
    assert CANARY_NAME not in text and CANARY_NAME.lower() not in text
    assert CANARY_NIR not in text and CANARY_NIR_PRINTED not in text
    assert "1990-05-14" not in text
    assert "bad traits" not in text


def test_text_mode_has_time_level_logger_fields_and_no_canary() -> None:
    out = io.StringIO()
    assert ls.setup_logging("DEBUG", stream=out, env={}) == "text"
    _drive_every_path(logging.getLogger("kiosk.test"))
    text = out.getvalue()
    _assert_clean(text)
    lines = text.splitlines()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO kiosk\.test: kiosk started \[device=thermo-1\]",
        lines[0],
    )
    assert lines[2].endswith("WARNING kiosk.test: a caller's mistake: [hidden] born [hidden]")
    assert f"ERROR kiosk.test: incident [session={SESSION[:8]} incident=store-full]" in lines[4]
    assert lines[5].endswith("ERROR kiosk.test: a field with a name")  # fields dropped
    assert lines[6].endswith("ERROR kiosk.test: a session that is not an id")
    assert "card read, NIR [digits]" in text and "printed NIR [digits]" in text
    exception = next(line for line in lines if "identity refused" in line)
    assert "exception=ValueError at tests/packaging/test_logging.py" not in exception  # short path
    assert "[exception=ValueError at test_logging.py:" in exception
    assert "parser said ValueError" in text
    assert f"inside the session [session={SESSION[:8]}]" in text
    assert "WARNING py.warnings:" in text


def _journal_stream_env(stream: object) -> dict[str, str]:
    st = os.fstat(stream.fileno())  # type: ignore[attr-defined]
    return {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}


def test_journal_stream_lines_carry_a_priority_prefix(tmp_path: Path) -> None:
    with open(tmp_path / "stderr", "w+", encoding="utf-8") as stream:
        env = _journal_stream_env(stream)
        assert ls.output_mode(env, stream, str(tmp_path / "no-socket")) == "stream"
        assert ls.output_mode({"JOURNAL_STREAM": "1:2"}, stream) == "text"  # not our stderr
        ls.setup_logging("DEBUG", stream=stream, env=env, journal_socket=str(tmp_path / "none"))
        _drive_every_path(logging.getLogger("kiosk.test"))
        stream.flush()
        text = (tmp_path / "stderr").read_text(encoding="utf-8")
    _assert_clean(text)
    lines = text.splitlines()
    assert lines[0] == "<6>kiosk.test: kiosk started [device=thermo-1]"
    assert lines[1] == "<4>kiosk.test: card read, NIR [digits]"
    assert lines[4] == f"<3>kiosk.test: incident [session={SESSION[:8]} incident=store-full]"
    assert all(re.match(r"<[2-7]>", line) for line in lines)


def _parse(data: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    rest = data
    while rest:
        line, _, rest = rest.partition(b"\n")
        if b"=" in line:
            key, _, value = line.partition(b"=")
            fields[key.decode()] = value.decode()
        else:  # binary-safe form: KEY\n<u64 le length><data>\n
            size = int.from_bytes(rest[:8], "little")
            fields[line.decode()] = rest[8 : 8 + size].decode()
            rest = rest[8 + size + 1 :]
    return fields


class Journal(threading.Thread):
    """Plays journald: reads every datagram as it comes (a unix datagram queue holds ~10)."""

    def __init__(self, address: str) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.settimeout(0.2)
        self.entries: list[dict[str, str]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.entries.append(_parse(self.sock.recv(65536)))
            except TimeoutError:
                continue

    def stop(self) -> list[dict[str, str]]:
        time.sleep(0.3)
        self.stopping.set()
        self.join(5)
        self.sock.close()
        return self.entries


def test_native_journal_fields_and_no_canary(tmp_path: Path) -> None:
    address = str(tmp_path / "journal.socket")
    journal = Journal(address)
    journal.start()
    with open(tmp_path / "stderr", "w+", encoding="utf-8") as stream:
        env = _journal_stream_env(stream)
        assert ls.setup_logging("DEBUG", stream=stream, env=env, journal_socket=address) == (
            "journal"
        )
        _drive_every_path(logging.getLogger("kiosk.test"))
        entries = journal.stop()
    fell_back = (tmp_path / "stderr").read_text()
    _assert_clean(fell_back)
    # A burst over the datagram queue (10 here) goes to stderr, the journal's stream: no loss.
    assert len(entries) + fell_back.count("\n") == 12
    assert all(line.startswith("<") for line in fell_back.splitlines())
    _assert_clean(repr(entries))
    first = entries[0]
    assert first["MESSAGE"] == "kiosk started [device=thermo-1]"
    assert first["PRIORITY"] == "6" and first["SYSLOG_IDENTIFIER"] == "telecabine-kiosk"
    assert first["LOGGER"] == "kiosk.test" and first["KIOSK_DEVICE"] == "thermo-1"
    assert first["CODE_FILE"] == "test_logging.py"
    incident = next(e for e in entries if e["MESSAGE"].startswith("incident"))
    assert incident["PRIORITY"] == "3"
    assert incident["KIOSK_SESSION"] == SESSION[:8]
    assert incident["KIOSK_INCIDENT"] == "store-full"
    refused = next(e for e in entries if e["MESSAGE"].startswith("identity refused"))
    assert refused["KIOSK_EXCEPTION"].startswith("ValueError at test_logging.py:")
    assert not any("KIOSK_DEVICE" in e and e["KIOSK_DEVICE"] != "thermo-1" for e in entries)


def test_a_journal_that_went_away_falls_back_to_stderr(tmp_path: Path) -> None:
    stream = io.StringIO()
    handler = ls.JournalHandler(str(tmp_path / "gone.socket"), fallback=stream)
    handler.addFilter(ls.PrivacyFilter())
    record = logging.LogRecord("kiosk", logging.WARNING, __file__, 1, "x %s", (CANARY_NIR,), None)
    handler.handle(record)
    handler.close()
    assert stream.getvalue() == "<4>kiosk: x [digits]\n"


def test_no_canary_in_the_kiosk_logs_of_a_whole_session(tmp_path: Path) -> None:
    """The headless demo: a whole session (card read, INSi, devices, call, documents, sync) at
    DEBUG through the set-up. Its patient (kiosk_demo/cards.py, single-adult) is
    the canary: her names, birth date and NIR must appear nowhere in the output."""
    from kiosk_demo.cards import SINGLE_ADULT

    person = SINGLE_ADULT.beneficiaries[0]
    canaries = [person.surname, person.first_name, person.birth_date, person.nir[:13]]
    canaries += [person.first_name.split()[0] + " " + person.surname]
    code = (
        "import sys\n"
        "from app.logging_setup import setup_logging\n"
        "setup_logging('DEBUG', mode='text')\n"
        "from app.cli import main\n"
        f"sys.exit(main(['demo', '--headless', '--out', {str(tmp_path / 'out')!r}]))\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("JOURNAL_STREAM", None)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=240,
        check=False,
    )
    if done.returncode != 0 and "pcscd" in (done.stdout + done.stderr):
        pytest.skip("the headless demo needs pcscd with the virtual reader (scripts/setup.sh)")
    assert done.returncode == 0, done.stderr[-2000:]
    output = done.stdout + done.stderr
    loggers = set(re.findall(r"Z (?:DEBUG|INFO|WARNING|ERROR) ([\w.]+):", done.stderr))
    assert len(loggers) >= 8, loggers  # the set-up really carried the kiosk's own lines
    for canary in canaries:
        assert canary not in output, f"{canary!r} reached the log"
