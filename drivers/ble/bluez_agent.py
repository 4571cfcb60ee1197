"""A BlueZ pairing agent that answers the passkey the technician typed (docs/maintenance.md).

Why: bleak 3.1's BlueZ backend registers no agent; its `pair()` calls
`org.bluez.Device1.Pair` and BlueZ asks the *default agent* for the passkey
(`org.bluez.Agent1.RequestPasskey`). With no agent, a device that bonds with a
passkey (A&D's blood-pressure monitors) cannot bond. This agent is registered
with the capability "KeyboardOnly" (the cabin has a keyboard on screen, no
display BlueZ could use) and answers once with the code it was offered, then
forgets it; a request with no code offered is canceled, so BlueZ fails the
pairing with `AuthenticationCanceled` instead of waiting.

Uses dbus-fast, which bleak already uses on Linux. Registered by the maintenance
service on the first passkey bond (app/maintenance/pairing.py, docs/maintenance.md
"Bonding").
"""

# No `from __future__ import annotations`: dbus-fast reads a postponed `-> None` as a
# signature of None and refuses it; the annotations here are evaluated.

from dbus_fast import DBusError, Message, MessageType
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusObjectPath, DBusStr, DBusUInt16, DBusUInt32
from dbus_fast.service import ServiceInterface, dbus_method

AGENT_PATH = "/fr/telecabine/bluez_agent"
CAPABILITY = "KeyboardOnly"
_CANCELED = "org.bluez.Error.Canceled"
_REJECTED = "org.bluez.Error.Rejected"


class PasskeyAgent(ServiceInterface):
    """`org.bluez.Agent1`: answers `RequestPasskey` with the offered code, once."""

    def __init__(self) -> None:
        super().__init__("org.bluez.Agent1")
        self._passkey: int | None = None
        self.requests = 0  # RequestPasskey calls BlueZ made (tests, the audit's counts)

    def offer(self, passkey: str) -> None:
        """The six digits the technician typed, for the next `RequestPasskey` only."""
        if not (len(passkey) == 6 and passkey.isascii() and passkey.isdigit()):
            raise ValueError("a passkey is six digits")
        self._passkey = int(passkey)

    def withdraw(self) -> None:
        self._passkey = None

    @dbus_method()
    def Release(self) -> None:  # noqa: N802 - BlueZ's member names
        self._passkey = None

    @dbus_method()
    def RequestPasskey(self, device: DBusObjectPath) -> DBusUInt32:  # noqa: N802
        self.requests += 1
        passkey, self._passkey = self._passkey, None
        if passkey is None:
            raise DBusError(_CANCELED, "no passkey was typed")
        return passkey

    @dbus_method()
    def DisplayPasskey(  # noqa: N802
        self, device: DBusObjectPath, passkey: DBusUInt32, entered: DBusUInt16
    ) -> None:
        """KeyboardOnly: BlueZ never asks the cabin to show a code; nothing to do."""

    @dbus_method()
    def RequestPinCode(self, device: DBusObjectPath) -> DBusStr:  # noqa: N802
        raise DBusError(_REJECTED, "legacy PIN codes are not used by the cabin's devices")

    @dbus_method()
    def DisplayPinCode(self, device: DBusObjectPath, pincode: DBusStr) -> None:  # noqa: N802
        raise DBusError(_REJECTED, "legacy PIN codes are not used by the cabin's devices")

    @dbus_method()
    def RequestConfirmation(self, device: DBusObjectPath, passkey: DBusUInt32) -> None:  # noqa: N802
        raise DBusError(_REJECTED, "numeric comparison is not offered (KeyboardOnly)")

    @dbus_method()
    def RequestAuthorization(self, device: DBusObjectPath) -> None:  # noqa: N802
        """Just-works pairing started by the technician: accepted."""

    @dbus_method()
    def AuthorizeService(self, device: DBusObjectPath, uuid: DBusStr) -> None:  # noqa: N802
        """The GATT services of a device being paired: accepted."""

    @dbus_method()
    def Cancel(self) -> None:  # noqa: N802
        self._passkey = None


async def register(
    bus: MessageBus, agent: PasskeyAgent, *, bluez: str = "org.bluez", path: str = AGENT_PATH
) -> None:
    """Export `agent` on `bus` and make it BlueZ's default agent (AgentManager1)."""
    bus.export(path, agent)
    for member, signature, body in (
        ("RegisterAgent", "os", [path, CAPABILITY]),
        ("RequestDefaultAgent", "o", [path]),
    ):
        reply = await bus.call(
            Message(
                destination=bluez,
                path="/org/bluez",
                interface="org.bluez.AgentManager1",
                member=member,
                signature=signature,
                body=body,
            )
        )
        if reply is None or reply.message_type is MessageType.ERROR:
            name = reply.error_name if reply is not None else "no reply"
            raise DBusError(name or "org.bluez.Error.Failed", f"{member} refused")
