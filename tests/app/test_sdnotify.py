"""The notify protocol over a real datagram socket the test owns."""

from __future__ import annotations

import socket
from pathlib import Path

from app.sdnotify import Notifier


def _listener(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2)
    return sock


def test_ready_and_watchdog_reach_the_socket(tmp_path: Path) -> None:
    path = tmp_path / "notify"
    with _listener(path) as sock:
        n = Notifier(str(path))
        assert n.ready("welcome screen shown")
        assert sock.recv(1024) == b"READY=1\nSTATUS=welcome screen shown"
        assert n.watchdog()
        assert sock.recv(1024) == b"WATCHDOG=1"


def test_abstract_namespace_address() -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0telecabine-test-notify")
        sock.settimeout(2)
        assert Notifier("@telecabine-test-notify").notify("STATUS=x")
        assert sock.recv(64) == b"STATUS=x"


def test_without_systemd_nothing_is_sent() -> None:
    n = Notifier("")
    assert not n.enabled
    assert n.ready() is False


def test_gone_socket_is_not_an_error(tmp_path: Path) -> None:
    assert Notifier(str(tmp_path / "absent")).watchdog() is False
