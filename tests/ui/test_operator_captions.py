"""Every caption of the demo's operator panel, and every literal id in app/ui, is catalogued."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.ui.i18n import Catalogues, Msg
from app.ui.operator_panel import caption_ids
from app.ui.translations import catalogue_tool


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_each_operator_caption_is_in_the_catalogue(lang: str) -> None:
    catalogues = Catalogues()
    for msgid in caption_ids():
        catalogues.text(lang, Msg(msgid, "-"))
    assert {m for m in catalogues.missing if m[0] == lang} == set()
    assert (
        catalogues.text(lang, "operator.fail", device="oxi-1", fault="absent").count("oxi-1") == 1
    )


def test_the_catalogue_check_passes_and_catches_a_literal_id_it_does_not_know(
    tmp_path: Path,
) -> None:
    assert catalogue_tool.missing() == {}
    (tmp_path / "panel.py").write_text('CAPTION = "operator.brand_new"\nNOT_AN_ID = "app.ui"\n')
    found = catalogue_tool.ui_message_ids({"operator"}, tmp_path)
    assert found == {"operator.brand_new": "panel.py"}
