"""The ports the session controller needs from the rest of the kiosk.

Why Protocols: the controller is written against the calls it makes, and
`app/main.py` plugs in the real parts (the encrypted store, the driver hub,
the call, the platform's INSi relay, the network monitor). Each port is as
small as the controller's use of it. Where a room already offers the call
with the same shape, its object is passed as is; where not, a thin adapter
in `app/controller/adapters.py` bridges it (see docs/controller.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Protocol

from app.call.events import IncidentCode as CallIncidentCode
from app.domain.identity import PatientIdentity
from app.domain.session_effects import Fact
from app.printing.page import PrintableDocument
from drivers.events import DeviceEvent
from vocabulary.devices import DeviceKind


class Clock(Protocol):
    """The one place the controller reads the time (tests pass a fake)."""

    def now(self) -> datetime: ...


class SessionStore(Protocol):
    """The encrypted store, as the session needs it. Each call is one transaction,
    acknowledged (committed) when it returns."""

    async def begin_session(self, session_id: str, at: datetime) -> None: ...

    async def record_fact(self, session_id: str, fact: Fact, at: datetime) -> None: ...

    async def end_session(self, session_id: str, reason: str, at: datetime) -> None: ...


class DeviceHub(Protocol):
    """The devices of the cabin, started and stopped by kind, reporting on one stream."""

    def kinds(self) -> frozenset[DeviceKind]: ...

    async def start(self, kind: DeviceKind) -> None:
        """Start the device of that kind; raise `LookupError` if the cabin has none."""

    async def stop(self, kind: DeviceKind) -> None: ...

    async def stop_all(self) -> None: ...

    def events(self) -> AsyncIterator[DeviceEvent]: ...


class CallMediaCheckFailed(Exception):
    """The cabin's camera, microphone or speaker failed the waiting room's checks.

    A `CallPort` raises it from `open()` so the controller tells the patient
    what really happened (not "platform unreachable"); `codes` are the call
    module's incident codes (`CAMERA_UNAVAILABLE`…), typed: a code given by
    its value is turned into the enum here (an unknown one raises ValueError).
    """

    def __init__(self, codes: Iterable[CallIncidentCode | str]) -> None:
        self.codes: tuple[CallIncidentCode, ...] = tuple(CallIncidentCode(c) for c in codes)
        super().__init__(f"The call was not opened: {', '.join(c.value for c in self.codes)}.")


class CallPort(Protocol):
    async def open(self, session_id: str) -> None:
        """Join the platform's waiting room; raise on failure (`CallMediaCheckFailed`
        when the cabin's own camera, microphone or speaker does not work)."""

    async def end(self) -> None: ...

    def events(self) -> AsyncIterator[object]:
        """`app.call.events` objects: DoctorIdentified, DocumentReceived, Incident, CallEnded…"""


class PrinterPort(Protocol):
    """The cabin's printer (`app.printing.service.DocumentPrinter` fits as is)."""

    async def print_documents(
        self,
        documents: tuple[PrintableDocument, ...],
        identity: PatientIdentity | None,
        at: datetime,
    ) -> int:
        """Print them, one job each; how many came out. Raises `app.printing.errors.PrintError`."""


class InsiPort(Protocol):
    async def query(self, identity: PatientIdentity, at: datetime) -> PatientIdentity | None:
        """The identity with INSi's answer (RECUP/QUAL), or None when INSi does not know it."""


class ReachabilityChange(Protocol):
    @property
    def online(self) -> bool: ...


class NetworkMonitor(Protocol):
    """`app.sync.monitor.NetworkMonitor` fits as is."""

    def events(self) -> AsyncIterator[ReachabilityChange]:
        """One item each time the platform's reachability changes."""
