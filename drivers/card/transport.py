"""The thin adapter from APDUs to a real card through pyscard and pcscd.

Every pyscard call runs on the connection's own `SerialWorker` thread; the
event loop only awaits. pyscard's exceptions become `CardTransportError`s
with a reason, and nothing but lengths and status words is logged.
"""

from __future__ import annotations

import logging
from typing import Any

from drivers.card.apdu import CommandApdu, ResponseApdu
from drivers.card.errors import CardErrorReason, CardTransportError
from drivers.card.worker import SerialWorker

log = logging.getLogger(__name__)

# PC/SC return codes that mean "the card went away" (pcsc-lite winscard.h).
_CARD_GONE = {0x80100069, 0x8010000C, 0x80100068, 0x80100067, 0x80100066}
_NO_SERVICE = {0x8010001D, 0x8010001E}


def _hresult(exc: BaseException) -> int:
    value = getattr(exc, "hresult", -1)
    return int(value) & 0xFFFFFFFF if isinstance(value, int) and value != -1 else 0


def _translate(exc: Exception, doing: str) -> CardTransportError:
    code = _hresult(exc)
    if code in _CARD_GONE or type(exc).__name__ == "NoCardException":
        return CardTransportError(
            CardErrorReason.NO_CARD, f"The card was removed or is not answering while {doing}."
        )
    if code in _NO_SERVICE or type(exc).__name__ in (
        "EstablishContextException",
        "CardServiceStoppedException",
        "CardServiceNotFoundException",
    ):
        return CardTransportError(
            CardErrorReason.NO_SERVICE, f"The smart card service (pcscd) is not running ({doing})."
        )
    suffix = f" (PC/SC 0x{code:08X})" if code else f" ({type(exc).__name__})"
    return CardTransportError(CardErrorReason.TRANSPORT, f"PC/SC failed while {doing}{suffix}.")


class PcscTransport:
    """One connection to the card in one reader.

    Built on pyscard's low-level `scard` calls, not its `CardConnection`
    objects: those own a PC/SC context and release it again in `__del__`,
    so a connection dropped after a failed connect, or released once while
    pcscd was going away, was released a second time by the garbage
    collector ("Failed to release context: Invalid handle", at teardown).
    Here the context and the card handle are plain values, each released
    exactly once, on the worker thread, by `disconnect_blocking()`; a failed
    connect releases what it had acquired before it raises.
    """

    def __init__(self, reader_name: str, worker: SerialWorker) -> None:
        self.reader_name = reader_name
        self._worker = worker
        self._context: Any = None
        self._card: Any = None
        self._protocol = 0
        self.transmitted = 0
        self.released = 0  # handles released (context and card), for the tests

    async def connect(self) -> bytes:
        """Connect (T=0 or T=1) and return the ATR."""
        return await self._worker.run(self._connect)

    async def transmit(self, command: CommandApdu) -> ResponseApdu:
        raw = bytes(command)
        response = await self._worker.run(lambda: self._transmit(raw))
        self.transmitted += 1
        log.debug("apdu ins=%02X: %d bytes -> sw=%04X", command.ins, len(raw), response.sw)
        return response

    async def disconnect(self) -> None:
        await self._worker.run(self.disconnect_blocking)

    def _connect(self) -> bytes:
        from smartcard import scard

        if self._context is not None:
            raise CardTransportError(CardErrorReason.TRANSPORT, "The card is already connected.")
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            raise _translate_code(hresult, "connecting to the card")
        self._context = context  # from here on, disconnect_blocking() releases it
        try:
            hresult, listed = scard.SCardListReaders(context, [])
            if hresult != scard.SCARD_S_SUCCESS or self.reader_name not in (listed or []):
                raise CardTransportError(
                    CardErrorReason.NO_READER, f"The reader '{self.reader_name}' is not connected."
                )
            hresult, card, protocol = scard.SCardConnect(
                context,
                self.reader_name,
                scard.SCARD_SHARE_SHARED,
                scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
            )
            if hresult != scard.SCARD_S_SUCCESS:
                raise _translate_code(hresult, "connecting to the card")
            self._card, self._protocol = card, int(protocol)
            hresult, _reader, _state, _protocol, atr = scard.SCardStatus(card)
            if hresult != scard.SCARD_S_SUCCESS:
                raise _translate_code(hresult, "reading the card's answer to reset")
        except BaseException:
            self.disconnect_blocking()
            raise
        return bytes(atr)

    def _transmit(self, raw: bytes) -> ResponseApdu:
        from smartcard import scard

        if self._card is None:
            raise CardTransportError(CardErrorReason.NO_CARD, "No card is connected.")
        pci = (
            scard.SCARD_PCI_T1 if self._protocol == scard.SCARD_PROTOCOL_T1 else scard.SCARD_PCI_T0
        )
        hresult, response = scard.SCardTransmit(self._card, pci, list(raw))
        if hresult != scard.SCARD_S_SUCCESS:
            raise _translate_code(hresult, "exchanging a command with the card")
        if len(response) < 2:
            raise CardTransportError(
                CardErrorReason.TRANSPORT,
                f"The card answered {len(response)} byte(s), fewer than a status word.",
            )
        return ResponseApdu(bytes(response[:-2]), (response[-2] << 8) | response[-1])

    def disconnect_blocking(self) -> None:
        """Release the card handle, then the context, each once; for the worker thread.

        Leave the card powered (SCARD_LEAVE_CARD): pcscd powers it down itself,
        and powering down a vpcd card being pulled out confused its presence
        tracking. Errors are logged by code only: a card already gone cannot be
        disconnected, and the handle is forgotten either way (never retried).
        """
        from smartcard import scard

        card, self._card = self._card, None
        context, self._context = self._context, None
        if card is not None:
            hresult = scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)
            self.released += 1
            if hresult != scard.SCARD_S_SUCCESS:
                log.info("card disconnect: PC/SC 0x%08X", hresult & 0xFFFFFFFF)
        if context is not None:
            hresult = scard.SCardReleaseContext(context)
            self.released += 1
            if hresult != scard.SCARD_S_SUCCESS:
                log.info("card context release: PC/SC 0x%08X", hresult & 0xFFFFFFFF)


def _translate_code(hresult: int, doing: str) -> CardTransportError:
    return _translate(_PcscFailure(hresult), doing)


class _PcscFailure(Exception):
    """A PC/SC return code in the shape `_translate` reads (pyscard's `hresult`)."""

    def __init__(self, hresult: int) -> None:
        super().__init__(f"PC/SC 0x{hresult & 0xFFFFFFFF:08X}")
        self.hresult = hresult
