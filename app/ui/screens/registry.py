"""Every screen class, in the order of the patient's way through."""

from __future__ import annotations

from app.ui.screens.base import AnyScreen
from app.ui.screens.beneficiary import BeneficiaryScreen
from app.ui.screens.call import CallScreen
from app.ui.screens.card_changed import CardChangedScreen
from app.ui.screens.card_removed import CardRemovedScreen
from app.ui.screens.confirm_identity import ConfirmIdentityScreen
from app.ui.screens.consent import ConsentScreen
from app.ui.screens.degraded import DegradedScreen
from app.ui.screens.document_check import DocumentCheckScreen
from app.ui.screens.emergency_check import EmergencyCheckScreen
from app.ui.screens.emergency_exit import EmergencyExitScreen
from app.ui.screens.end import EndScreen
from app.ui.screens.error import ErrorScreen
from app.ui.screens.help import HelpScreen
from app.ui.screens.identification import IdentificationScreen
from app.ui.screens.inactivity import InactivityScreen
from app.ui.screens.information import InformationScreen
from app.ui.screens.manual_entry import ManualEntryScreen
from app.ui.screens.manual_identity import ManualIdentityScreen
from app.ui.screens.measurements import MeasurementsScreen
from app.ui.screens.orientation import OrientationScreen
from app.ui.screens.professional_login import ProfessionalLoginScreen
from app.ui.screens.stop_confirm import StopConfirmScreen
from app.ui.screens.take_card import TakeCardScreen
from app.ui.screens.visit_reason import VisitReasonScreen
from app.ui.screens.waiting_room import WaitingRoomScreen
from app.ui.screens.welcome import WelcomeScreen

SCREEN_CLASSES: tuple[type[AnyScreen], ...] = (
    WelcomeScreen,
    EmergencyCheckScreen,
    EmergencyExitScreen,
    InformationScreen,
    IdentificationScreen,
    BeneficiaryScreen,
    ConfirmIdentityScreen,
    DocumentCheckScreen,
    ConsentScreen,
    OrientationScreen,
    VisitReasonScreen,
    MeasurementsScreen,
    ProfessionalLoginScreen,
    ManualEntryScreen,
    ManualIdentityScreen,
    WaitingRoomScreen,
    CallScreen,
    EndScreen,
    DegradedScreen,
    StopConfirmScreen,
    InactivityScreen,
    CardRemovedScreen,
    CardChangedScreen,
    TakeCardScreen,
    ErrorScreen,
    HelpScreen,
)
