"""One logging set-up for the kiosk and its commands: the journal on a cabin, stderr elsewhere.

    setup_logging()                      # once, first thing in `kiosk run` / `kiosk demo`
    log.warning("card read failed (%s)", type(exc).__name__, extra={"device": "card-1"})
    log.error("store full", extra={"incident": "store-full", "session": session_id})
    with session_context(session_id): ...   # every record inside carries its short id

Where the lines go, chosen from the environment (`output_mode`):

* ``journal``: systemd started us (JOURNAL_STREAM names our stderr, as it does
  for cage's child too) and the journal's socket is there: each record is one
  datagram in the journal's native protocol, with PRIORITY, the logger, the
  code location and the structured fields as journal fields (KIOSK_SESSION,
  KIOSK_INCIDENT, KIOSK_DEVICE), queryable with
  ``journalctl -u telecabine-kiosk KIOSK_INCIDENT=store-full``.
* ``stream``: JOURNAL_STREAM is ours but the socket cannot be used: plain
  stderr lines with a ``<N>`` syslog priority prefix, which journald reads as
  the line's priority (SyslogLevelPrefix=yes, its default).
* ``text``: anywhere else (a technician's shell, the demo, tests):
  ``2026-12-02T10:00:00.123Z WARNING kiosk.store: message [session=ab12cd34]``.

What never reaches a log line, whatever a caller passes (defence in depth; the
callers already log types, counts, ids and codes only):

* an exception's message or a traceback's variables: an exception is written
  as its type and the code locations it went through, never ``str(exc)``
  (a parser's error may quote the bytes it refused, a card's name or a value);
  an exception passed as a %-argument is replaced by its type name too;
* a run of 13 or more digits (a NIR, an INS, a card number): ``[digits]``;
* a value handed to `hide()` (the current patient's names, birth date: the
  controller hands them over at identification, `forget_hidden()` at the
  wipe): ``[hidden]``;
* any structured field other than the three above; the session id is cut to
  its short form (8 characters), the others must be short tokens.

No health datum, no identity: the canary test (tests/packaging/test_logging.py)
drives every path above, and the kiosk's own log calls, with canary patient
data and finds none of it in the output.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as _dt
import logging
import os
import re
import socket
import sys
import traceback
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import TextIO

IDENTIFIER = "telecabine-kiosk"  # SYSLOG_IDENTIFIER in the journal
JOURNAL_SOCKET = "/run/systemd/journal/socket"
LEVEL_ENV = "KIOSK_LOG_LEVEL"
FIELDS = ("session", "incident", "device")
SHORT_ID = 8
_MAX_MESSAGE = 4000
# Codes and device ids are lowercase tokens ("store-full", "thermo-1"); a name from a card
# is upper case and a sentence has spaces: neither passes. Session ids are random hex (uuid4).
_TOKEN = re.compile(r"^[a-z0-9][a-z0-9._:-]{0,63}$")
_SESSION = re.compile(r"^[0-9a-f][0-9a-f-]{7,63}$")
_LONG_DIGITS = re.compile(r"\d[\d ]{11,}\d")  # 13+ digits, spaces allowed (a NIR as printed)
_QUIET = {
    # Third-party chatter that would drown the kiosk's own lines (or, at DEBUG, quote packets).
    "aioice": logging.WARNING,
    "aiortc": logging.WARNING,
    "aiohttp": logging.WARNING,
    "asyncio": logging.WARNING,
    "bleak": logging.INFO,
    "PIL": logging.WARNING,
    "qasync": logging.WARNING,
}

_session: contextvars.ContextVar[str | None] = contextvars.ContextVar("log_session", default=None)


def short_id(session_id: str) -> str:
    """The session's short id for logs: its first 8 hex digits ('' if it is not a random id)."""
    text = str(session_id).strip().lower()
    if not _SESSION.match(text):
        return ""
    return text.replace("-", "")[:SHORT_ID]


@contextlib.contextmanager
def session_context(session_id: str | None) -> Iterator[None]:
    """Every record logged inside (this task and the tasks it starts) names the session."""
    token = _session.set(short_id(session_id) if session_id else None)
    try:
        yield
    finally:
        _session.reset(token)


def bind_session(session_id: str | None) -> None:
    """From now on in this context, records name `session_id` (None: no session)."""
    _session.set(short_id(session_id) if session_id else None)


_hidden: set[str] = set()


