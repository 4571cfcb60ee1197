"""The catalogue faults testers saw: a raw id on screen ("measure.q.mean"), a negative
question answered Oui/Non. Both are checked on every id, not on the sample screens."""

from __future__ import annotations

import re

from app.domain.measurements import Quantity
from app.ui.i18n import Catalogues
from app.ui.translations import catalogue_tool


def _namespaces(catalogues: Catalogues) -> set[str]:
    return {i.split(".", 1)[0] for i in catalogues.ids("fr")}


def test_ids_built_at_run_time_are_expanded_and_checked(catalogues: Catalogues) -> None:
    built, undeclared = catalogue_tool.dynamic_ids(_namespaces(catalogues))
    assert undeclared == []
    assert {f"measure.q.{q.value}" for q in Quantity} <= built  # the mean was the hole
    assert "identity.status.QUAL" in built or any(i.startswith("identity.status.") for i in built)
    for lang in ("fr", "en", "ar"):
        assert {i for i in built if not catalogues.has(lang, i)} == set(), lang


def test_an_undeclared_template_is_reported(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "screen.py").write_text(
        'def f(x):\n    return f"measure.widget.{x}"\n', encoding="utf-8"
    )
    assert catalogue_tool.ui_id_templates({"measure"}, tmp_path) == {
        "measure.widget.{}": "screen.py"
    }


# Questions answered Oui/Non: the domain's red flags and the orientation yes/no questions.
_YES_NO_IDS = re.compile(
    r"^(emergency\.q\.[^.]+(\.easy)?|orientation\.q\.(has_mt|referred|unavailable))$"
)
_NEGATIVE = {
    "fr": re.compile(r"\bne\s+\S+\s+pas\b|\bn'\S+\s+pas\b|\bne\s+\S+-(il|elle|vous|on)\s+pas\b"),
    "en": re.compile(r"\b\w+n't\b|\bunable\b|^(is|are|do|does|can|will)\s+\S+\s+not\b", re.I),
    "ar": re.compile(r"^(ألا|أليس|ألم)\s|يتعذر|لا يستطيع|لا يمكن"),
}


def test_no_yes_no_question_is_asked_in_the_negative(catalogues: Catalogues) -> None:
    bad = [
        f"{lang} {msgid}: {catalogues.text(lang, msgid)}"
        for lang, pattern in _NEGATIVE.items()
        for msgid in sorted(catalogues.ids(lang))
        if _YES_NO_IDS.match(msgid) and pattern.search(catalogues.text(lang, msgid))
    ]
    assert bad == []
    assert catalogues.text("fr", "orientation.q.unavailable") == (
        "Devez-vous attendre trop longtemps pour voir votre médecin traitant ?"
    )
