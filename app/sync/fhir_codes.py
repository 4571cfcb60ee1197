"""Every URL, code system and code the kiosk writes into FHIR, in one place.

Sources: FR Core **2.2.0** (Interop'Santé, hl7.fr/ig/fhir/core, the release
pinned in docs/sync.md), FHIR R4 core code systems, LOINC and UCUM.
`check_codes` reads the same tables, so a code is written and checked from
one definition. The kiosk's own code systems live in `app.sync.vendor`.
"""

from __future__ import annotations

from collections.abc import Mapping

FR_CORE = "https://hl7.fr/ig/fhir/core"
# The FR Core release every profile, extension and code below follows (docs/sync.md).
FR_CORE_VERSION = "2.2.0"
FR_CORE_SD = f"{FR_CORE}/StructureDefinition"
FR_CORE_CS = f"{FR_CORE}/CodeSystem"

# Profiles (meta.profile)
PROFILE_PATIENT = f"{FR_CORE_SD}/fr-core-patient"
PROFILE_PATIENT_INS = f"{FR_CORE_SD}/fr-core-patient-ins"
PROFILE_CONSENT = f"{FR_CORE_SD}/fr-core-consent"
PROFILE_ENCOUNTER = f"{FR_CORE_SD}/fr-core-encounter"
PROFILE_LOCATION = f"{FR_CORE_SD}/fr-core-location"
PROFILE_BODY_TEMPERATURE = f"{FR_CORE_SD}/fr-core-observation-body-temperature"
PROFILE_HEART_RATE = f"{FR_CORE_SD}/fr-core-observation-heartrate"
PROFILE_SPO2 = f"{FR_CORE_SD}/fr-core-observation-saturation-oxygen"
PROFILE_BP = f"{FR_CORE_SD}/fr-core-observation-bp"
PROFILE_VITAL_SIGNS = "http://hl7.org/fhir/StructureDefinition/vitalsigns"

# Patient extensions and code systems
EXT_IDENTITY_RELIABILITY = f"{FR_CORE_SD}/fr-core-identity-reliability"
EXT_BIRTH_LIST_GIVEN_NAME = f"{FR_CORE_SD}/fr-core-patient-birth-list-given-name"
EXT_BIRTH_PLACE = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
EXT_ADDRESS_INSEE_CODE = f"{FR_CORE_SD}/fr-core-address-insee-code"
# FR Core 2.2.0: identityStatus is bound (required) to fr-core-vs-identity-reliability,
# the RNIV statuses PROV | RECUP | VALI | QUAL from the HL7 v2 table 0445 code system.
CS_IDENTITY_STATUS = f"{FR_CORE_CS}/fr-core-cs-v2-0445"
CS_METHOD_COLLECTION = f"{FR_CORE_CS}/fr-core-cs-method-collection"
CS_VALIDATION_MODE = f"{FR_CORE_CS}/fr-core-cs-mode-validation-identity"
CS_IDENTIFIER_TYPE = f"{FR_CORE_CS}/fr-core-cs-v2-0203"
# Encounter.identifier.type (fr-core-vs-encounter-identifier-type): VN visit number.
CS_ENCOUNTER_IDENTIFIER_TYPE = f"{FR_CORE_CS}/fr-core-cs-identifier-type"
ENCOUNTER_IDENTIFIER_TYPE = "VN"
# Location.identifier.type (fr-core-cs-location-identifier-type): INTRN internal identifier.
CS_LOCATION_IDENTIFIER_TYPE = f"{FR_CORE_CS}/fr-core-cs-location-identifier-type"
LOCATION_IDENTIFIER_TYPE = "INTRN"
CS_INSEE_COMMUNE = "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM"

