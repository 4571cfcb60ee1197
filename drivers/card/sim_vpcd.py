"""The card side of vsmartcard's vpcd: a simulated card behind the real pcscd.

vpcd (the pcscd driver) listens on TCP (35963 for "Virtual PCD 00 00"); a
card is "inserted" when something connects and "removed" when the
connection closes. Each message is a 2-byte big-endian length then the body:
a 1-byte body is a control code (0 power off, 1 power on, 2 reset, 4 send
the ATR), a longer one a command APDU to answer with a response APDU. Only
the ATR request and APDUs get an answer.

The card runs on its own daemon thread with blocking sockets so that sync
code (a technician's check, a benchmark) can drive it as well as async
tests. `remove()` closes the socket: pcscd sees the card gone at its next
presence poll (every 400 ms), and a transmit stuck on a mute card returns.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

from drivers.card.errors import CardErrorReason, CardTransportError
from drivers.card.sim_card import CardApplet, VirtualCard

log = logging.getLogger(__name__)

DEFAULT_VPCD_PORT = 35963

# pcscd looks at a vpcd slot every 400 ms. If a card is removed and another
# inserted between two looks, vpcd hands pcscd the new connection as if nothing
# happened (no removal, no insertion). A human needs longer than this to swap
# cards; the simulator waits so that every swap is seen, as with a real reader.
MIN_SWAP_S = 0.6
_last_removal: dict[int, float] = {}
_last_removal_lock = threading.Lock()

CTRL_OFF = 0
CTRL_ON = 1
CTRL_RESET = 2
CTRL_ATR = 4


class VirtualCardSlot:
    """One slot of the virtual reader; `insert(card)` and `remove()` as a patient would."""

    def __init__(self, host: str = "127.0.0.1", port: int = DEFAULT_VPCD_PORT) -> None:
        self.host = host
        self.port = port
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._applet: CardApplet | None = None
        self.apdus_answered = 0
        # time.monotonic() when the card last left the reader (its socket closed):
        # the moment a patient pulls the card, to time how fast the removal is seen.
        self.removed_at: float | None = None

    @property
    def inserted(self) -> bool:
        return self._sock is not None

    def insert(self, card: VirtualCard, timeout: float = 2.0) -> None:
        self.remove()
        with _last_removal_lock:
            removed_at = _last_removal.get(self.port)
        if removed_at is not None:
            time.sleep(max(0.0, removed_at + MIN_SWAP_S - time.monotonic()))
        try:
            sock = socket.create_connection((self.host, self.port), timeout=timeout)
        except OSError as exc:
            raise CardTransportError(
                CardErrorReason.NO_READER,
                f"Nothing accepts a virtual card on {self.host}:{self.port}: "
                f"is pcscd running with the vpcd driver? ({type(exc).__name__})",
            ) from None
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _ack_now(sock)
        applet = CardApplet(card)
        thread = threading.Thread(
            target=self._serve, args=(sock, applet), name=f"vpcd-card:{card.label}", daemon=True
        )
        with self._lock:
            self._sock, self._applet, self._thread = sock, applet, thread
        thread.start()
        log.info("virtual card inserted on port %d", self.port)

    def remove(self, timeout: float = 2.0) -> None:
        with self._lock:
            sock, thread = self._sock, self._thread
            self._sock = self._thread = self._applet = None
        if sock is None:
            return
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # the reader side may already have closed it
        sock.close()
        removed_at = time.monotonic()
        self.removed_at = removed_at
        with _last_removal_lock:
            _last_removal[self.port] = removed_at
        if thread is not None:
            thread.join(timeout)
        log.info("virtual card removed from port %d", self.port)

    def close(self) -> None:
        self.remove()

    def __enter__(self) -> VirtualCardSlot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _serve(self, sock: socket.socket, applet: CardApplet) -> None:
        try:
            while True:
                header = _recv_exact(sock, 2)
                if header is None:
                    return
                body = _recv_exact(sock, int.from_bytes(header, "big"))
                if body is None:
                    return
                answer = self._handle(applet, body)
                if answer is not None:
                    sock.sendall(len(answer).to_bytes(2, "big") + answer)
        except OSError:
            return  # removed: the socket was shut down under us

    def _handle(self, applet: CardApplet, body: bytes) -> bytes | None:
        if len(body) == 1:
            code = body[0]
            if code == CTRL_ATR:
                return applet.card.atr
            if code in (CTRL_ON, CTRL_RESET, CTRL_OFF):
                applet.reset()
            return None
        answer = applet.process(body)
        if answer is not None:
            self.apdus_answered += 1
        return answer


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    buffer = b""
    while len(buffer) < size:
        chunk = sock.recv(size - len(buffer))
        if not chunk:
            return None
        buffer += chunk
        _ack_now(sock)
    return buffer


def _ack_now(sock: socket.socket) -> None:
    """Acknowledge at once (Linux TCP_QUICKACK, reset by the kernel after each use).

    vpcd writes a message's 2-byte length and its body separately, with Nagle
    on: the body waits for our ACK of the length, which delayed ACK holds back
    ~40 ms. Acking at once brings an APDU round trip on loopback from ~44 ms to
    ~0.2 ms, so that the simulator times our code and not a TCP artefact.
    """
    quickack = getattr(socket, "TCP_QUICKACK", None)
    if quickack is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)
        except OSError:
            pass  # not fatal: only slower


def wait_until_seen(reader_name: str, present: bool, timeout: float = 3.0) -> bool:
    """Block until pcscd reports the reader with (or without) a card; False on timeout.

    For tests and the demo: pcscd notices an insertion or removal at its next
    presence poll, so "the card is in" is only true for PC/SC clients a few
    hundred milliseconds after `insert()`.
    """
    from drivers.card.monitor import ReaderMonitor

    monitor = ReaderMonitor(reader_name, timeout_ms=100)
    monitor.open()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = monitor.wait_change()
            if status is not None and status.present == present:
                return True
            if status is None and monitor.present_now() == present:
                return True
        return False
    finally:
        monitor.close()
