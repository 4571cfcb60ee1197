"""A patient without a card: a professional signs in and types the identity on the screen.

The real window, presenter, binding, controller, flow, SQLCipher store and
account service; every step is a tap or typing on the on-screen keyboard.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from app.domain.identity import CollectionMethod, IdentityDocument, IdentityStatus
from app.domain.nir import nir_key
from app.domain.trace import ActorKind, TraceKind
from app.maintenance import totp
from app.maintenance.roles import Role
from app.ui.main_window import KioskWindow
from app.ui.screens.manual_identity import ManualIdentityScreen
from app.ui.screens.professional_login import ProfessionalLoginScreen
from app.ui.views import ScreenId
from app.ui.widgets.buttons import BigButton
from tests.controller.conftest import PASSWORD, Kiosk
from tests.maintenance.conftest import audit_rows
from tests.ui.checks import of_type
from tests.ui.test_way_through import Driver

BODY = "2480375056123"
GOOD_NIR = BODY + nir_key(BODY)
BAD_KEY = BODY + f"{(int(nir_key(BODY)) % 97) + 1:02d}"


@pytest.fixture
async def way(kiosk: Kiosk, window: KioskWindow, qtbot: QtBot) -> Driver:
    return Driver(kiosk, window, qtbot)  # the real ControllerBinding carries EnterIdentity


async def _sign_in(way: Driver, username: str, role: Role = Role.ASSISTANT) -> None:
    enrolment = await way.k.accounts.create_account(
        username, "Sophie Bernard", role, PASSWORD, actor="cli:test"
    )
    screen = way.window.current_screen
    assert way.screen() is ScreenId.PROFESSIONAL_LOGIN
    assert isinstance(screen, ProfessionalLoginScreen)
    screen.username.setText(username)
    screen.password.setText(PASSWORD)
    screen.code.setText(totp.code_at(enrolment.totp_secret, way.k.clock.now()))
    await way.tap("submit")


def _field(way: Driver, name: str) -> QLineEdit:
    found = way.window.current_screen.findChild(QLineEdit, f"field-{name}")
    assert found is not None, name
    return found


def _error(way: Driver, name: str) -> str | None:
    found = way.window.current_screen.findChild(QLabel, f"error-{name}")
    return None if found is None else found.text()


async def _type(way: Driver, field: str, keys: str) -> None:
    """Touch the field, then the keys of the on-screen keyboard, one by one."""
    way.qtbot.mouseClick(_field(way, field), Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: QtBot.mouseClick is unannotated
    keyboard = way.window.current_screen.findChild(QWidget, "identity-keyboard")
    assert keyboard is not None
    for key in keys:
        found = [b for b in keyboard.findChildren(BigButton) if b.text() == key]
        assert len(found) == 1, key
        way.qtbot.mouseClick(found[0], Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]  # pytest-qt: QtBot.mouseClick is unannotated


async def test_the_whole_manual_identification_with_a_checked_passport(way: Driver) -> None:
    await way.to_identification("fr")
    await way.tap("method-professional")
    await _sign_in(way, "sophie.bernard")
    assert way.screen() is ScreenId.MANUAL_IDENTITY
    assert way.label("professional") == "Saisie par : Sophie Bernard"

    await _type(way, "birth-name", "lefevre")  # typed on the on-screen keyboard
    assert _field(way, "birth-name").text() == "lefevre"
    _field(way, "birth-first-names").setText("Jeanne Marie")
    _field(way, "birth-date").setText("12 03 1948")
    _field(way, "birth-place").setText("2a004")
    _field(way, "nir").setText(BAD_KEY)
    await way.tap("sex-female")
    await way.tap("save-identity")

    # Nothing reached the controller; each refused field says why beside it; typed values stay.
    assert way.screen() is ScreenId.MANUAL_IDENTITY
    assert way.k.view.context.identity is None
    assert _error(way, "nir") == (
        "La clé (les 2 derniers caractères) ne correspond pas au reste du numéro : "
        "un caractère est sans doute mal tapé."
    )
    assert _error(way, "document") == (
        "Dites quelle pièce d'identité vous avez vérifiée, ou « Aucune pièce vérifiée »."
    )
    assert _error(way, "birth-name") is None and _error(way, "birth-place") is None
    assert _field(way, "birth-first-names").text() == "Jeanne Marie"
    assert of_type(way.window.current_screen, ManualIdentityScreen).sex["female"].isChecked()

    _field(way, "nir").setText(GOOD_NIR)
    await way.tap("document-passport")
    await way.tap("save-identity")

    assert way.screen() is ScreenId.CONFIRM_IDENTITY  # "Is this you?", as for a card
    assert way.label("patient-name") == "JEANNE LEFEVRE"
    assert way.label("patient-birth").endswith("12/03/1948")
    identity = way.k.context().identity  # read anew: mypy still holds the `is None` above
    assert identity is not None
    assert (identity.status, identity.method) == (IdentityStatus.VALI, CollectionMethod.SM)
    assert identity.verification_document is IdentityDocument.PASSPORT
    assert identity.verified_by == "sophie.bernard"
    assert identity.traits.birth_place_insee == "2A004"
    assert identity.identifier is not None and identity.identifier.value == GOOD_NIR

    session_id = way.k.view.context.session_id
    await way.tap("yes")
    assert way.screen() is ScreenId.CONSENT
    assert session_id is not None
    record = await way.k.store.session_bundle_source(session_id)
    [entry] = [t for t in record.trace if t.kind is TraceKind.IDENTIFICATION]
    assert (entry.actor.kind, entry.actor.id, entry.subject) == (
        ActorKind.ASSISTANT,
        "sophie.bernard",
        "manual",
    )
    rows = [r[:4] for r in await audit_rows(way.k.store)]
    assert (
        "sophie.bernard",
        "assisted.manual-identification",
        "ok",
        session_id,
    ) in rows


async def test_without_a_document_the_identity_stays_provisional(way: Driver) -> None:
    await way.to_identification("en")
    await way.tap("method-professional")
    await _sign_in(way, "paul.martin")
    _field(way, "birth-name").setText("Martin")
    _field(way, "birth-first-names").setText("Paul")
    _field(way, "birth-date").setText("17/05/1984")
    _field(way, "nir").setText("18405")
    await way.tap("sex-male")
    await way.tap("document-none")
    await way.tap("save-identity")
    assert _error(way, "nir") == "The number must have 15 characters; this one has 5."
    _field(way, "nir").setText("")
    await way.tap("save-identity")
    assert way.screen() is ScreenId.CONFIRM_IDENTITY
    identity = way.k.context().identity  # read anew: mypy still holds the `is None` above
    assert identity is not None
    assert (identity.status, identity.method, identity.identifier) == (
        IdentityStatus.PROV,
        CollectionMethod.SM,
        None,
    )


async def test_a_technician_is_refused_before_the_form(way: Driver) -> None:
    await way.to_identification("fr")
    await way.tap("method-professional")
    await _sign_in(way, "remi.tech", Role.TECHNICIAN)
    assert way.screen() is ScreenId.PROFESSIONAL_LOGIN
    assert way.label("login-error") == way.window.t("login.failed")
    QApplication.processEvents()
    rows = [r[:3] for r in await audit_rows(way.k.store)]
    assert ("remi.tech", "authorise", "refused") in rows
