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
    """One connection to the card in one reader."""

    def __init__(self, reader_name: str, worker: SerialWorker) -> None:
        self.reader_name = reader_name
        self._worker = worker
        self._connection: Any = None
        self.transmitted = 0

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
        from smartcard.scard import SCARD_LEAVE_CARD
        from smartcard.System import readers

        try:
            reader = next((r for r in readers() if str(r) == self.reader_name), None)
            if reader is None:
                raise CardTransportError(
                    CardErrorReason.NO_READER, f"The reader '{self.reader_name}' is not connected."
                )
            connection = reader.createConnection()
            # Leave the card powered on disconnect: pcscd powers it down itself
            # after its grace period, and the next read needs no new power-up.
            connection.connect(disposition=SCARD_LEAVE_CARD)
            atr = bytes(connection.getATR())
        except CardTransportError:
            raise
        except Exception as exc:  # pyscard raises several unrelated exception types
            raise _translate(exc, "connecting to the card") from None
        self._connection = connection
        return atr

    def _transmit(self, raw: bytes) -> ResponseApdu:
        if self._connection is None:
            raise CardTransportError(CardErrorReason.NO_CARD, "No card is connected.")
        try:
            data, sw1, sw2 = self._connection.transmit(list(raw))
        except Exception as exc:
            raise _translate(exc, "exchanging a command with the card") from None
        return ResponseApdu(bytes(data), (sw1 << 8) | sw2)

    def disconnect_blocking(self) -> None:
        """Close the connection; blocking, for the worker thread."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        for step in (connection.disconnect, connection.release):
            try:
                step()
            except Exception:  # noqa: S112 - a card already gone cannot be disconnected twice
                continue
