"""The summary the doctor reads: French words, never the kiosk's codes.

Real domain values (identity, consents, measurements, trace) and the demo
site's configuration go in; what comes out is what the console shows.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from app.call.summary import age_in_words, birth_date_in_words, french_number, with_unit
from app.controller.call_launcher import summary_of
from app.domain.consent import ConsentChoice, decide
from app.domain.identity import BirthDatePrecision, CollectionMethod, IdentityStatus
from app.domain.measurements import (
    DeviceSource,
    MeasurementKind,
    Quantity,
    make_measurement,
)
from app.domain.orientation import OrientationAnswers, assess
from app.domain.session_context import SessionContext, State
from app.domain.trace import SYSTEM, IncidentCode, TraceEntry, TraceKind, incident
from app.domain.visit_reason import VisitReason, VisitReasonAnswer
from kiosk_config import EXAMPLES, KioskConfig, load_config
from tests.sync.sessions import (
    SHARING_TEXT,
    TELECONSULTATION_TEXT,
    TRAITS,
    blood_pressure,
    provisional,
    qualified,
    spo2,
    temperature,
)

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
RAW_CODES = ("RECUP", "PROV", "QUAL", "VALI", '"CV"', "body-temperature", "Cel", "mm[Hg]", "spo2")


@pytest.fixture(scope="module")
def config() -> KioskConfig:
    return load_config(EXAMPLES / "demo.toml")


def context(**changes: object) -> SessionContext:
    base = SessionContext(
        step=State.WAITING_ROOM,
        session_id="S-1",
        started_at=T0,
        identity=qualified(),
        consents=(
            decide(TELECONSULTATION_TEXT, ConsentChoice.GRANTED, T0),
            decide(SHARING_TEXT, ConsentChoice.REFUSED, T0),
        ),
        measurements=(temperature(value="37.2"), blood_pressure(), spo2()),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def shown(summary: dict[str, object]) -> str:
    return json.dumps(summary, ensure_ascii=False)


def test_the_whole_summary_in_french_words(config: KioskConfig) -> None:
    ctx = context(
        visit_reason=VisitReasonAnswer(
            T0, (VisitReason.FEVER, VisitReason.COUGH_COLD), "depuis hier"
        ),
        skipped=frozenset({MeasurementKind.HEART_RATE}),
        orientation=assess(OrientationAnswers(has_medecin_traitant=None), age_years=71),
        trace=(
            incident(T0 + timedelta(minutes=6), IncidentCode.DEVICE_FAILED, "bp-1"),
            TraceEntry(T0, TraceKind.MEASUREMENT_REFUSED, SYSTEM, "body-temperature:too-high"),
            incident(T0 + timedelta(minutes=8), IncidentCode.INSI_UNAVAILABLE),
        ),
    )
    s = summary_of(ctx, config, names={"nurse-3": "Mme Durand, infirmière"})
    identity = s["identity"]
    assert identity["display_name"] == "MARTIN Marie"
    assert identity["birth_date"] == "14/08/1955"
    assert identity["age"] == "71 ans"  # on 23/11/2026
    assert identity["sex"] == "femme"
    assert identity["status"] == "identité qualifiée"
    assert identity["method"] == "carte Vitale"
    assert (
        identity["verified"]
        == "vérifiée sur carte nationale d'identité par un professionnel de la cabine"
    )
    assert s["reason"] == {
        "choices": ["Fièvre", "Toux, rhume, mal de gorge"],
        "text": "depuis hier",
    }
    assert s["consent"] == [
        {"label": "Téléconsultation", "value": "accepté"},
        {"label": "Partage des données avec d'autres professionnels", "value": "refusé"},
    ]
    temp, bp, ox = s["measurements"]
    assert temp["label"] == "Température" and temp["value"] == "37,2 °C"
    assert temp["by"] == "mesurée avec le thermomètre connecté"
    assert bp["label"] == "Tension artérielle" and bp["value"] == "142/91 mmHg (moyenne 108)"
    assert bp["by"] == "saisie à la main par Mme Durand, infirmière"
    assert bp["flags"] == "tension élevée"
    assert ox == {
        "label": "Saturation en oxygène (SpO2)",
        "value": "97 %",
        "at": ox["at"],
        "by": "mesurée avec l'oxymètre connecté",
    }
    assert [r["value"] for r in s["not_measured"]] == [
        "non prise (passée)",
        "Le tensiomètre n'a pas fonctionné",
        "lecture refusée : valeur trop haute pour être plausible, à reprendre",
    ]
    assert s["not_measured"][0]["label"] == "Pouls"
    assert [r["text"] for r in s["incidents"]] == [
        "Le téléservice INSi n'a pas pu être interrogé : identité provisoire."
    ]
    assert s["cabin"] == {
        "site": "Pharmacie de démonstration",
        "address": "1 place de la Mairie, dans la pharmacie, au fond à droite, 75001 Paris",
        "city": "Paris",
        "insee_code": "75056",
        "phone": "01 23 45 67 00",
    }
    assert [r["label"] for r in s["orientation"]][0] == "Parcours de soins"
    text = shown(s)
    for code in RAW_CODES:
        assert code not in text, code


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (IdentityStatus.PROV, "identité provisoire"),
        (IdentityStatus.RECUP, "identité récupérée (INSi)"),
        (IdentityStatus.VALI, "identité validée (pièce d'identité)"),
        (IdentityStatus.QUAL, "identité qualifiée"),
    ],
)
def test_identity_status_in_words(config: KioskConfig, status: IdentityStatus, words: str) -> None:
    # Only the status matters here (each status has its own rules in the domain).
    identity = SimpleNamespace(traits=TRAITS, status=status, method=CollectionMethod.CV)
    ctx = context(identity=identity)
    s = summary_of(ctx, config)
    assert s["identity"]["status"] == words
    assert "verified" not in s["identity"]


def test_a_partial_birth_date_gives_a_partial_date_and_an_age_range(config: KioskConfig) -> None:
    traits = replace(
        TRAITS, birth_date=date(1950, 1, 1), birth_date_precision=BirthDatePrecision.YEAR
    )
    ctx = context(identity=replace(provisional(), traits=traits))
    identity = summary_of(ctx, config)["identity"]
    assert identity["birth_date"] == "--/--/1950"
    assert identity["age"] == "75 ou 76 ans"
    assert "1950-01-01" not in shown(identity)


def test_no_reason_given_is_said_so(config: KioskConfig) -> None:
    s = summary_of(context(visit_reason=VisitReasonAnswer(T0)), config)
    assert s["reason"] == {
        "choices": [],
        "note": "Le patient préfère en parler directement au médecin.",
    }
    s = summary_of(context(), config, reasons=["pain"], reason_text="au genou")
    assert s["reason"] == {"choices": ["Douleur"], "text": "au genou"}
    assert "reason" not in summary_of(context(), config)


def test_a_manual_value_without_a_known_name_still_says_a_professional(config: KioskConfig) -> None:
    (row,) = summary_of(context(measurements=(blood_pressure(),)), config)["measurements"]
    assert row["by"] == "saisie à la main par un professionnel de la cabine"
    assert "nurse-3" not in shown(row)


@pytest.mark.parametrize(
    ("born", "precision", "today", "age"),
    [
        (date(1950, 3, 2), "day", date(2026, 3, 1), "75 ans"),
        (date(1950, 3, 2), "day", date(2026, 3, 2), "76 ans"),
        (date(1950, 3, 1), "month", date(2026, 3, 20), "75 ou 76 ans"),
        (date(1950, 3, 1), "month", date(2026, 4, 1), "76 ans"),
        (date(1950, 3, 1), "month", date(2026, 2, 28), "75 ans"),
        (date(1950, 1, 1), "year", date(2026, 6, 1), "75 ou 76 ans"),
        (date(2026, 1, 10), "day", date(2026, 11, 23), "10 mois"),
        (date(2025, 1, 10), "day", date(2026, 11, 23), "22 mois"),
        (date(2024, 1, 10), "day", date(2026, 11, 23), "2 ans"),
        (date(2025, 11, 23), "year", date(2026, 11, 23), "0 ou 1 an"),
        (date(2027, 1, 1), "day", date(2026, 11, 23), None),
    ],
)
def test_age(born: date, precision: str, today: date, age: str | None) -> None:
    assert age_in_words(born, precision, today) == age


def test_french_numbers_and_units() -> None:
    assert french_number(Decimal("37.20")) == "37,20"  # the device's precision kept
    assert french_number(Decimal("1E+2")) == "100"
    assert with_unit(Decimal("37.2"), "Cel") == "37,2 °C"
    assert with_unit(Decimal(72), "/min") == "72 /min"
    assert birth_date_in_words(date(1950, 6, 1), "month") == "--/06/1950"


def test_measurement_of_each_kind_has_a_french_label(config: KioskConfig) -> None:
    pulse = make_measurement(
        "m9",
        MeasurementKind.HEART_RATE,
        {Quantity.HEART_RATE: Decimal(72)},
        DeviceSource("oxi-1"),
        T0,
    )
    (row,) = summary_of(context(measurements=(pulse,)), config)["measurements"]
    assert row["label"] == "Pouls" and row["value"] == "72 /min"