IDENTITY_STATUSES = frozenset({"PROV", "RECUP", "VALI", "QUAL"})
COLLECTION_METHODS = frozenset({"SM", "CV", "INSI", "CB", "RFID", "AV"})
# fr-core-cs-mode-validation-identity: the documents our domain accepts.
VALIDATION_MODES: Mapping[str, str] = {
    "passport": "PA",
    "national-id-card": "CN",
    "residence-permit": "CS",
}
# An identity from the appli carte Vitale: FR Core 2.2.0 has its own validation mode.
VALIDATION_MODE_APCV = "AV"
ALL_VALIDATION_MODES = frozenset({*VALIDATION_MODES.values(), VALIDATION_MODE_APCV})
# fr-core-vs-mode-validation-identity-ins (2.2.0): the modes the INS profile accepts.
INS_VALIDATION_MODES = frozenset({"PA", "CN", "AN", "LE"})

# INS identifier slices: OID -> (slice type code, identifier.use, test only?)
INS_SLICES: Mapping[str, tuple[str, str, bool]] = {
    "urn:oid:1.2.250.1.213.1.4.8": ("INS-NIR", "official", False),
    "urn:oid:1.2.250.1.213.1.4.9": ("INS-NIA", "temp", False),
    "urn:oid:1.2.250.1.213.1.4.10": ("INS-NIR-TEST", "official", True),
    "urn:oid:1.2.250.1.213.1.4.11": ("INS-NIR-DEMO", "official", True),
}

# A health professional's identifier (FR Core 2.2.0 practitioner identifier slices): the
# RPPS number under its own system, type RPPS; or IDNPS = "8" + RPPS under the OID of the
# national identifiers, type IDNPS. The kiosk sends the first (the RPPS as the doctor and
# the directory write it); the checks refuse a bare RPPS under the IDNPS OID.
SYSTEM_RPPS = "https://rpps.esante.gouv.fr"
RPPS_TYPE = "RPPS"
SYSTEM_IDNPS = "urn:oid:1.2.250.1.71.4.2.1"
IDNPS_TYPE = "IDNPS"
IDNPS_RPPS_PREFIX = "8"

# Observation
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
CS_OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
# LOINC code -> (display, UCUM unit or None for a panel)
LOINC_UNITS: Mapping[str, tuple[str, str | None]] = {
    "8310-5": ("Body temperature", "Cel"),
    "8867-4": ("Heart rate", "/min"),
    "2708-6": ("Oxygen saturation in Arterial blood", "%"),
    "59408-5": ("Oxygen saturation in Arterial blood by Pulse oximetry", "%"),
    "85354-9": ("Blood pressure panel with all children optional", None),
    "8480-6": ("Systolic blood pressure", "mm[Hg]"),
    "8462-4": ("Diastolic blood pressure", "mm[Hg]"),
    "8478-0": ("Mean blood pressure", "mm[Hg]"),
}
BP_PANEL = "85354-9"
BP_COMPONENTS = frozenset({"8480-6", "8462-4", "8478-0"})
UCUM_DISPLAY: Mapping[str, str] = {"Cel": "°C", "/min": "/min", "%": "%", "mm[Hg]": "mmHg"}
CS_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
# Domain flag -> interpretation code (high, low, critical high/low).
FLAG_INTERPRETATION: Mapping[str, str] = {
    "fever": "H",
    "hypothermia": "L",
    "spo2-low": "L",
    "spo2-very-low": "LL",
    "tachycardia": "H",
    "bradycardia": "L",
    "hypertension": "H",
    "hypertensive-crisis": "HH",
    "hypotension": "L",
}
INTERPRETATION_CODES = frozenset(FLAG_INTERPRETATION.values())
OBSERVATION_STATUSES = frozenset(
    {"registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error"}
)

# Consent (R4)
CS_CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_STATUSES = frozenset(
    {"draft", "proposed", "active", "rejected", "inactive", "entered-in-error"}
)
CONSENT_SCOPES = frozenset({"adr", "research", "patient-privacy", "treatment"})
CONSENT_CATEGORY_LOINC = "59284-0"  # Patient Consent
PROVISION_TYPES = frozenset({"deny", "permit"})

