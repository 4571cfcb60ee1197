"""The kiosk's own code systems and extensions: one stable https namespace, published.

Why a URL and not `urn:telecabine:...`: `telecabine` is no registered URN
namespace, and FHIR wants a code system's `url` to be resolvable so a
platform can look a code up. Every local code system the kiosk writes is
listed here with all its codes and a French display (the platform's staff
read them), and `code_system_resources()` turns them into R4 CodeSystem
resources that the reference platform publishes (`GET /CodeSystem?url=...`).
A code the kiosk sends is therefore always one a platform can resolve.

`VENDOR_BASE` is the one place the namespace is written. The `.example`
domain is reserved (RFC 2606): it never belongs to anyone else, so the
URLs stay stable; a vendor with its own domain changes this constant once,
with the CodeSystem resources following.

The business *identifier* systems (`urn:telecabine:<cabin>`) are not codes
and keep their URN: changing them would make every platform see every
already-sent resource as new (conditional creates and client ids derive from
them), i.e. duplicate the whole history of a cabin.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from app.domain.consent import ConsentItem
from app.domain.orientation import OrientationException, Parcours, TerritorialityWaiver
from app.domain.trace import ActorKind, IncidentCode, TraceKind
from app.domain.visit_reason import FRENCH_WORDS

VENDOR_BASE = "https://telecabine.example/fhir"
CS_BASE = f"{VENDOR_BASE}/CodeSystem"
SD_BASE = f"{VENDOR_BASE}/StructureDefinition"
CODE_SYSTEM_VERSION = "1.0.0"

CS_TRACE_KIND = f"{CS_BASE}/trace-kind"
CS_INCIDENT = f"{CS_BASE}/incident"
CS_CONSENT_ITEM = f"{CS_BASE}/consent-item"
CS_ACTOR_KIND = f"{CS_BASE}/actor-kind"
CS_END_REASON = f"{CS_BASE}/end-reason"
CS_INTERRUPTION = f"{CS_BASE}/encounter-interruption"
CS_DOCUMENT_KIND = f"{CS_BASE}/document-kind"
CS_KIOSK_OBSERVATION = f"{CS_BASE}/observation-code"
CS_PARCOURS = f"{CS_BASE}/parcours"
CS_ORIENTATION_EXCEPTION = f"{CS_BASE}/orientation-exception"
CS_TERRITORIALITY_WAIVER = f"{CS_BASE}/territoriality-waiver"
CS_IDENTITY_EVENT = f"{CS_BASE}/identity-event"
CS_VISIT_REASON = f"{CS_BASE}/visit-reason"

EXT_CONSENT_TEXT_SHA256 = f"{SD_BASE}/consent-text-sha256"
EXT_ENCOUNTER_END_REASON = f"{SD_BASE}/encounter-end-reason"
EXT_ATTACHMENT_SHA256 = f"{SD_BASE}/attachment-sha256"
CONSENT_TEXT_BASE = f"{VENDOR_BASE}/consent-text"

# Identity events of the AuditEvents the mapping adds.
IDENTITY_RECORDED = "identity-recorded"
INS_PROFILE_WITHHELD = "ins-profile-withheld"

END_REASON_DISPLAYS: Mapping[str, str] = {
    "completed": "Séance menée à son terme",
    "stopped": "Séance arrêtée par le patient",
    "abandoned": "Séance abandonnée (inactivité)",
    "emergency": "Sortie d'urgence",
    "interrupted": "Séance interrompue par un redémarrage de la borne",
    "fault": "Séance interrompue par une erreur logicielle",
}
DOCUMENT_KINDS: Mapping[str, str] = {
    "report": "Compte rendu de téléconsultation",
    "prescription": "Ordonnance",
    "imaging": "Image",
    "certificate": "Certificat",
    "sick-note": "Arrêt de travail",
    "referral": "Courrier d'adressage",
    "other": "Autre document",
}
OBSERVATION_CODES: Mapping[str, str] = {
    "parcours-de-soins-orientation": "Orientation dans le parcours de soins",
    "orientation-exception": "Exception au parcours de soins",
    "territoriality-waiver": "Dérogation à la territorialité",
    "medecin-traitant-unknown": "Médecin traitant inconnu du patient",
}
IDENTITY_EVENTS: Mapping[str, str] = {
    IDENTITY_RECORDED: "Version de l'identité enregistrée",
    INS_PROFILE_WITHHELD: "Identité qualifiée envoyée sans le profil INS",
}


def _codes(values: Any) -> dict[str, str]:
    return {str(v.value): str(v.value).replace("-", " ") for v in values}


def _interruptions() -> Mapping[str, str]:
    from app.sync.fhir_codes import INTERRUPTIONS  # one table, written once

    return INTERRUPTIONS


@functools.cache
def code_systems() -> dict[str, tuple[str, Mapping[str, str]]]:
    """url -> (title, {code: display}) of every local code system."""
    return {
        CS_TRACE_KIND: ("Acts of the trace (CSP R.6316-4)", _codes(TraceKind)),
        CS_INCIDENT: ("Technical incidents of a session", _codes(IncidentCode)),
        CS_CONSENT_ITEM: ("What a consent is about", _codes(ConsentItem)),
        CS_ACTOR_KIND: ("Who acted in the cabin", _codes(ActorKind)),
        CS_END_REASON: ("How a session ended", dict(END_REASON_DISPLAYS)),
        CS_INTERRUPTION: ("Why a consultation was cancelled or cut", dict(_interruptions())),
        CS_DOCUMENT_KIND: ("Kinds of documents a doctor issues", dict(DOCUMENT_KINDS)),
        CS_KIOSK_OBSERVATION: ("Kiosk questionnaire observations", dict(OBSERVATION_CODES)),
        CS_PARCOURS: ("Position in the parcours de soins", _codes(Parcours)),
        CS_ORIENTATION_EXCEPTION: ("Exceptions to the parcours", _codes(OrientationException)),
        CS_TERRITORIALITY_WAIVER: ("Waivers of territoriality", _codes(TerritorialityWaiver)),
        CS_IDENTITY_EVENT: ("Identity events", dict(IDENTITY_EVENTS)),
        CS_VISIT_REASON: (
            "Why the patient came, in the kiosk's simple choices",
            {str(r.value): words for r, words in FRENCH_WORDS.items()},
        ),
    }


def code_system_resources() -> list[dict[str, Any]]:
    """The R4 CodeSystem resources a platform publishes for the kiosk's codes."""
    out: list[dict[str, Any]] = []
    for url, (title, concepts) in code_systems().items():
        name = url.rsplit("/", 1)[1]
        out.append(
            {
                "resourceType": "CodeSystem",
                "id": f"telecabine-{name}",
                "url": url,
                "version": CODE_SYSTEM_VERSION,
                "name": "Telecabine" + "".join(p.capitalize() for p in name.split("-")),
                "title": title,
                "status": "active",
                "publisher": "Télécabine",
                "caseSensitive": True,
                "content": "complete",
                "count": len(concepts),
                "concept": [{"code": code, "display": d} for code, d in concepts.items()],
            }
        )
    return out


@functools.cache
def known_codes(url: str) -> frozenset[str] | None:
    """The codes of a local code system (None when `url` is not one of ours)."""
    entry = code_systems().get(url)
    return None if entry is None else frozenset(entry[1])
