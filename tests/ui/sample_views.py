"""One sample view per screen (and per screen state), for rendering and clipping tests."""

from __future__ import annotations

from app.ui.i18n import Msg
from app.ui.views import (
    Beneficiary,
    BeneficiaryView,
    CallView,
    CardChangedView,
    CardRemovedView,
    ChatLine,
    ConfirmIdentityView,
    ConsentView,
    DegradedView,
    Doctor,
    DocumentCheckView,
    EmergencyCheckView,
    EmergencyExitView,
    EmergencyNumber,
    EndDocument,
    EndView,
    ErrorView,
    HelpView,
    IdentificationView,
    IdentityFormView,
    InactivityView,
    InformationView,
    ManualEntryView,
    ManualField,
    MeasurementView,
    MeasureStep,
    NearbyPlaceView,
    OrientationOption,
    OrientationView,
    ProfessionalLoginView,
    SiteContact,
    StopConfirmView,
    TakeCardView,
    View,
    VisitReasonView,
    WaitingRoomView,
    WelcomeView,
)
from vocabulary.devices import DeviceKind

CANARY = "ZQXCANARY"

NUMBERS = (
    EmergencyNumber("15", Msg("emergency.n.15")),
    EmergencyNumber("3114", Msg("emergency.n.3114")),
    EmergencyNumber("112", Msg("emergency.n.112")),
)
PLACES = (
    NearbyPlaceView(
        "Maison de santé du Centre",
        "12 rue de la République, 75001 Paris",
        "01 23 45 67 89",
        "du lundi au vendredi, de 8 h à 19 h",
    ),
)
DOCTOR = Doctor("Dr Claire Martin", "10101010101", "Médecine générale")


def sample_views(name: str = "Jeanne DUPONT-LEFEBVRE") -> dict[str, View]:
    return {
        "welcome": WelcomeView(),
        "welcome-card-left": WelcomeView(card_left=True),
        "emergency-check": EmergencyCheckView("chest-pain", Msg("emergency.q.chest-pain"), 1, 8),
        "emergency-exit": EmergencyExitView(
            Msg("emergency.exit"),
            NUMBERS,
            SiteContact(
                "Pharmacie du Marché", ("3 place du Marché", "69001 Lyon"), "04 72 10 20 30"
            ),
        ),
        "information": InformationView(
            "cost",
            Msg("info.cost.title"),
            Msg("info.cost.body"),
            Msg("info.cost.body.easy"),
            7,
            8,
        ),
        "identification": IdentificationView(),
        "identification-reading": IdentificationView(
            status=Msg("identification.reading"), busy=True
        ),
        "beneficiary": BeneficiaryView(
            (
                Beneficiary("0", name, "12/03/1948"),
                Beneficiary("1", "Paul DUPONT", "02/11/2015"),
            )
        ),
        "confirm-identity": ConfirmIdentityView(
            name, "12/03/1948", Msg("identity.status.PROV"), can_check_document=True
        ),
        "document-check": DocumentCheckView(
            "Sophie Bernard",
            name,
            "12/03/1948",
            Msg("identity.status.RECUP"),
            error=Msg("document_check.choose"),
        ),
        "consent": ConsentView(
            "teleconsultation",
            Msg("consent.teleconsultation.title"),
            Msg("consent.teleconsultation.text"),
            True,
            1,
            3,
        ),
        "orientation-question": OrientationView(
            "has_mt",
            Msg("orientation.q.has_mt"),
            (
                OrientationOption("yes", Msg("orientation.a.yes")),
                OrientationOption("no", Msg("orientation.a.no")),
                OrientationOption("unknown", Msg("orientation.a.unknown")),
            ),
        ),
        "orientation-told": OrientationView(
            "told", Msg("orientation.told_title"), told=(Msg("orientation.outside"),)
        ),
        "measurements": MeasurementView(DeviceKind.TENSIOMETER, MeasureStep.INSTRUCTIONS, 3, 3),
        "measurements-measuring": MeasurementView(DeviceKind.OXIMETER, MeasureStep.MEASURING, 2, 3),
        "measurements-result": MeasurementView(
            DeviceKind.THERMOMETER,
            MeasureStep.RESULT,
            1,
            3,
            result=((Msg("measure.q.body-temperature"), "37,2 °C"),),
        ),
        "measurements-failed": MeasurementView(
            DeviceKind.OXIMETER, MeasureStep.FAILED, 2, 3, problem=Msg("measure.failed")
        ),
        "professional-login": ProfessionalLoginView(
            Msg("login.purpose.manual-measure"), Msg("login.failed")
        ),
        "manual-entry": ManualEntryView(
            DeviceKind.TENSIOMETER,
            (
                ManualField("systolic", Msg("measure.q.systolic"), "mm Hg"),
                ManualField("diastolic", Msg("measure.q.diastolic"), "mm Hg"),
            ),
            "Sophie Bernard",
        ),
        "manual-identity": IdentityFormView("Sophie Bernard"),
        "manual-identity-errors": IdentityFormView(
            "Sophie Bernard",
            {
                "birth-name": "DUPONT-LEFEBVRE",
                "birth-first-names": "JEANNE MARIE",
                "birth-date": "31 02 1948",
                "birth-place": "2C004",
                "nir": "2480375",
                "sex": "female",
            },
            {
                "birth-date": Msg("identity_form.error.date-impossible"),
                "birth-place": Msg("identity_form.error.insee-format"),
                "nir": Msg("identity_form.nir.length", params={"n": "7"}),
                "document": Msg("identity_form.error.choose-document"),
            },
            Msg("identity_form.refused"),
        ),
        "waiting-room": WaitingRoomView(Msg("waiting.status.joining"), 12, 20),
        "visit-reason": VisitReasonView(
            (
                "fever",
                "cough-cold",
                "pain",
                "skin",
                "urinary",
                "digestive",
                "prescription-renewal",
                "test-results",
                "other",
            )
        ),
        "call-identity": CallView(DOCTOR, video_started=False),
        "call": CallView(
            DOCTOR,
            video_started=True,
            chat=(
                ChatLine(True, "Bonjour, pouvez-vous me montrer votre gorge ?"),
                ChatLine(False, f"Oui {CANARY}"),
            ),
        ),
        "end": EndView(
            (
                EndDocument(
                    Msg("end.document.prescription"),
                    "Ordonnance : paracétamol et repos",
                    "http://127.0.0.1:8780/patient/documents/doc-0001",
                ),
                EndDocument(
                    Msg("end.document.report"),
                    "Compte rendu de téléconsultation",
                    "http://127.0.0.1:8780/patient/documents/doc-0002",
                ),
            ),
            Msg("end.payment.after"),
            True,
            Msg("end.print.none"),
        ),
        "degraded": DegradedView(
            Msg("degraded.what.call-dropped"),
            Msg("degraded.kept"),
            Msg("degraded.next.call-dropped"),
            PLACES,
            NUMBERS[:1] + NUMBERS[2:],
            ("retry", "finish"),
        ),
        "degraded-cabin-media": DegradedView(
            Msg("degraded.what.cabin-media-failed"),
            Msg("degraded.kept"),
            Msg("degraded.next.cabin-media-failed"),
            PLACES,
            NUMBERS[:1] + NUMBERS[2:],
            ("retry", "finish"),
        ),
        "stop-confirm": StopConfirmView(),
        "inactivity": InactivityView(30),
        "card-removed": CardRemovedView(60),
        "card-changed": CardChangedView(),
        "take-card": TakeCardView(),
        "error": ErrorView(),
        "help": HelpView(),
    }
