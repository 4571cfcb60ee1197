"""Acts an assisting professional does on the patient's session, under their own account.

Why a sign-in per act: the pharmacist or nurse next to the patient signs in
(password + authenticator code) when the patient needs them, then enters
what is needed (a value the device could not take, an identity for a
patient without a card, the check of an identity document). The sign-in
ends after that one act is recorded, after `assistant_idle_s` without a
touch (the view's `assistant.expires_at`), when they sign out, or with the
session (the wipe): whoever stays at the screen cannot enter "professional"
values under their name, and the next patient never inherits it. The
sign-in and its end are in the act's trace (actor: the account) and audit. Every act, done or refused, is an audit
row naming the professional; the measurement or identity itself carries
their account id into the trace (CSP R.6316-4).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from app.controller.view import AssistAct
from app.domain import session_events as ev
from app.domain.identity import (
    CollectionMethod,
    IdentityDocument,
    IdentityStatus,
    InsTraits,
    InvalidIdentity,
    InvalidNir,
    PatientIdentity,
    parse_nir,
    qualify_with_document,
)
from app.domain.measurements import (
    KIND_SPECS,
    ImplausibleMeasurement,
    ManualSource,
    MeasurementKind,
    Quantity,
    make_measurement,
)
from app.maintenance.accounts import Professional
from app.maintenance.errors import AuthError, PermissionDenied
from app.maintenance.roles import Permission
from app.maintenance.service import AccountService

if TYPE_CHECKING:
    from app.controller.controller import SessionController


class AssistTask(enum.StrEnum):
    """What a professional signs in for, beside the patient (the screen's sub-task)."""

    MANUAL_MEASURE = "manual-measure"  # type a value a device could not measure
    MANUAL_IDENTITY = "manual-identity"  # type the identity of a patient without a card
    DOCUMENT_CHECK = "document-check"  # check an identity document (PROV -> VALI, RECUP -> QUAL)

    @property
    def permission(self) -> Permission:
        """The role's permission the sign-in asks for."""
        if self is AssistTask.MANUAL_MEASURE:
            return Permission.MANUAL_MEASUREMENT
        return Permission.MANUAL_IDENTIFICATION


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str = field(repr=False)
    code: str = field(repr=False)


class AssistOutcome(enum.StrEnum):
    SIGNED_IN = "signed-in"
    RECORDED = "recorded"
    REFUSED = "refused"  # the sign-in failed (the message says nothing of which factor)
    NOT_ALLOWED = "not-allowed"  # the role does not allow this act
    NOT_SIGNED_IN = "not-signed-in"
    INVALID_VALUE = "invalid-value"  # implausible value, bad NIR…: the sentence says which
    NOT_NOW = "not-now"  # the session is not at a step where this act fits


@dataclass(frozen=True, slots=True)
class AssistResult:
    outcome: AssistOutcome
    message: str = ""  # for the professional's screen; never names a health value

    @property
    def ok(self) -> bool:
        return self.outcome in (AssistOutcome.SIGNED_IN, AssistOutcome.RECORDED)


NOT_ALLOWED_MESSAGE = "Your account does not allow this act. Ask an assisting pharmacist or nurse."
NOT_SIGNED_IN_MESSAGE = "Sign in with your professional account first."


def split_by_kind(
    kind: MeasurementKind, values: Mapping[Quantity, Decimal]
) -> list[tuple[MeasurementKind, dict[Quantity, Decimal]]]:
    """The values of one form as measurements: `kind`'s own, then each other quantity as the
    kind that is exactly that quantity (the pulse typed with the SpO2 is a heart rate).

    A quantity no kind owns stays with `kind`, which then refuses it (unexpected value).
    """
    spec = KIND_SPECS[kind]
    own = {q: v for q, v in values.items() if q in spec.required | spec.optional}
    parts: list[tuple[MeasurementKind, dict[Quantity, Decimal]]] = [(kind, own)]
    for quantity, value in values.items():
        if quantity in own:
            continue
        other = next(
            (k for k, s in KIND_SPECS.items() if s.required == frozenset({quantity})), None
        )
        parts.append((other, {quantity: value}) if other is not None else (kind, {quantity: value}))
    return parts


class AssistedActs:
    """The professional's acts; each result is also told to the screen (`SessionView.assist_news`)."""

    def __init__(self, controller: SessionController, accounts: AccountService) -> None:
        self._controller = controller
        self._accounts = accounts

    async def sign_in(
        self, credentials: Credentials, permission: Permission = Permission.MANUAL_MEASUREMENT
    ) -> AssistResult:
        result = await self._sign_in(credentials, permission)
        self._controller.note_assist(AssistAct.SIGN_IN, result.ok)
        return result

    async def enter_measurement(
        self, kind: MeasurementKind, values: Mapping[Quantity, Decimal]
    ) -> AssistResult:
        result = await self._enter_measurement(kind, values)
        self._controller.note_assist(AssistAct.MEASUREMENT, result.ok)
        return result

    async def enter_identity(
        self, traits: InsTraits, nir: str | None, document: IdentityDocument | None = None
    ) -> AssistResult:
        result = await self._enter_identity(traits, nir, document)
        self._controller.note_assist(AssistAct.IDENTITY, result.ok)
        return result

    async def check_document(self, document: IdentityDocument) -> AssistResult:
        result = await self._check_document(document)
        self._controller.note_assist(AssistAct.DOCUMENT_CHECK, result.ok)
        return result

    async def _sign_in(
        self, credentials: Credentials, permission: Permission = Permission.MANUAL_MEASUREMENT
    ) -> AssistResult:
        try:
            professional = await self._accounts.authenticate(
                credentials.username, credentials.password, credentials.code, permission=permission
            )
        except AuthError as exc:
            return AssistResult(AssistOutcome.REFUSED, exc.person_message)
        except PermissionDenied:
            return AssistResult(AssistOutcome.NOT_ALLOWED, NOT_ALLOWED_MESSAGE)
        await self._controller.begin_assistance(professional, permission.value)
        return AssistResult(AssistOutcome.SIGNED_IN, f"Signed in: {professional.display_name}.")

    async def sign_out(self) -> None:
        """The professional leaves before the act: the sign-in ends (traced)."""
        await self._controller.end_assistance("signed-out")

    async def note_sign_out(self, professional: Professional, reason: str) -> None:
        """The audit row of a sign-in's end (called by the controller)."""
        await self._accounts.record_act(
            professional, "assisted.sign-out", "ok", self._session_subject(), f"reason={reason}"
        )

    async def _done(self) -> None:
        """One act recorded: the sign-in it was for ends."""
        await self._controller.end_assistance("act-done")

    async def _allowed(self, permission: Permission) -> AssistResult | None:
        if self._controller.assistant_expired():
            await self._controller.end_assistance("idle")
        professional = self._controller.assistant
        if professional is None:
            return AssistResult(AssistOutcome.NOT_SIGNED_IN, NOT_SIGNED_IN_MESSAGE)
        try:
            await self._accounts.authorise(professional, permission)
        except PermissionDenied:
            return AssistResult(AssistOutcome.NOT_ALLOWED, NOT_ALLOWED_MESSAGE)
        return None

    def _session_subject(self) -> str:
        return self._controller.view.context.session_id or "-"

    async def _enter_measurement(
        self, kind: MeasurementKind, values: Mapping[Quantity, Decimal]
    ) -> AssistResult:
        refusal = await self._allowed(Permission.MANUAL_MEASUREMENT)
        if refusal is not None:
            return refusal
        professional = self._controller.assistant
        assert professional is not None
        action = "assisted.manual-measurement"
        now = self._controller.now()
        try:
            # The oximeter's form gives SpO2 and the pulse: two measurements, as a device
            # reading gives them; all are checked before any is recorded.
            measurements = [
                make_measurement(
                    self._controller.new_id(),
                    part,
                    part_values,
                    ManualSource(professional.username),
                    now,
                )
                for part, part_values in split_by_kind(kind, values)
            ]
        except ImplausibleMeasurement as exc:
            await self._accounts.record_act(
                professional,
                action,
                "refused",
                self._session_subject(),
                f"kind={kind},reason={exc.reason}",
            )
            return AssistResult(AssistOutcome.INVALID_VALUE, exc.sentence)
        for measurement in measurements:
            submitted = await self._controller.feed(
                ev.MeasurementTaken(now, measurement=measurement)
            )
            if not submitted.accepted:
                await self._accounts.record_act(
                    professional,
                    action,
                    "refused",
                    self._session_subject(),
                    f"kind={measurement.kind},reason=not-now",
                )
                return AssistResult(AssistOutcome.NOT_NOW, submitted.reason)
        measurement = measurements[0]
        await self._accounts.record_act(
            professional,
            action,
            "ok",
            measurement.id,
            f"session={self._session_subject()},kind={kind}",
        )
        await self._done()
        return AssistResult(AssistOutcome.RECORDED)

    async def _enter_identity(
        self,
        traits: InsTraits,
        nir: str | None,
        document: IdentityDocument | None = None,
    ) -> AssistResult:
        """A patient without a card (or QR): the professional types the identity.

        With a high-trust document checked, the identity is VALI (validated)
        at once; without, it stays PROV. INSi is asked by the flow either way.
        """
        refusal = await self._allowed(Permission.MANUAL_IDENTIFICATION)
        if refusal is not None:
            return refusal
        professional = self._controller.assistant
        assert professional is not None
        action = "assisted.manual-identification"
        now = self._controller.now()
        try:
            identifier = parse_nir(nir) if nir else None
        except InvalidNir as exc:
            await self._accounts.record_act(
                professional, action, "refused", self._session_subject(), f"reason=nir-{exc.reason}"
            )
            return AssistResult(AssistOutcome.INVALID_VALUE, exc.sentence)
        identity = PatientIdentity(
            traits=traits,
            status=IdentityStatus.PROV,
            method=CollectionMethod.SM,
            identifier=identifier,
        )
        if document is not None:
            identity = qualify_with_document(identity, document, professional.username, now.date())
        submitted = await self._controller.feed(
            ev.IdentityObtained(
                now,
                candidates=(identity,),
                source=ev.IdentitySource.MANUAL,
                entered_by=professional.username,
            )
        )
        if not submitted.accepted:
            await self._accounts.record_act(
                professional, action, "refused", self._session_subject(), "reason=not-now"
            )
            return AssistResult(AssistOutcome.NOT_NOW, submitted.reason)
        detail = f"status={identity.status}" + (f",document={document}" if document else "")
        await self._accounts.record_act(professional, action, "ok", self._session_subject(), detail)
        await self._done()
        return AssistResult(AssistOutcome.RECORDED)

    async def _check_document(self, document: IdentityDocument) -> AssistResult:
        """The professional checked the patient's identity document: PROV → VALI, RECUP → QUAL."""
        refusal = await self._allowed(Permission.MANUAL_IDENTIFICATION)
        if refusal is not None:
            return refusal
        professional = self._controller.assistant
        assert professional is not None
        action = "assisted.document-check"
        identity = self._controller.view.context.identity
        if identity is None:
            return AssistResult(AssistOutcome.NOT_NOW, "No identity has been chosen yet.")
        now = self._controller.now()
        try:
            checked = qualify_with_document(identity, document, professional.username, now.date())
        except InvalidIdentity as exc:
            return AssistResult(AssistOutcome.INVALID_VALUE, exc.sentence)
        submitted = await self._controller.feed(ev.IdentityUpdated(now, identity=checked))
        if not submitted.accepted:
            return AssistResult(AssistOutcome.NOT_NOW, submitted.reason)
        await self._accounts.record_act(
            professional,
            action,
            "ok",
            self._session_subject(),
            f"status={checked.status},document={document}",
        )
        await self._done()
        return AssistResult(AssistOutcome.RECORDED)