def hide(*values: str) -> None:
    """Values that must never be written (the current patient's names, birth date, NIR…).

    The session controller hands them over when the patient is identified and
    calls `forget_hidden()` at the wipe: a log line that quotes one by mistake
    gets ``[hidden]`` instead. Values shorter than 3 characters are ignored.
    """
    for value in values:
        text = str(value).strip()
        if len(text) >= 3:
            _hidden.add(text)
            _hidden.add(text.lower())
            _hidden.add(text.upper())


def forget_hidden() -> None:
    _hidden.clear()


def scrub(text: str) -> str:
    """Runs of 13 or more digits (NIR, INS, card numbers) become ``[digits]``; hidden values
    become ``[hidden]``."""
    for value in sorted(_hidden, key=len, reverse=True):
        if value in text:
            text = text.replace(value, "[hidden]")
    return _LONG_DIGITS.sub("[digits]", text)


def _safe_field(name: str, value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    if name == "session":
        return short_id(text) or None
    if _TOKEN.match(text) and not _LONG_DIGITS.search(text):
        return text
    return None


class PrivacyFilter(logging.Filter):
    """Makes every record safe to write: fields checked, exceptions reduced to their type."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields: dict[str, str] = {}
        if record.__dict__.get("session") is None:
            current = _session.get()
            if current:
                record.__dict__["session"] = current
        for name in FIELDS:
            safe = _safe_field(name, record.__dict__.get(name))
            if safe is not None:
                fields[name] = safe
        record.kiosk_fields = fields
        if record.args:
            if isinstance(record.args, Mapping):
                record.args = {k: _safe_arg(v) for k, v in record.args.items()}
            else:
                record.args = tuple(_safe_arg(a) for a in record.args)
        try:
            message = record.getMessage()
        except Exception as exc:  # a bad format string must not lose the line
            message = f"{record.msg!s} (unformattable: {type(exc).__name__})"
        record.kiosk_message = scrub(message)[:_MAX_MESSAGE]
        record.kiosk_exception = _exception_text(record.exc_info)
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


def _safe_arg(value: object) -> object:
    if isinstance(value, BaseException):
        return type(value).__name__
    return value


def _exception_text(
    exc_info: tuple[type[BaseException], BaseException, TracebackType | None]
    | tuple[None, None, None]
    | None,
) -> str:
    """``ValueError at app/x.py:12 in f < app/y.py:40 in g``: type and where, never the message."""
    if not exc_info or exc_info[0] is None:
        return ""
    kind, _value, tb = exc_info
    frames = traceback.extract_tb(tb)[-6:] if tb is not None else []
    where = " < ".join(
        f"{_short_path(f.filename)}:{f.lineno} in {f.name}" for f in reversed(frames)
    )
    return f"{kind.__name__}" + (f" at {where}" if where else "")


def _short_path(filename: str) -> str:
    for marker in ("/app/", "/drivers/", "/kiosk_config/", "/site-packages/"):
        if marker in filename:
            return marker.strip("/") + "/" + filename.split(marker, 1)[1]
    return os.path.basename(filename)


def _suffix(record: logging.LogRecord) -> str:
    fields: dict[str, str] = getattr(record, "kiosk_fields", {})
    parts = [f"{k}={v}" for k, v in fields.items()]
    exception = getattr(record, "kiosk_exception", "")
    if exception:
        parts.append(f"exception={exception}")
    return f" [{' '.join(parts)}]" if parts else ""


def _message(record: logging.LogRecord) -> str:
    return str(getattr(record, "kiosk_message", record.msg))


def syslog_priority(levelno: int) -> int:
    """journald's priorities: 3 err, 4 warning, 5 notice, 6 info, 7 debug (2 crit)."""
    if levelno >= logging.CRITICAL:
        return 2
    if levelno >= logging.ERROR:
        return 3
    if levelno >= logging.WARNING:
        return 4
    if levelno >= logging.INFO:
        return 6
    return 7


class TextFormatter(logging.Formatter):
    """``2026-12-02T10:00:00.123Z WARNING logger: message [fields]`` (UTC, like the trace)."""

    def format(self, record: logging.LogRecord) -> str:
        at = _dt.datetime.fromtimestamp(record.created, tz=_dt.UTC)
        stamp = at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
        return f"{stamp} {record.levelname} {record.name}: {_message(record)}{_suffix(record)}"


class StreamFormatter(logging.Formatter):
    """``<4>logger: message [fields]``: journald takes the priority from the prefix."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"{record.name}: {_message(record)}{_suffix(record)}"
        # One record = one journal entry: a newline would split it (and start a fake entry).
        text = text.replace("\n", " | ")
        return f"<{syslog_priority(record.levelno)}>{text}"


class JournalHandler(logging.Handler):
    """The journal's native protocol: one datagram per record, fields as KEY=value lines."""

    def __init__(self, address: str = JOURNAL_SOCKET, fallback: TextIO | None = None) -> None:
        super().__init__()
        self.address = address
        self.fallback = fallback
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        # Never block the UI loop on a busy journal: a full queue sends the line to stderr
        # (which systemd also hands to the journal) instead.
        self._sock.setblocking(False)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.close()
        super().close()

    def payload(self, record: logging.LogRecord) -> bytes:
        fields: dict[str, str] = {
            "MESSAGE": _message(record) + _suffix(record),
            "PRIORITY": str(syslog_priority(record.levelno)),
            "SYSLOG_IDENTIFIER": IDENTIFIER,
            "LOGGER": record.name,
            "CODE_FILE": _short_path(record.pathname or ""),
            "CODE_LINE": str(record.lineno),
            "CODE_FUNC": record.funcName or "",
        }
        for name, value in getattr(record, "kiosk_fields", {}).items():
            fields[f"KIOSK_{name.upper()}"] = value
        exception = getattr(record, "kiosk_exception", "")
        if exception:
            fields["KIOSK_EXCEPTION"] = exception
        out = bytearray()
        for key, value in fields.items():
            data = value.encode("utf-8", "replace")
            if b"\n" in data:
                out += key.encode() + b"\n" + len(data).to_bytes(8, "little") + data + b"\n"
            else:
                out += key.encode() + b"=" + data + b"\n"
        return bytes(out)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._sock.sendto(self.payload(record), self.address)
        except OSError:
            if self.fallback is not None:
                with contextlib.suppress(Exception):
                    self.fallback.write(StreamFormatter().format(record) + "\n")
                    self.fallback.flush()
        except Exception:
            self.handleError(record)


def stderr_is_journal(env: Mapping[str, str] | None = None, stream: TextIO | None = None) -> bool:
    """JOURNAL_STREAM is ``dev:inode`` of the journal stream systemd gave us: is it our stderr?"""
    value = (env if env is not None else os.environ).get("JOURNAL_STREAM", "")
    try:
        device, inode = (int(part) for part in value.split(":", 1))
        st = os.fstat((stream or sys.stderr).fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return st.st_dev == device and st.st_ino == inode


def output_mode(
    env: Mapping[str, str] | None = None,
    stream: TextIO | None = None,
    journal_socket: str = JOURNAL_SOCKET,
) -> str:
    if not stderr_is_journal(env, stream):
        return "text"
    return "journal" if os.path.exists(journal_socket) else "stream"


_INSTALLED: list[logging.Handler] = []


def setup_logging(
    level: int | str | None = None,
    *,
    stream: TextIO | None = None,
    mode: str | None = None,
    journal_socket: str = JOURNAL_SOCKET,
    env: Mapping[str, str] | None = None,
) -> str:
    """Install the kiosk's one handler on the root logger (again: replaces it). Returns the mode.

    `level`: a number or a name; default $KIOSK_LOG_LEVEL, else INFO.
    """
    environ = env if env is not None else os.environ
    out = stream if stream is not None else sys.stderr
    chosen = mode or output_mode(environ, out, journal_socket)
    resolved = level if level is not None else environ.get(LEVEL_ENV, "INFO")
    if isinstance(resolved, str):
        resolved = logging.getLevelNamesMapping().get(resolved.upper(), logging.INFO)
    root = logging.getLogger()
    for old in _INSTALLED:
        root.removeHandler(old)
        old.close()
    _INSTALLED.clear()
    handler: logging.Handler
    if chosen == "journal":
        handler = JournalHandler(journal_socket, fallback=out)
    else:
        handler = logging.StreamHandler(out)
        handler.setFormatter(StreamFormatter() if chosen == "stream" else TextFormatter())
    handler.addFilter(PrivacyFilter())
    root.addHandler(handler)
    root.setLevel(resolved)
    _INSTALLED.append(handler)
    for name, quiet in _QUIET.items():
        logging.getLogger(name).setLevel(max(quiet, resolved))
    logging.captureWarnings(True)
    # A handler that fails must not print "--- Logging error ---" with the record's arguments.
    logging.raiseExceptions = False
    return chosen


def flush_logging() -> None:
    for handler in _INSTALLED:
        with contextlib.suppress(Exception):
            handler.flush()


__all__ = [
    "FIELDS",
    "JournalHandler",
    "PrivacyFilter",
    "bind_session",
    "flush_logging",
    "forget_hidden",
    "hide",
    "output_mode",
    "scrub",
    "session_context",
    "setup_logging",
    "short_id",
    "syslog_priority",
]
