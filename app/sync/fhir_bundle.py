"""One session → one FHIR R4 transaction Bundle, deterministic to the byte.

Why deterministic: the sender may post the same session many times (lost
responses, platform restarts); the platform must see the very same request,
so the bundle holds no send time, no random id, and its entries come in a
fixed order. Every entry is a conditional create on the kiosk's business
identifier, so a repeat creates nothing.
"""

from __future__ import annotations

from app.domain.identity import TestIdentityRefused, ins_identifier_for_export
from app.sync.code_checks import require_valid_codes
from app.sync.errors import MappingError, MappingErrorReason
from app.sync.fhir_audit import (
    INS_PROFILE_ITEM,
    audit_event_resource,
    audit_item,
    identity_history_events,
    identity_item,
    ins_profile_event,
    payment_event,
    payment_item,
    untraced_payments,
)
from app.sync.fhir_consent import consent_item, consent_resource
from app.sync.fhir_context import Json, MappingContext, entry
from app.sync.fhir_document import (
    INLINE_MAX_BYTES,
    document_author,
    document_item,
    document_resource,
)
from app.sync.fhir_encounter import encounter_resource, location_resource
from app.sync.fhir_json import dump_bytes
from app.sync.fhir_observation import device_resource, observation_item, observation_resource
from app.sync.fhir_orientation import ORIENTATION_ITEM, orientation_resource
from app.sync.fhir_patient import ins_profile_check, patient_resource
from app.sync.fhir_provenance import (
    consent_provenance,
    document_provenance,
    observation_provenance,
    patient_provenance,
    provenance_item,
)
from app.sync.identifiers import IdentifierMinter, check_safe
from app.sync.session_snapshot import SessionSnapshot, SiteInfo


def session_bundle(
    snapshot: SessionSnapshot,
    site: SiteInfo,
    minter: IdentifierMinter | None = None,
    *,
    inline_max_bytes: int = INLINE_MAX_BYTES,
) -> Json:
    """The transaction Bundle of one session (resources checked by `check_codes`).

    Raises `MappingError` (never retried: the session goes to quarantine) or
    `CodeCheckError` when a resource would carry a wrong code.
    """
    minter = minter or IdentifierMinter(site.cabin_id)
    ctx = MappingContext(site, minter, check_safe("session", snapshot.session_id))
    identity = snapshot.identity
    if identity is None and (
        snapshot.consents or snapshot.measurements or snapshot.documents or snapshot.orientation
    ):
        raise MappingError(
            MappingErrorReason.NO_PATIENT,
            "A session with consents, measurements, documents or an orientation must have an "
            "identified patient.",
        )

    entries: list[Json] = [
        entry(ctx.location_id, location_resource(ctx)),
        entry(ctx.kiosk_device_id, device_resource(f"kiosk {site.cabin_id}", ctx, kiosk=True)),
    ]
    devices: list[str] = []
    for measurement in snapshot.measurements:
        device = getattr(measurement.source, "device_id", None)
        if device is not None and device not in devices:
            devices.append(device)
    entries += [entry(ctx.device_id(d), device_resource(d, ctx)) for d in devices]

    provenances: list[Json] = []
    if identity is not None:
        entries.append(entry(ctx.patient_id, patient_resource(identity, ctx)))
        provenances.append(
            entry(
                ctx.session_id_for(provenance_item("patient")),
                patient_provenance(identity, snapshot.started_at, ctx),
            )
        )
    entries.append(entry(ctx.encounter_id, encounter_resource(snapshot, ctx)))

    for decision in snapshot.consents:
        item = consent_item(decision)
        entries.append(entry(ctx.session_id_for(item), consent_resource(decision, ctx)))
        provenances.append(
            entry(
                ctx.session_id_for(provenance_item(item)),
                consent_provenance(decision, item, ctx),
            )
        )
    observation_items: dict[str, str] = {}
    for measurement in snapshot.measurements:
        item = observation_item(measurement)
        observation_items[measurement.id] = item
        entries.append(entry(ctx.session_id_for(item), observation_resource(measurement, ctx)))
        provenances.append(
            entry(
                ctx.session_id_for(provenance_item(item)),
                observation_provenance(measurement, item, ctx),
            )
        )
    if snapshot.orientation is not None:
        entries.append(
            entry(
                ctx.session_id_for(ORIENTATION_ITEM),
                orientation_resource(snapshot.orientation, snapshot, ctx),
            )
        )
    for document in snapshot.documents:
        item = document_item(document)
        entries.append(
            entry(
                ctx.session_id_for(item),
                document_resource(document, snapshot, ctx, inline_max_bytes),
            )
        )
        provenances.append(
            entry(
                ctx.session_id_for(provenance_item(item)),
                document_provenance(document, document_author(document, snapshot), item, ctx),
            )
        )
    entries += provenances
    for n, event in enumerate(identity_history_events(snapshot, ctx)):
        entries.append(entry(ctx.session_id_for(identity_item(n)), event))
    if identity is not None:
        try:
            ins_present = ins_identifier_for_export(identity, site.mode) is not None
        except TestIdentityRefused:
            ins_present = False  # patient_resource has already refused the session
        withheld = ins_profile_event(ins_profile_check(identity, ins_present), snapshot, ctx)
        if withheld is not None:
            entries.append(entry(ctx.session_id_for(INS_PROFILE_ITEM), withheld))
    for index, trace_entry in enumerate(snapshot.trace):
        entries.append(
            entry(
                ctx.session_id_for(audit_item(index, trace_entry)),
                audit_event_resource(
                    index,
                    trace_entry,
                    ctx,
                    has_patient=identity is not None,
                    observation_items=observation_items,
                ),
            )
        )
    for index, payment in untraced_payments(snapshot):
        entries.append(
            entry(
                ctx.session_id_for(payment_item(index)),
                payment_event(index, payment, snapshot, ctx),
            )
        )
    require_valid_codes((e["resource"] for e in entries), mode=site.mode)
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def session_bundle_bytes(
    snapshot: SessionSnapshot, site: SiteInfo, minter: IdentifierMinter | None = None
) -> bytes:
    """The bundle as the bytes posted to the platform (UTF-8 FHIR JSON)."""
    return dump_bytes(session_bundle(snapshot, site, minter))
