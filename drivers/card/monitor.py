"""Card inserted / removed, from pcscd's own notifications.

`SCardGetStatusChange` blocks until the reader's state changes or the
timeout passes. We call it with a short timeout (200 ms) on the monitor's
own thread and PC/SC context, so a removal reaches the event stream within
pcscd's presence poll (400 ms for vpcd) plus at most one timeout, and
stopping the driver never waits long. No polling of our own on top.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drivers.card.errors import CardErrorReason, CardTransportError

_SCARD_E_TIMEOUT = 0x8010000A
_SCARD_E_NO_SERVICE = {0x8010001D, 0x8010001E}
_SCARD_E_UNKNOWN_READER = 0x80100009
_SCARD_E_NO_READERS = 0x8010002E


@dataclass(frozen=True, slots=True)
class ReaderStatus:
    present: bool
    atr: bytes = b""


def _code(hresult: int) -> int:
    return hresult & 0xFFFFFFFF


class ReaderMonitor:
    """Blocking calls only: run every method on one worker thread."""

    def __init__(self, reader_name: str | None, timeout_ms: int = 200) -> None:
        self.wanted = reader_name
        self.timeout_ms = timeout_ms
        self.reader: str | None = None
        self._context: Any = None
        self._state = 0

    def open(self) -> str:
        from smartcard import scard

        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            raise CardTransportError(
                CardErrorReason.NO_SERVICE,
                f"The smart card service (pcscd) is not running (PC/SC 0x{_code(hresult):08X}).",
            )
        self._context = context
        hresult, listed = scard.SCardListReaders(context, [])
        if hresult not in (scard.SCARD_S_SUCCESS, _SCARD_E_NO_READERS):
            self.close()
            raise CardTransportError(
                CardErrorReason.TRANSPORT,
                f"PC/SC could not list the readers (0x{_code(hresult):08X}).",
            )
        names: list[str] = [str(name) for name in (listed or [])]
        match = next((n for n in names if self.wanted is None or n.startswith(self.wanted)), None)
        if match is None:
            self.close()
            wanted = "any reader" if self.wanted is None else f"a reader named '{self.wanted}'"
            raise CardTransportError(
                CardErrorReason.NO_READER,
                f"PC/SC does not see {wanted} ({len(names)} reader(s) connected).",
            )
        self.reader = match
        self._state = scard.SCARD_STATE_UNAWARE
        return match

    def wait_change(self) -> ReaderStatus | None:
        """The reader's status when it changed (or on the first call); None on timeout."""
        from smartcard import scard

        if self._context is None or self.reader is None:
            raise CardTransportError(CardErrorReason.TRANSPORT, "The reader monitor is not open.")
        hresult, states = scard.SCardGetStatusChange(
            self._context, self.timeout_ms, [(self.reader, self._state)]
        )
        code = _code(hresult)
        if code == _SCARD_E_TIMEOUT:
            return None
        if code in _SCARD_E_NO_SERVICE:
            raise CardTransportError(
                CardErrorReason.NO_SERVICE, "The smart card service (pcscd) stopped."
            )
        if code == _SCARD_E_UNKNOWN_READER:
            raise CardTransportError(CardErrorReason.NO_READER, "The card reader was unplugged.")
        if hresult != scard.SCARD_S_SUCCESS:
            raise CardTransportError(
                CardErrorReason.TRANSPORT, f"PC/SC status change failed (0x{code:08X})."
            )
        _name, event_state, atr = states[0]
        if event_state & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE):
            raise CardTransportError(CardErrorReason.NO_READER, "The card reader was unplugged.")
        self._state = event_state & ~scard.SCARD_STATE_CHANGED
        present = bool(event_state & scard.SCARD_STATE_PRESENT) and not (
            event_state & scard.SCARD_STATE_MUTE
        )
        return ReaderStatus(present=present, atr=bytes(atr) if present else b"")

    def present_now(self) -> bool:
        """A single non-blocking look, for the technician's check."""
        from smartcard import scard

        if self._context is None or self.reader is None:
            return False
        hresult, states = scard.SCardGetStatusChange(
            self._context, 0, [(self.reader, scard.SCARD_STATE_UNAWARE)]
        )
        if hresult != scard.SCARD_S_SUCCESS:
            return False
        return bool(states[0][1] & scard.SCARD_STATE_PRESENT)

    def close(self) -> None:
        from smartcard import scard

        context, self._context = self._context, None
        if context is not None:
            scard.SCardReleaseContext(context)
