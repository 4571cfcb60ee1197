"""Card reader status for the technician: the readers pcscd lists, the configured one, a card in.

Why no connection to the card: a card in the reader is a patient's (or the
technician's own test card); the page needs only "is one in", which PC/SC's
`SCardGetStatusChange` answers from the reader's state without powering the
card or sending it one command. No ATR, no APDU, nothing read: a test proves
the virtual card answered nothing while the page looked.

The calls are blocking (libpcsclite): run `card_reader_status` on a thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kiosk_config.schema import KioskConfig
from vocabulary.devices import DeviceKind

_SCARD_E_NO_READERS = 0x8010002E


@dataclass(frozen=True, slots=True)
class ReaderState:
    name: str  # as pcscd lists it, e.g. "Virtual PCD 00 00"
    card_present: bool
    used_by: tuple[str, ...]  # configured card reader ids that take this reader


@dataclass(frozen=True, slots=True)
class ConfiguredReader:
    device_id: str
    wanted: str | None  # the site file's reader_name (a prefix); None: the first reader
    reader: str | None  # the listed reader it takes; None when there is none


@dataclass(frozen=True, slots=True)
class CardReaderReport:
    service: str  # "running", or a code: "not-running", "list-failed-<hex>"
    readers: tuple[ReaderState, ...]
    configured: tuple[ConfiguredReader, ...]

    @property
    def missing(self) -> int:
        return sum(1 for c in self.configured if c.reader is None)


def _code(hresult: int) -> int:
    return hresult & 0xFFFFFFFF


def _list(scard: Any) -> tuple[str, list[tuple[str, bool]]]:
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return "not-running", []
    try:
        hresult, listed = scard.SCardListReaders(context, [])
        if _code(hresult) == _SCARD_E_NO_READERS or (hresult == 0 and not listed):
            return "running", []
        if hresult != scard.SCARD_S_SUCCESS:
            return f"list-failed-{_code(hresult):08x}", []
        names = [str(n) for n in listed]
        hresult, states = scard.SCardGetStatusChange(
            context, 0, [(n, scard.SCARD_STATE_UNAWARE) for n in names]
        )
        if hresult != scard.SCARD_S_SUCCESS:
            return "running", [(n, False) for n in names]
        present = {
            str(name): bool(state & scard.SCARD_STATE_PRESENT)
            and not state & scard.SCARD_STATE_MUTE
            for name, state, _atr in states  # the ATR is never kept
        }
        return "running", [(n, present.get(n, False)) for n in names]
    finally:
        scard.SCardReleaseContext(context)


def card_reader_status(config: KioskConfig) -> CardReaderReport:
    """The readers PC/SC sees now, with a card in or not, and the configured readers' match."""
    from smartcard import scard

    service, listed = _list(scard)
    configured: list[ConfiguredReader] = []
    for device in config.devices:
        if device.kind.value != DeviceKind.CARD_READER.value:
            continue
        wanted = device.reader_name
        match = next((n for n, _ in listed if wanted is None or n.startswith(wanted)), None)
        configured.append(ConfiguredReader(device.id, wanted, match))
    readers = tuple(
        ReaderState(name, present, tuple(c.device_id for c in configured if c.reader == name))
        for name, present in listed
    )
    return CardReaderReport(service, readers, tuple(configured))


__all__ = ["CardReaderReport", "ConfiguredReader", "ReaderState", "card_reader_status"]
