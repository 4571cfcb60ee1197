"""Consent: what the patient agreed to (or refused), on which text, in which language, when.

Why refusals are resources too: a refusal is a decision the doctor must see
(e.g. no data sharing with the DMP). Mapping: granted → `active` with a
`permit` provision; refused → `rejected` with `deny`; withdrawn → `inactive`
with `deny`. The exact text shown is named by its id, version and language
(`policy.uri` and `sourceAttachment`) and pinned by the SHA-256 of its words.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from urllib.parse import quote

from app.domain.consent import ConsentChoice, ConsentDecision, ConsentItem
from app.sync import fhir_codes as c
from app.sync.fhir_context import Json, MappingContext, fhir_datetime
from app.sync.identifiers import CONSENT_TEXT_BASE, CS_CONSENT_ITEM, EXT_CONSENT_TEXT_SHA256

_STATUS: Mapping[ConsentChoice, tuple[str, str]] = {
    ConsentChoice.GRANTED: ("active", "permit"),
    ConsentChoice.REFUSED: ("rejected", "deny"),
    ConsentChoice.WITHDRAWN: ("inactive", "deny"),
}
_SCOPE: Mapping[ConsentItem, str] = {
    ConsentItem.TELECONSULTATION: "treatment",
    ConsentItem.ASSISTANCE: "treatment",
    ConsentItem.DATA_SHARING: "patient-privacy",
}


def consent_item(decision: ConsentDecision) -> str:
    stamp = decision.at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"consent/{decision.item.value}/{stamp}"


def consent_text_uri(decision: ConsentDecision) -> str:
    parts = (decision.text_id, decision.text_version, decision.language)
    return f"{CONSENT_TEXT_BASE}/" + "/".join(quote(p, safe="") for p in parts)


def consent_resource(decision: ConsentDecision, ctx: MappingContext) -> Json:
    status, provision = _STATUS[decision.choice]
    business_id = ctx.session_id_for(consent_item(decision))
    patient = ctx.ref(ctx.patient_id, "Patient")
    uri = consent_text_uri(decision)
    item_coding = {"system": CS_CONSENT_ITEM, "code": decision.item.value}
    return {
        "resourceType": "Consent",
        "meta": {"profile": [c.PROFILE_CONSENT]},
        "language": decision.language,
        "identifier": [business_id.as_fhir()],
        "status": status,
        "scope": {"coding": [{"system": c.CS_CONSENT_SCOPE, "code": _SCOPE[decision.item]}]},
        "category": [
            {"coding": [{"system": c.LOINC, "code": c.CONSENT_CATEGORY_LOINC}]},
            {"coding": [item_coding]},
        ],
        "patient": patient,
        "dateTime": fhir_datetime(decision.at),
        "performer": [patient],
        "sourceAttachment": {
            "extension": [{"url": EXT_CONSENT_TEXT_SHA256, "valueString": decision.text_sha256}],
            "contentType": "text/plain; charset=utf-8",
            "language": decision.language,
            "url": uri,
            "title": f"{decision.text_id} {decision.text_version}",
        },
        "policy": [{"uri": uri}],
        "provision": {
            "type": provision,
            "period": {"start": fhir_datetime(decision.at)},
            "code": [{"coding": [item_coding]}],
        },
    }
