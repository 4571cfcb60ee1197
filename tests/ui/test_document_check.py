"""The professional checks the patient's identity document from "Is this you?" (real controller,
store, accounts, binding and window; every step a tap)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.domain.identity import IdentityDocument, IdentityStatus, PatientIdentity
from app.domain.trace import IncidentCode
from app.maintenance import totp
from app.maintenance.errors import AuthError, AuthFailure
from app.maintenance.roles import Role
from app.maintenance.service import Enrolment
from app.ui.main_window import KioskWindow
from app.ui.screens.professional_login import ProfessionalLoginScreen
from app.ui.views import ScreenId
from app.ui.widgets.buttons import BigButton
from tests.controller.conftest import PASSWORD, Kiosk
from tests.maintenance.conftest import audit_rows
from tests.ui.checks import of_type
from tests.ui.test_way_through import Driver


@pytest.fixture
async def way(kiosk: Kiosk, window: KioskWindow, qtbot: QtBot) -> Driver:
    return Driver(kiosk, window, qtbot)


def _identity(way: Driver) -> PatientIdentity:
    """The patient's identity, which the card has set by now."""
    identity = way.k.view.context.identity
    assert identity is not None
    return identity


async def _sign_in(way: Driver, username: str, role: Role, code: str | None = None) -> Enrolment:
    enrolment = await way.k.accounts.create_account(
        username, "Sophie Bernard", role, PASSWORD, actor="cli:test"
    )
    screen = way.window.current_screen
    assert way.screen() is ScreenId.PROFESSIONAL_LOGIN
    assert isinstance(screen, ProfessionalLoginScreen)
    screen.username.setText(username)
    screen.password.setText(PASSWORD)
    screen.code.setText(code or totp.code_at(enrolment.totp_secret, way.k.clock.now()))
    await way.tap("submit")
    return enrolment


async def test_an_assistant_checks_a_passport_and_the_status_shown_updates(way: Driver) -> None:
    await way.to_identification("fr")
    await way.insert_card()
    assert way.screen() is ScreenId.CONFIRM_IDENTITY
    assert way.label("identity-status") == (
        "Identité provisoire : pas encore vérifiée sur une pièce d'identité."
    )
    await way.tap("check-document")
    assert way.screen() is ScreenId.PROFESSIONAL_LOGIN
    await _sign_in(way, "sophie.bernard", Role.ASSISTANT)
    assert way.screen() is ScreenId.DOCUMENT_CHECK
    assert way.label("professional") == "Saisie par : Sophie Bernard"
    assert way.label("patient-name") == "Paul MARTIN"

    await way.tap("confirm-document")  # nothing chosen: said plainly, nothing recorded
    assert way.label("document-error") == "Choisissez la pièce d'identité que vous avez vérifiée."
    assert _identity(way).status is IdentityStatus.PROV

    await way.tap("document-passport")
    await way.tap("confirm-document")
    assert way.screen() is ScreenId.CONFIRM_IDENTITY
    assert way.label("identity-status") == "Identité vérifiée sur une pièce d'identité."
    QApplication.processEvents()
    offered = [b for b in way.window.findChildren(BigButton, "check-document") if b.isVisible()]
    assert offered == []  # VALI: nothing left to check
    identity = _identity(way)
    assert (identity.status, identity.verification_document, identity.verified_by) == (
        IdentityStatus.VALI,
        IdentityDocument.PASSPORT,
        "sophie.bernard",
    )
    rows = [r[:4] for r in await audit_rows(way.k.store)]
    session_id = way.k.view.context.session_id
    assert ("sophie.bernard", "assisted.document-check", "ok", session_id) in rows
    await way.tap("yes")
    assert way.screen() is ScreenId.CONSENT


async def test_a_technician_cannot_check_a_document(way: Driver) -> None:
    await way.to_identification("en")
    await way.insert_card()
    await way.tap("check-document")
    await _sign_in(way, "remi.tech", Role.TECHNICIAN)
    assert way.screen() is ScreenId.PROFESSIONAL_LOGIN
    assert way.label("login-error") == way.window.t("login.failed")
    await way.tap("cancel")
    assert way.screen() is ScreenId.CONFIRM_IDENTITY
    assert _identity(way).status is IdentityStatus.PROV


async def test_a_wrong_code_and_a_locked_account_show_the_same_sentence(
    kiosk: Kiosk, way: Driver
) -> None:
    """docs/accounts.md: one sentence for every refusal, so an onlooker learns nothing."""
    await way.to_identification("fr")
    await way.insert_card()
    await way.tap("check-document")
    enrolment = await _sign_in(way, "sophie.bernard", Role.ASSISTANT, code="000000")
    wrong = way.label("login-error")
    assert wrong == way.window.t("login.failed")
    for _ in range(6):  # beyond the lockout threshold: the account is now locked
        screen = of_type(way.window.current_screen, ProfessionalLoginScreen)
        screen.username.setText("sophie.bernard")
        screen.password.setText("not-the-password")
        screen.code.setText("000000")
        await way.tap("submit")
    with pytest.raises(AuthError) as refused:  # even the right factors are refused now
        await kiosk.accounts.authenticate(
            "sophie.bernard", PASSWORD, totp.code_at(enrolment.totp_secret, kiosk.clock.now())
        )
    assert refused.value.reason is AuthFailure.LOCKED
    assert way.label("login-error") == wrong


async def test_what_insi_said_is_shown_to_the_professional_checking_the_document(
    way: Driver,
) -> None:
    """The controller's `insi_outcome` (traced as an incident) becomes a plain sentence."""
    from dataclasses import replace

    from app.controller.view import AssistantView
    from app.ui.views import DocumentCheckView

    await way.to_identification("fr")
    await way.insert_card()
    await way.tap("check-document")
    sv = replace(
        way.k.view,
        assistant=AssistantView("sophie.bernard", "Sophie Bernard", "assistant"),
        insi_outcome=IncidentCode.INSI_MISMATCH,
    )
    view = way.presenter.view_for(sv)
    assert isinstance(view, DocumentCheckView)
    way.window.present(view, way.presenter.presentation(sv))
    QApplication.processEvents()
    assert way.label("insi-note") == (
        "Le service national INSi connaît ce numéro avec d'autres traits d'identité. "
        "Vérifiez la pièce d'identité avec soin."
    )
    plain = way.presenter.view_for(replace(sv, insi_outcome=None))
    assert isinstance(plain, DocumentCheckView) and plain.insi_note is None
