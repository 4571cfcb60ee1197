"""What the doctor reads about the patient before and during the call, in French words.

Why words and not codes: the doctor's console shows the summary as it comes;
a doctor must not have to know that "RECUP" means the INSi teleservice
returned the identity, that "CV" is the carte Vitale or that "Cel" is degrees
Celsius. The kiosk owns the codes, so the kiosk turns them into the words a
French doctor reads: "identité récupérée (INSi)", "Température 37,2 °C",
"saisie par Mme Durand". The console renders these strings and nothing else
(it still knows the old codes as a fallback for an older kiosk).

Pure: plain values in (the session context, read with `getattr` because the
context grows under other hands; the site configuration), a JSON object out.
No Qt, no I/O, no logging: the summary is health data and travels only to
the logged-in doctor over the call's signalling.

Shape (docs/call.md, "The summary the kiosk shares"): ``identity``,
``reason``, ``consent``, ``orientation``, ``measurements``, ``not_measured``,
``incidents``, ``cabin``; every value a French string (or a list of
``{"label", "value", …}`` rows), so a console shows them without a table of
its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from app.domain.visit_reason import FRENCH_WORDS

SUMMARY_VERSION = 2

IDENTITY_STATUS = {
    "PROV": "identité provisoire",
    "RECUP": "identité récupérée (INSi)",
    "VALI": "identité validée (pièce d'identité)",
    "QUAL": "identité qualifiée",
}
COLLECTION_METHOD = {
    "SM": "saisie par un professionnel",
    "CV": "carte Vitale",
    "AV": "appli carte Vitale",
    "INSI": "téléservice INSi",
    "CB": "datamatrix INS",
    "RFID": "puce sans contact",
}
SEX = {"female": "femme", "male": "homme", "unknown": "non précisé"}
IDENTITY_DOCUMENT = {
    "passport": "passeport",
    "national-id-card": "carte nationale d'identité",
    "residence-permit": "titre de séjour",
}
CONSENT_ITEM = {
    "teleconsultation": "Téléconsultation",
    "data-sharing": "Partage des données avec d'autres professionnels",
    "assistance": "Présence d'un professionnel dans la cabine",
}
CONSENT_CHOICE = {"granted": "accepté", "refused": "refusé", "withdrawn": "retiré"}
PARCOURS = {
    "within": "dans le parcours de soins (médecin traitant ou orienté par lui)",
    "exception": "hors médecin traitant, avec une exception reconnue",
    "outside": "hors parcours de soins (à préciser avec le patient)",
}
ORIENTATION_EXCEPTION = {
    "under-16": "moins de 16 ans",
    "direct-access-specialty": "spécialité en accès direct",
    "no-medecin-traitant": "pas de médecin traitant",
    "medecin-traitant-unavailable": "médecin traitant indisponible",
    "emergency": "situation d'urgence",
    "detainee": "personne détenue",
    "care-home-resident": "résident d'EHPAD ou d'établissement pour adultes handicapés",
}
TERRITORIALITY_WAIVER = {
    "sas-referral": "orienté par le SAS",
    "zip-residence": "réside en zone d'intervention prioritaire",
}
VISIT_REASON = {str(r.value): words for r, words in FRENCH_WORDS.items()}
MEASUREMENT_KIND = {
    "body-temperature": "Température",
    "heart-rate": "Pouls",
    "spo2": "Saturation en oxygène (SpO2)",
    "blood-pressure": "Tension artérielle",
}
QUANTITY = {
    "body-temperature": "Température",
    "heart-rate": "Pouls",
    "spo2": "Saturation en oxygène (SpO2)",
    "systolic": "Pression systolique",
    "diastolic": "Pression diastolique",
    "mean": "Pression moyenne",
}
UNIT = {"Cel": "°C", "/min": "/min", "%": "%", "mm[Hg]": "mmHg", "[degF]": "°F"}
DEVICE_OF_KIND = {
    "body-temperature": "le thermomètre connecté",
    "heart-rate": "l'oxymètre connecté",
    "spo2": "l'oxymètre connecté",
    "blood-pressure": "le tensiomètre connecté",
}
DEVICE_KIND = {
    "thermometer": "le thermomètre",
    "oximeter": "l'oxymètre",
    "tensiometer": "le tensiomètre",
    "card-reader": "le lecteur de carte",
    "camera": "la caméra",
}
FLAG = {
    "fever": "fièvre",
    "hypothermia": "hypothermie",
    "spo2-low": "saturation basse",
    "spo2-very-low": "saturation très basse",
    "tachycardia": "tachycardie",
    "bradycardia": "bradycardie",
    "hypertension": "tension élevée",
    "hypertensive-crisis": "tension très élevée",
    "hypotension": "tension basse",
}
DEVICE_FLAG = {
    "body-movement": "bras en mouvement",
    "cuff-too-loose": "brassard trop lâche",
    "irregular-pulse": "pouls irrégulier",
    "pulse-rate-above-range": "pouls au-dessus de la plage de l'appareil",
    "pulse-rate-below-range": "pouls en dessous de la plage de l'appareil",
    "improper-measurement-position": "brassard mal placé",
    "no-device-time": "heure de l'appareil inconnue",
}
MEASUREMENT_REFUSED = {
    "too-low": "valeur trop basse pour être plausible",
    "too-high": "valeur trop haute pour être plausible",
    "systolic-not-above-diastolic": "systolique non supérieure à la diastolique",
    "mean-outside-pressures": "pression moyenne incohérente",
}
INCIDENT = {
    "platform-unreachable": "La plateforme de téléconsultation a été injoignable.",
    "device-failed": "Un appareil de mesure n'a pas fonctionné.",
    "call-dropped": "L'appel vidéo a été interrompu.",
    "card-removed": "La carte Vitale a été retirée pendant la séance.",
    "card-error": "La carte Vitale n'a pas pu être lue entièrement.",
    "card-changed": "Une autre carte a été insérée pendant la séance.",
    "card-left-in-reader": "La carte est restée dans le lecteur à la fin.",
    "identity-refused-in-production": "Une identité de test a été refusée.",
    "store-failed": "Le stockage chiffré de la borne a eu un problème d'écriture.",
    "software-fault": "La borne a eu une erreur logicielle.",
    "kiosk-restarted": "La borne a redémarré pendant la séance.",
    "call-quality-poor": "La qualité de l'appel est devenue faible.",
    "call-audio-only": "L'appel a continué en audio seul (qualité faible).",
    "call-reconnecting": "La connexion de l'appel a été perdue, la borne a tenté de la rétablir.",
    "call-reconnected": "La connexion de l'appel est revenue après une coupure.",
    "call-video-reduced": "La borne a envoyé une image plus petite ou moins fluide (connexion faible).",
    "call-video-restored": "L'image de l'appel est revenue après une connexion faible.",
    "call-signalling-lost": "Le lien avec la plateforme a été perdu pendant l'appel.",
    "call-media-check-failed": "La vérification de la caméra, du micro ou du haut-parleur a échoué.",
    "ui-error": "L'écran de la borne a eu une erreur.",
    "speech-failed": "La lecture à voix haute n'a pas pu être préparée.",
    "audio-failed": "La lecture à voix haute n'a pas pu être jouée.",
    "chat-send-failed": "Un message écrit au médecin n'a pas pu être envoyé.",
    "insi-unavailable": "Le téléservice INSi n'a pas pu être interrogé : identité provisoire.",
    "insi-mismatch": "INSi connaît ce numéro avec d'autres traits : identité à vérifier.",
    "insi-several-candidates": "INSi a trouvé plusieurs personnes : identité à vérifier.",
    "insi-refused": "INSi a refusé la demande : identité provisoire.",
    "wait-too-long": "Aucun médecin n'était disponible dans le délai d'attente.",
    "printer-out-of-paper": "L'imprimante de la cabine n'avait plus de papier.",
    "printer-offline": "L'imprimante de la cabine était éteinte ou injoignable.",
    "print-failed": "L'impression des documents a échoué.",
}
INCIDENT_UNKNOWN = "Incident technique de la borne."


def french_number(value: Decimal | float | int) -> str:
    """37.2 → "37,2" (the device's precision kept, no exponent), -0 → "0"."""
    text = format(Decimal(str(value)) if not isinstance(value, Decimal) else value, "f")
    if text.startswith("-") and Decimal(text) == 0:
        text = text[1:]
    return text.replace(".", ",")


def with_unit(value: Decimal | float | int, unit: str) -> str:
    """37.2, "Cel" → "37,2 °C"; 97, "%" → "97 %"; unknown units shown as given."""
    return f"{french_number(value)} {UNIT.get(unit, unit)}".strip()


def age_in_words(born: date, precision: str, today: date) -> str | None:
    """Age at `today` from a date of birth known to the day, the month or the year.

    A partial date gives a range when the birthday may or may not have
    passed: "75 ou 76 ans". A child under two is counted in months.
    """
    if born > today:
        return None
    years = today.year - born.year
    if precision == "year":
        low, high = years - 1, years
    elif precision == "month":
        if today.month == born.month:
            low, high = years - 1, years
        else:
            low = high = years - (1 if today.month < born.month else 0)
    else:
        low = high = years - (1 if (today.month, today.day) < (born.month, born.day) else 0)
    low = max(low, 0)
    if high < 2 and precision == "day":
        months = (today.year - born.year) * 12 + today.month - born.month
        months -= 1 if today.day < born.day else 0
        return f"{months} mois"
    if low == high:
        return f"{high} an" if high == 1 else f"{high} ans"
    return f"{low} ou {high} an" if high <= 1 else f"{low} ou {high} ans"


def birth_date_in_words(born: date, precision: str) -> str:
    """ "02/03/1950", "--/03/1950" (day unknown), "--/--/1950" (only the year)."""
    if precision == "year":
        return f"--/--/{born.year:04d}"
    if precision == "month":
        return f"--/{born.month:02d}/{born.year:04d}"
    return born.strftime("%d/%m/%Y")


def _value(x: Any) -> str:
    """An enum's value, or the text itself."""
    return str(getattr(x, "value", x))


def _clock(at: datetime | None) -> str:
    if at is None:
        return ""
    local = at.astimezone() if at.tzinfo is not None else at
    return local.strftime("%H:%M")


def identity_summary(identity: Any, today: date, names: Mapping[str, str]) -> dict[str, str]:
    t = identity.traits
    first = t.first_name_used or (t.birth_first_names[0] if t.birth_first_names else "")
    precision = _value(getattr(t, "birth_date_precision", "day"))
    out = {
        "display_name": f"{(t.used_name or t.birth_name).upper()} {first}".strip(),
        "birth_date": birth_date_in_words(t.birth_date, precision),
        "sex": SEX.get(_value(t.sex), "non précisé"),
        "status": IDENTITY_STATUS.get(_value(identity.status), "identité provisoire"),
        "method": COLLECTION_METHOD.get(_value(identity.method), "autre"),
    }
    age = age_in_words(t.birth_date, precision, today)
    if age is not None:
        out["age"] = age
    document = getattr(identity, "verification_document", None)
    by = getattr(identity, "verified_by", None)
    if document is not None:
        checked = f"vérifiée sur {IDENTITY_DOCUMENT.get(_value(document), 'pièce d’identité')}"
        if by:
            checked += f" par {names.get(by, 'un professionnel de la cabine')}"
        out["verified"] = checked
    return out


def reason_summary(reasons: Iterable[Any], text: str | None) -> dict[str, Any]:
    """The patient's own choices and words; nothing chosen means "tell the doctor"."""
    choices = [VISIT_REASON.get(_value(r), "Autre raison") for r in reasons]
    out: dict[str, Any] = {"choices": choices}
    if text:
        out["text"] = text
    if not choices and not text:
        out["note"] = "Le patient préfère en parler directement au médecin."
    return out


def consent_summary(consents: Iterable[Any]) -> list[dict[str, str]]:
    """The latest choice for each item, in the order of the items."""
    latest: dict[str, str] = {}
    for decision in consents:
        latest[_value(decision.item)] = _value(decision.choice)
    return [
        {"label": CONSENT_ITEM[item], "value": CONSENT_CHOICE.get(latest[item], "non renseigné")}
        for item in CONSENT_ITEM
        if item in latest
    ]


def orientation_summary(orientation: Any) -> list[dict[str, str]]:
    rows = [{"label": "Parcours de soins", "value": PARCOURS.get(_value(orientation.parcours), "")}]
    exceptions = sorted(ORIENTATION_EXCEPTION.get(_value(e), "") for e in orientation.exceptions)
    if exceptions:
        rows.append({"label": "Exception", "value": ", ".join(e for e in exceptions if e)})
    waivers = sorted(TERRITORIALITY_WAIVER.get(_value(w), "") for w in orientation.waivers)
    if waivers:
        rows.append(
            {"label": "Dérogation territoriale", "value": ", ".join(w for w in waivers if w)}
        )
    if orientation.unknown_medecin_traitant:
        rows.append({"label": "Médecin traitant", "value": "le patient ne sait pas (à demander)"})
    return rows


def _who(measurement: Any, names: Mapping[str, str]) -> str:
    account = getattr(measurement.source, "professional_account_id", None)
    if account is not None:
        return f"saisie à la main par {names.get(account, 'un professionnel de la cabine')}"
    device = DEVICE_OF_KIND.get(_value(measurement.kind), "un appareil connecté")
    return f"mesurée avec {device}"


def measurement_row(measurement: Any, names: Mapping[str, str]) -> dict[str, Any]:
    kind = _value(measurement.kind)
    parts = {_value(c.quantity): c for c in measurement.components}
    if kind == "blood-pressure" and "systolic" in parts and "diastolic" in parts:
        s, d = parts["systolic"], parts["diastolic"]
        value = f"{french_number(s.value)}/{french_number(d.value)} {UNIT.get(s.unit, s.unit)}"
        if "mean" in parts:
            value += f" (moyenne {french_number(parts['mean'].value)})"
    else:
        value = " · ".join(
            (f"{QUANTITY.get(q, 'Valeur')} " if len(parts) > 1 else "") + with_unit(c.value, c.unit)
            for q, c in parts.items()
        )
    row: dict[str, Any] = {
        "label": MEASUREMENT_KIND.get(kind, "Mesure"),
        "value": value,
        "at": _clock(measurement.taken_at),
        "by": _who(measurement, names),
    }
    flags_of = getattr(measurement, "flags", None)
    flags = flags_of() if callable(flags_of) else (flags_of or ())
    words = sorted(FLAG[_value(f)] for f in flags if _value(f) in FLAG)
    said = [DEVICE_FLAG[_value(f)] for f in getattr(measurement, "device_flags", ())]
    words += [f"signalé par l'appareil : {w}" for w in said if w]
    if words:
        row["flags"] = ", ".join(words)
    return row


def measurement_rows(measurements: Iterable[Any], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """One row per measurement taken; a heart rate read with the SpO2 is its own row."""
    rows: list[dict[str, Any]] = []
    for measurement in measurements:
        try:
            rows.append(measurement_row(measurement, names))
        except (AttributeError, TypeError, ValueError, ArithmeticError):
            continue  # an odd measurement is left out rather than breaking the summary
    return rows


def not_measured(
    skipped: Iterable[Any], trace: Iterable[Any], devices: Mapping[str, str]
) -> list[dict[str, str]]:
    """Skipped measurements, failed devices and refused (implausible) readings, in words."""
    rows: list[dict[str, str]] = []
    for kind in sorted(_value(k) for k in skipped):
        rows.append({"label": MEASUREMENT_KIND.get(kind, "Mesure"), "value": "non prise (passée)"})
    for entry in trace:
        kind_of = _value(getattr(entry, "kind", ""))
        subject = getattr(entry, "subject", None) or ""
        if kind_of == "measurement-refused":
            kind, _, why = subject.partition(":")
            rows.append(
                {
                    "label": MEASUREMENT_KIND.get(kind, "Mesure"),
                    "value": "lecture refusée : "
                    + MEASUREMENT_REFUSED.get(why, "valeur non plausible")
                    + ", à reprendre",
                    "at": _clock(getattr(entry, "at", None)),
                }
            )
        elif _value(getattr(entry, "incident", "")) == "device-failed":
            device = DEVICE_KIND.get(devices.get(subject, ""), "un appareil de mesure")
            rows.append(
                {
                    "label": "Appareil en panne",
                    "value": f"{device[0].upper()}{device[1:]} n'a pas fonctionné",
                    "at": _clock(getattr(entry, "at", None)),
                }
            )
    return rows


def incident_rows(trace: Iterable[Any]) -> list[dict[str, str]]:
    """Technical incidents of the session, in words (device failures are under not_measured)."""
    rows: list[dict[str, str]] = []
    for entry in trace:
        code = getattr(entry, "incident", None)
        if code is None or _value(code) == "device-failed":
            continue
        rows.append(
            {
                "at": _clock(getattr(entry, "at", None)),
                "text": INCIDENT.get(_value(code), INCIDENT_UNKNOWN),
            }
        )
    return rows


def cabin_summary(site: Any) -> dict[str, str]:
    """Name, street address, phone and commune code of the cabin's site."""
    address = site.address
    out = {
        "site": site.name,
        "address": address.one_line() if hasattr(address, "one_line") else address.city,
        "city": address.city,
        "insee_code": site.insee_code,
    }
    phone = getattr(site, "phone", None)
    if phone:
        out["phone"] = str(phone)
    return out


def doctor_summary(
    context: Any,
    site: Any,
    *,
    today: date,
    names: Mapping[str, str] | None = None,
    devices: Mapping[str, str] | None = None,
    reasons: Iterable[Any] | None = None,
    reason_text: str | None = None,
) -> dict[str, Any]:
    """The whole summary (see the module's docstring).

    `names`: professional account id → the name to show ("Mme Durand,
    pharmacienne"); `devices`: device id → device kind (from the site's
    configuration). `reasons`/`reason_text` override what the context holds
    (`context.visit_reason`), for a caller that has them elsewhere.
    """
    names = names or {}
    summary: dict[str, Any] = {"version": SUMMARY_VERSION, "cabin": cabin_summary(site)}
    identity = getattr(context, "identity", None)
    if identity is not None:
        summary["identity"] = identity_summary(identity, today, names)
    answer = getattr(context, "visit_reason", None)
    if reasons is None and answer is not None:
        reasons, reason_text = answer.reasons, answer.text
    if reasons is not None or reason_text is not None:
        summary["reason"] = reason_summary(reasons or (), reason_text)
    consents = consent_summary(getattr(context, "consents", ()))
    if consents:
        summary["consent"] = consents
    orientation = getattr(context, "orientation", None)
    if orientation is not None:
        summary["orientation"] = orientation_summary(orientation)
    summary["measurements"] = measurement_rows(getattr(context, "measurements", ()), names)
    trace = tuple(getattr(context, "trace", ()))
    summary["not_measured"] = not_measured(getattr(context, "skipped", ()), trace, devices or {})
    summary["incidents"] = incident_rows(trace)
    return summary
