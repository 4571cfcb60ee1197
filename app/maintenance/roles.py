"""Roles and what each may do: the CNIL's differentiated authorisations, as a table.

Why a closed table rather than per-account grants: a cabin has a handful of
professionals, and a reviewer must be able to read in one place who may see
health data. An assistant (pharmacist, nurse) helps the patient in front of
them, so they see that session and may identify the patient or enter a value
by hand. The on-site staff (the trained person of the pharmacy or town hall,
not always a health professional) prepares the cabin between patients and
answers the help call: no health datum, no maintenance. A technician keeps
the machine running and never sees health data. The list, with why, is in
docs/accounts.md.
"""

from __future__ import annotations

import enum
from types import MappingProxyType


class Role(enum.StrEnum):
    ASSISTANT = "assistant"  # pharmacist or nurse beside the patient
    ON_SITE_STAFF = "on-site-staff"  # prepares the cabin, answers the help call
    TECHNICIAN = "technician"


class Permission(enum.StrEnum):
    MANUAL_IDENTIFICATION = "manual-identification"
    MANUAL_MEASUREMENT = "manual-measurement"
    VIEW_SESSION_HEALTH_DATA = "view-session-health-data"
    MAINTAIN_DEVICES = "maintain-devices"  # test, pair, diagnose
    CHECK_NETWORK = "check-network"
    EXPORT_LOGS = "export-logs"  # technical logs only: they carry no health data
    INSPECT_STORE = "inspect-store"  # counts, ages, codes, integrity: never a record's content
    VIEW_CONFIGURATION = "view-configuration"  # secrets removed
    EDIT_CONFIGURATION = "edit-configuration"  # validated edits (a paired device's address)
    REQUEUE_OUTBOX = "requeue-outbox"  # send a quarantined session again (after correction)
    CONFIRM_PREPARATION = "confirm-preparation"  # the cabin is ready for the next patient
    ACKNOWLEDGE_HELP = "acknowledge-help"  # "I am coming" to a patient's help call


ROLE_PERMISSIONS: MappingProxyType[Role, frozenset[Permission]] = MappingProxyType(
    {
        Role.ASSISTANT: frozenset(
            {
                Permission.MANUAL_IDENTIFICATION,
                Permission.MANUAL_MEASUREMENT,
                Permission.VIEW_SESSION_HEALTH_DATA,
                Permission.CONFIRM_PREPARATION,
                Permission.ACKNOWLEDGE_HELP,
            }
        ),
        Role.ON_SITE_STAFF: frozenset(
            {
                Permission.CONFIRM_PREPARATION,
                Permission.ACKNOWLEDGE_HELP,
            }
        ),
        Role.TECHNICIAN: frozenset(
            {
                Permission.MAINTAIN_DEVICES,
                Permission.CHECK_NETWORK,
                Permission.EXPORT_LOGS,
                Permission.INSPECT_STORE,
                Permission.VIEW_CONFIGURATION,
                Permission.EDIT_CONFIGURATION,
                Permission.REQUEUE_OUTBOX,
            }
        ),
    }
)

HEALTH_DATA_PERMISSIONS = frozenset(
    {
        Permission.MANUAL_IDENTIFICATION,
        Permission.MANUAL_MEASUREMENT,
        Permission.VIEW_SESSION_HEALTH_DATA,
    }
)
"""Permissions that show or create health data; no technician or on-site staff holds one."""

MAINTENANCE_PERMISSIONS = frozenset(
    {
        Permission.MAINTAIN_DEVICES,
        Permission.CHECK_NETWORK,
        Permission.EXPORT_LOGS,
        Permission.INSPECT_STORE,
        Permission.VIEW_CONFIGURATION,
        Permission.EDIT_CONFIGURATION,
        Permission.REQUEUE_OUTBOX,
    }
)
"""The technician's permissions: the maintenance pages and `kiosk maintenance`."""


def permissions_of(role: Role) -> frozenset[Permission]:
    return ROLE_PERMISSIONS[role]


def allows(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
