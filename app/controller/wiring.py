"""Building the session controller from the site configuration (called by app/main.py).

Why here and not in main.py: main.py is Qt's composition root; this part has
no Qt and is tested. A device whose driver cannot be built (a kind not built
yet, a misconfigured port) does not stop the kiosk: it is left out, logged
and audited, and the flow's degraded path (manual entry by the assistant)
covers it when the patient needs it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from app.controller.adapters import DriverHub, StoreSession
from app.controller.controller import SessionController, new_uuid
from app.controller.ports import CallPort, Clock, InsiPort, NetworkMonitor, PrinterPort
from app.domain.flow import SessionFlow
from app.domain.mode import RunMode
from app.domain.session_context import FlowSettings
from app.maintenance.store_binding import StoreAuditSink, account_service_on
from app.store import AsyncStore
from drivers.base import Driver
from drivers.registry import DeviceUnavailable, build_driver
from drivers.simulators import SimulatorHub
from kiosk_config.schema import KioskConfig

log = logging.getLogger(__name__)


def flow_settings(config: KioskConfig) -> FlowSettings:
    return FlowSettings(
        mode=RunMode(config.site.mode.value),
        languages=tuple(config.languages),
        default_language=config.languages[0],
        inactivity_warning_s=float(config.timeouts.inactivity_warning_s),
        inactivity_countdown_s=float(config.timeouts.inactivity_countdown_s),
        card_removed_grace_s=float(config.timeouts.card_removed_grace_s),
        end_reading_s=float(config.timeouts.end_reading_s),
        message_reading_s=float(config.timeouts.message_reading_s),
        take_card_s=float(config.timeouts.take_card_s),
        max_wait_s=float(config.timeouts.max_wait_s),
        # The driver gives up after device_measure_s; the flow's backstop comes 30 s later.
        measure_max_s=float(config.timeouts.device_measure_s) + 30.0,
    )


@dataclass(frozen=True, slots=True)
class LeftOut:
    device_id: str
    kind: str
    reason: str


def available_drivers(
    config: KioskConfig, sims: SimulatorHub | None = None
) -> tuple[list[Driver], list[LeftOut]]:
    """Every configured device that can be driven here, and the ones left out (with why)."""
    drivers: list[Driver] = []
    left_out: list[LeftOut] = []
    mode = config.site.mode.value  # a production site refuses the TEST QR profile
    for device in config.devices:
        try:
            drivers.append(build_driver(device, config.timeouts, hub=sims, site_mode=mode))
        except DeviceUnavailable as exc:
            log.warning("device %s left out (%s)", device.id, exc.reason.value)
            left_out.append(LeftOut(device.id, device.kind.value, exc.reason.value))
    return drivers, left_out


def printer_for(config: KioskConfig) -> PrinterPort | None:
    """The cabin's printer from its [printer] section (a CUPS queue); None without one."""
    if config.printer is None:
        return None
    from app.printing.cups import CupsPrinter
    from app.printing.service import DocumentPrinter

    section = config.printer
    cups = CupsPrinter(section.queue, server=section.server, timeout_s=section.timeout_s)
    return DocumentPrinter(cups)


@dataclass
class SessionServices:
    controller: SessionController
    devices: DriverHub
    left_out: list[LeftOut]

    async def close(self) -> None:
        await self.controller.close()
        await self.devices.close()


async def build_session_services(
    config: KioskConfig,
    *,
    store: AsyncStore,
    sims: SimulatorHub | None = None,
    call: CallPort | None = None,
    insi: InsiPort | None = None,
    network: NetworkMonitor | None = None,
    clock: Clock | None = None,
    new_id: Callable[[], str] = new_uuid,
    start: bool = True,
    printer: PrinterPort | None = None,
) -> SessionServices:
    """The controller on an open `app.store.AsyncStore`, with the cabin's devices.

    `sims` is the running SimulatorHub for a demo or test site (simulated
    devices), None on a cabin. Accounts and the audit go to the same store.
    """
    drivers, left_out = available_drivers(config, sims)
    hub = DriverHub(drivers)
    audit = StoreAuditSink(store)
    controller = SessionController(
        SessionFlow(flow_settings(config)),
        store=StoreSession(store, config.site.cabin_id),
        devices=hub,
        clock=clock,
        call=call,
        insi=insi,
        network=network,
        audit=audit,
        accounts=account_service_on(store),
        new_id=new_id,
        assistant_idle_s=float(config.timeouts.assistant_idle_s),
        printer=printer if printer is not None else printer_for(config),
    )
    for item in left_out:
        await controller.audit(
            "system",
            "device.left-out",
            "failed",
            item.device_id,
            f"kind={item.kind},reason={item.reason}",
        )
    if start:
        await controller.start()
    return SessionServices(controller, hub, left_out)
