"""Catalogues: complete in every language; no word typed straight into a widget."""

from __future__ import annotations

import ast
from pathlib import Path

from app.ui.i18n import Catalogues, Msg, is_right_to_left, language_name
from app.ui.translations import catalogue_tool

UI_DIR = Path(__file__).resolve().parents[2] / "app" / "ui"
TEXT_SETTERS = {
    "setText",
    "setToolTip",
    "setPlaceholderText",
    "setWindowTitle",
    "setAccessibleName",
    "setAccessibleDescription",
    "QLabel",
    "QPushButton",
    "BigButton",
    "label",
}


def test_every_message_id_of_the_domain_and_the_ui_is_in_every_catalogue() -> None:
    assert catalogue_tool.missing() == {}


def test_the_catalogues_are_french_english_and_arabic_with_french_first(
    catalogues: Catalogues,
) -> None:
    assert catalogues.languages == ("fr", "ar", "en")
    assert catalogues.ids("fr") == catalogues.ids("en") == catalogues.ids("ar")


def test_the_domain_french_text_is_the_french_catalogue_text(catalogues: Catalogues) -> None:
    for msgid, french in catalogue_tool.domain_messages().items():
        assert catalogues.text("fr", msgid) == french, msgid


def test_lookup_formats_parameters_and_falls_back_to_french_then_default() -> None:
    catalogues = Catalogues()  # its own: this test records a missing id on purpose
    assert catalogues.text("en", "common.step", index=2, total=8) == "Step 2 of 8"
    assert catalogues.text("ar", "common.step", index=2, total=8) == "الخطوة 2 من 8"
    assert catalogues.text("de", "bar.stop") == "Arrêter"
    assert catalogues.text("en", Msg("no.such.id", "Texte par défaut")) == "Texte par défaut"
    assert ("en", "no.such.id") in catalogues.missing


def test_arabic_is_right_to_left_and_languages_are_named_in_themselves() -> None:
    assert is_right_to_left("ar") and not is_right_to_left("fr")
    assert [language_name(x) for x in ("fr", "en", "ar")] == ["Français", "English", "العربية"]


def _literal_text_calls() -> list[str]:
    found: list[str] = []
    for path in UI_DIR.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name not in TEXT_SETTERS:
                continue
            for arg in node.args[:1]:
                if (
                    isinstance(arg, ast.Constant)
                    and isinstance(arg.value, str)
                    and any(ch.isalpha() for ch in arg.value)
                ):
                    found.append(f"{path.name}:{node.lineno}: {arg.value!r}")
                if isinstance(arg, ast.JoinedStr) and any(
                    isinstance(v, ast.Constant) and any(c.isalpha() for c in str(v.value))
                    for v in arg.values
                ):
                    found.append(f"{path.name}:{node.lineno}: f-string with words")
    return found


def test_no_user_facing_literal_is_passed_to_a_widget() -> None:
    assert _literal_text_calls() == []