# Encounter / Location (R4)
CS_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CS_PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ENCOUNTER_STATUSES = frozenset(
    {
        "planned",
        "arrived",
        "triaged",
        "in-progress",
        "onleave",
        "finished",
        "cancelled",
        "entered-in-error",
        "unknown",
    }
)
ENCOUNTER_CLASS_VIRTUAL = "VR"
PARTICIPATION_TYPES = frozenset({"PPRF", "SPRF", "PART", "ATND", "CON"})
LOCATION_STATUSES = frozenset({"active", "suspended", "inactive"})
LOCATION_MODES = frozenset({"instance", "kind"})
ENCOUNTER_LOCATION_STATUSES = frozenset({"planned", "active", "reserved", "completed"})

# Provenance / Device
CS_PROVENANCE_AGENT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
PROVENANCE_AGENT_TYPES = frozenset(
    {
        "enterer",
        "performer",
        "author",
        "verifier",
        "legal",
        "attester",
        "informant",
        "custodian",
        "assembler",
        "composer",
    }
)
DEVICE_STATUSES = frozenset({"active", "inactive", "entered-in-error", "unknown"})
DEVICE_NAME_TYPES = frozenset(
    {
        "udi-label-name",
        "user-friendly-name",
        "patient-reported-name",
        "manufacturer-name",
        "model-name",
        "other",
    }
)

# AuditEvent (R4)
CS_DICOM = "http://dicom.nema.org/resources/ontology/DCM"
AUDIT_TYPE_APPLICATION_ACTIVITY = "110100"
CS_AUDIT_SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
AUDIT_ACTIONS = frozenset({"C", "R", "U", "D", "E"})
AUDIT_OUTCOMES = frozenset({"0", "4", "8", "12"})
CS_AUDIT_AGENT_ROLE = "http://terminology.hl7.org/CodeSystem/v3-RoleClass"

KNOWN_PROFILES = frozenset(
    {
        PROFILE_PATIENT,
        PROFILE_PATIENT_INS,
        PROFILE_CONSENT,
        PROFILE_ENCOUNTER,
        PROFILE_LOCATION,
        PROFILE_BODY_TEMPERATURE,
        PROFILE_HEART_RATE,
        PROFILE_SPO2,
        PROFILE_BP,
        PROFILE_VITAL_SIGNS,
    }
)

# DocumentReference (R4)
DOCUMENT_REFERENCE_STATUSES = frozenset({"current", "superseded", "entered-in-error"})
DOCUMENT_DOC_STATUSES = frozenset({"preliminary", "final", "amended", "entered-in-error"})

# How a session ended (the store's end reasons; the domain's EndReason plus the
# kiosk's own: `interrupted` at restart, `fault` after a software error).
END_REASONS = frozenset({"completed", "stopped", "abandoned", "emergency", "interrupted", "fault"})

# Why a consultation was cancelled or cut short (Encounter statusReason, kiosk codes with
# French displays: the platform's staff read them). Never a health datum: how the session
# went, not what the patient has.
INTERRUPTIONS: dict[str, str] = {
    "call-dropped": "Appel interrompu : la connexion avec le médecin a été perdue",
    "stopped": "Séance arrêtée par le patient",
    "abandoned": "Séance abandonnée (inactivité)",
    "emergency": "Sortie d'urgence (orientation vers le 15 / 112)",
    "interrupted": "Séance interrompue par un redémarrage de la borne",
    "fault": "Séance interrompue par une erreur logicielle de la borne",
    "platform-unreachable": "Plateforme injoignable",
    "cabin-media-failed": "Caméra, micro ou haut-parleur de la cabine en panne",
    "no-call": "Aucun médecin n'a pris l'appel",
}

# The orientation Observation: kiosk-defined codes, never LOINC.
ORIENTATION_CODE = "parcours-de-soins-orientation"
ORIENTATION_EXCEPTION_CODE = "orientation-exception"
TERRITORIALITY_WAIVER_CODE = "territoriality-waiver"
MEDECIN_TRAITANT_UNKNOWN_CODE = "medecin-traitant-unknown"
ORIENTATION_COMPONENT_CODES = frozenset(
    {ORIENTATION_EXCEPTION_CODE, TERRITORIALITY_WAIVER_CODE, MEDECIN_TRAITANT_UNKNOWN_CODE}
)
OBSERVATION_CATEGORY_SURVEY = "survey"
