"""Every screen of the flow, in the order of the patient's way through: where its class lives.

    screen_class(ScreenId.CONSENT)   # imports app.ui.screens.consent on first use

Why names and not the classes: the window builds a screen the first time it is
shown (or in the idle time after READY), so the kiosk shows its welcome screen
without importing and building the other 25 (issue 14, cold start;
docs/runtime.md). The module of a screen is its id with dashes as underscores.
"""

from __future__ import annotations

import importlib
from typing import cast

from app.ui.screens.base import AnyScreen
from app.ui.views import ScreenId

SCREEN_CLASS_NAMES: dict[ScreenId, str] = {
    ScreenId.WELCOME: "WelcomeScreen",
    ScreenId.EMERGENCY_CHECK: "EmergencyCheckScreen",
    ScreenId.EMERGENCY_EXIT: "EmergencyExitScreen",
    ScreenId.INFORMATION: "InformationScreen",
    ScreenId.IDENTIFICATION: "IdentificationScreen",
    ScreenId.BENEFICIARY: "BeneficiaryScreen",
    ScreenId.CONFIRM_IDENTITY: "ConfirmIdentityScreen",
    ScreenId.DOCUMENT_CHECK: "DocumentCheckScreen",
    ScreenId.CONSENT: "ConsentScreen",
    ScreenId.ORIENTATION: "OrientationScreen",
    ScreenId.VISIT_REASON: "VisitReasonScreen",
    ScreenId.MEASUREMENTS: "MeasurementsScreen",
    ScreenId.PROFESSIONAL_LOGIN: "ProfessionalLoginScreen",
    ScreenId.MANUAL_ENTRY: "ManualEntryScreen",
    ScreenId.MANUAL_IDENTITY: "ManualIdentityScreen",
    ScreenId.WAITING_ROOM: "WaitingRoomScreen",
    ScreenId.CALL: "CallScreen",
    ScreenId.END: "EndScreen",
    ScreenId.DEGRADED: "DegradedScreen",
    ScreenId.STOP_CONFIRM: "StopConfirmScreen",
    ScreenId.INACTIVITY: "InactivityScreen",
    ScreenId.CARD_REMOVED: "CardRemovedScreen",
    ScreenId.CARD_CHANGED: "CardChangedScreen",
    ScreenId.TAKE_CARD: "TakeCardScreen",
    ScreenId.ERROR: "ErrorScreen",
    ScreenId.HELP: "HelpScreen",
}


def module_of(screen_id: ScreenId) -> str:
    return "app.ui.screens." + screen_id.value.replace("-", "_")


def screen_class(screen_id: ScreenId) -> type[AnyScreen]:
    """The class of `screen_id`'s screen (its module imported now if it was not yet)."""
    module = importlib.import_module(module_of(screen_id))
    return cast("type[AnyScreen]", getattr(module, SCREEN_CLASS_NAMES[screen_id]))


def all_screen_classes() -> tuple[type[AnyScreen], ...]:
    """Every screen class (all their modules imported): for tests and tools."""
    return tuple(screen_class(screen_id) for screen_id in SCREEN_CLASS_NAMES)
