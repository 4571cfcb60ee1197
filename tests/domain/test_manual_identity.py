"""The identity a professional types: every field checked at once, each with its reason."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.identity import IdentityDocument, Sex
from app.domain.manual_identity import (
    FieldProblem,
    IdentityField,
    InvalidManualIdentity,
    ManualIdentityForm,
    normalise_name,
    parse_insee_commune,
    parse_manual_identity,
)
from app.domain.nir import NirErrorReason, nir_key

TODAY = date(2026, 11, 23)
BODY = "2480375056123"
NIR = BODY + nir_key(BODY)


def form(**changes: str) -> ManualIdentityForm:
    base = {
        "birth_name": "Lefèvre",
        "birth_first_names": "Jeanne  Marie-Claire",
        "first_name_used": "",
        "birth_date": "12/03/1948",
        "sex": "female",
        "birth_place": "2a004",
        "nir": NIR,
        "document": "national-id-card",
    }
    base.update(changes)
    return ManualIdentityForm(**base)


def problems(f: ManualIdentityForm) -> dict[IdentityField, FieldProblem]:
    with pytest.raises(InvalidManualIdentity) as caught:
        parse_manual_identity(f, TODAY)
    return caught.value.problems


def test_a_good_form_gives_capital_traits_without_diacritics() -> None:
    typed = parse_manual_identity(form(), TODAY)
    t = typed.traits
    assert (t.birth_name, t.birth_first_names) == ("LEFEVRE", ("JEANNE", "MARIE-CLAIRE"))
    assert (t.birth_date, t.sex, t.birth_place_insee) == (date(1948, 3, 12), Sex.FEMALE, "2A004")
    assert t.first_name_used is None
    assert typed.nir is not None and typed.nir.value == NIR
    assert typed.document is IdentityDocument.NATIONAL_ID_CARD


def test_every_wrong_field_is_reported_at_once_without_the_values() -> None:
    with pytest.raises(InvalidManualIdentity) as caught:
        parse_manual_identity(
            form(
                birth_name="",
                birth_first_names="Jeanne2",
                birth_date="31/02/1948",
                sex="",
                birth_place="2C004",
                nir=BODY,
                document="",
            ),
            TODAY,
        )
    assert caught.value.problems == {
        IdentityField.BIRTH_NAME: FieldProblem.MISSING,
        IdentityField.BIRTH_FIRST_NAMES: FieldProblem.CHARACTERS,
        IdentityField.BIRTH_DATE: FieldProblem.DATE_IMPOSSIBLE,
        IdentityField.SEX: FieldProblem.MISSING,
        IdentityField.BIRTH_PLACE: FieldProblem.INSEE_FORMAT,
        IdentityField.NIR: FieldProblem.NIR_INVALID,
        IdentityField.DOCUMENT: FieldProblem.MISSING,
    }
    assert caught.value.nir_reason is NirErrorReason.LENGTH
    assert caught.value.nir_length == 13
    assert "Jeanne" not in caught.value.sentence and BODY not in caught.value.sentence


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("12-03-1948", None),
        ("12.3.1948", None),
        ("12031948", None),
        ("1948-03-12", FieldProblem.DATE_FORMAT),
        ("12/03/48", FieldProblem.DATE_FORMAT),
        ("24/11/2026", FieldProblem.DATE_FUTURE),
        ("01/01/1890", FieldProblem.DATE_TOO_OLD),
        ("12/13/1948", FieldProblem.DATE_IMPOSSIBLE),
    ],
)
def test_birth_dates_are_day_month_year(typed: str, problem: FieldProblem | None) -> None:
    f = form(birth_date=typed, nir="")
    if problem is None:
        assert parse_manual_identity(f, TODAY).traits.birth_date.year in (1948,)
    else:
        assert problems(f) == {IdentityField.BIRTH_DATE: problem}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("75056", "75056"),
        ("2A004", "2A004"),
        ("2b 033", "2B033"),
        ("97411", "97411"),
        ("98735", "98735"),
        ("99134", "99134"),
        ("", None),
    ],
)
def test_insee_codes_of_the_place_of_birth(typed: str, expected: str | None) -> None:
    assert parse_insee_commune(typed) == expected


@pytest.mark.parametrize("typed", ["00123", "20004", "2C004", "96001", "7505", "750561", "7505A"])
def test_malformed_insee_codes_are_refused(typed: str) -> None:
    with pytest.raises(InvalidManualIdentity) as caught:
        parse_insee_commune(typed)
    assert caught.value.problems == {IdentityField.BIRTH_PLACE: FieldProblem.INSEE_FORMAT}


def test_a_valid_nir_that_contradicts_the_traits_is_refused() -> None:
    assert problems(form(sex="male")) == {IdentityField.NIR: FieldProblem.NIR_MISMATCH}
    assert problems(form(birth_date="12/04/1948")) == {IdentityField.NIR: FieldProblem.NIR_MISMATCH}
    assert problems(form(birth_date="12/03/1949")) == {IdentityField.NIR: FieldProblem.NIR_MISMATCH}


def test_no_document_is_a_choice_and_an_unknown_one_is_refused() -> None:
    assert parse_manual_identity(form(document="none"), TODAY).document is None
    assert problems(form(document="library-card")) == {
        IdentityField.DOCUMENT: FieldProblem.UNKNOWN_CHOICE
    }


def test_names_are_normalised_as_the_ins_writes_them() -> None:
    assert normalise_name("  d’Aubigné   Lefèvre ") == "D'AUBIGNE LEFEVRE"
    assert problems(form(birth_name="O'--NEIL")) == {
        IdentityField.BIRTH_NAME: FieldProblem.CHARACTERS
    }
    assert problems(form(birth_name="A" * 101)) == {IdentityField.BIRTH_NAME: FieldProblem.TOO_LONG}


@given(
    st.text(max_size=30),
    st.text(max_size=30),
    st.text(max_size=14),
    st.text(max_size=8),
    st.text(max_size=20),
    st.text(max_size=20),
)
def test_any_typing_gives_traits_or_the_typed_error(
    name: str, first: str, born: str, place: str, nir: str, document: str
) -> None:
    f = form(
        birth_name=name,
        birth_first_names=first,
        birth_date=born,
        birth_place=place,
        nir=nir,
        document=document,
    )
    try:
        typed = parse_manual_identity(f, TODAY)
    except InvalidManualIdentity as exc:
        assert exc.problems
        assert all(isinstance(p, FieldProblem) for p in exc.problems.values())
    else:
        assert typed.traits.birth_name == normalise_name(name)
