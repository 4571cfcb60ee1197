"""NIR parsing: every part, Corsica, overseas, provisional numbers; cross-checked with stdnum."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from stdnum.fr import nir as stdnum_nir

from app.domain.identity import InvalidNir, Nir, NirErrorReason, NirSex, nir_key, parse_nir


def with_key(first_13: str) -> str:
    return first_13 + nir_key(first_13)


def test_mainland_number_with_spaces() -> None:
    nir = parse_nir("2 95 10 99 126 111 93")
    assert nir.value == "295109912611193"
    assert (nir.sex, nir.birth_year, nir.birth_month) == (NirSex.FEMALE, "95", 10)
    assert (nir.department, nir.commune, nir.order, nir.key) == ("99", "126", "111", "93")
    assert nir.grouped() == "2 95 10 99 126 111 93"
    assert not nir.is_provisional


@pytest.mark.parametrize(
    ("text", "department"),
    [("253072B07300470", "2B"), ("253072A07300443", "2A"), ("2 53 07 2a 073 004 43", "2A")],
)
def test_corsica_key_reads_2a_as_19_and_2b_as_18(text: str, department: str) -> None:
    nir = parse_nir(text)
    assert nir.department == department
    assert nir.commune == "073"


def test_corsica_key_is_not_the_key_of_the_unreplaced_number() -> None:
    # The classic bug: computing the key of 2B as if the département were 20 (or not replaced).
    wrong = "2530720" + "07300" + "4" + nir_key("2530720073004")
    with pytest.raises(InvalidNir):
        parse_nir(wrong[:5] + "2B" + wrong[7:])
    assert nir_key("253072B073004") == f"{97 - 2530718073004 % 97:02d}"
    assert nir_key("253072A073004") == f"{97 - 2530719073004 % 97:02d}"


@pytest.mark.parametrize("department", ["971", "972", "973", "974", "976", "987", "988"])
def test_overseas_department_takes_three_digits_and_commune_two(department: str) -> None:
    nir = parse_nir(with_key(f"18503{department}12345"))
    assert nir.department == department
    assert nir.commune == "12"
    assert nir.order == "345"


@pytest.mark.parametrize("sex", ["7", "8"])
def test_provisional_numbers(sex: str) -> None:
    nir = parse_nir(with_key(f"{sex}850399123456"))
    assert nir.is_provisional
    assert nir.sex is (NirSex.MALE if sex == "7" else NirSex.FEMALE)


@pytest.mark.parametrize("month", ["01", "12", "20", "30", "42", "50", "63", "99"])
def test_months_of_complete_and_incomplete_civil_status(month: str) -> None:
    nir = parse_nir(with_key(f"185{month}75111001"))
    assert nir.birth_month == (int(month) if int(month) <= 12 else None)


def test_key_is_97_minus_the_remainder() -> None:
    assert nir_key("1850375111001") == f"{97 - 1850375111001 % 97:02d}"
    # a remainder of 0 gives key 97, never 00
    first = next(f"1850375{n:06d}" for n in range(10**6) if int(f"1850375{n:06d}") % 97 == 0)
    assert nir_key(first) == "97"


GOOD = with_key("1850375111001")


@pytest.mark.parametrize(
    ("text", "reason", "sentence"),
    [
        (
            GOOD[:-1],
            NirErrorReason.LENGTH,
            "The social security number must have 15 characters; this one has 14.",
        ),
        (
            "",
            NirErrorReason.LENGTH,
            "The social security number must have 15 characters; this one has 0.",
        ),
        (
            "3" + GOOD[1:],
            NirErrorReason.SEX,
            "The first digit of the social security number must be 1, 2, 7 or 8.",
        ),
        (
            "0" + GOOD[1:],
            NirErrorReason.SEX,
            "The first digit of the social security number must be 1, 2, 7 or 8.",
        ),
        (
            "1X" + GOOD[2:],
            NirErrorReason.YEAR,
            "The year of birth (characters 2 and 3) must be two digits.",
        ),
        *[
            (
                GOOD[:3] + month + GOOD[5:],
                NirErrorReason.MONTH,
                "The month of birth (characters 4 and 5) must be 01 to 12, 20 to 42 or 50 to 99.",
            )
            for month in ("00", "13", "19", "43", "49", "1A")
        ],
        *[
            (
                GOOD[:5] + dept + GOOD[7:],
                NirErrorReason.DEPARTMENT,
                "The département of birth (characters 6 and 7) must be 01 to 99, 2A or 2B.",
            )
            for dept in ("00", "2C", "A7", "1B")
        ],
        (
            GOOD[:5] + "97A" + GOOD[8:],
            NirErrorReason.DEPARTMENT,
            "The département of birth (characters 6 and 7) must be 01 to 99, 2A or 2B.",
        ),
        (
            GOOD[:7] + "1A1" + GOOD[10:],
            NirErrorReason.COMMUNE,
            "The commune of birth (characters 8 to 10) must be digits.",
        ),
        (
            GOOD[:5] + "9711A" + GOOD[10:],
            NirErrorReason.COMMUNE,
            "The commune of birth (characters 8 to 10) must be digits.",
        ),
        (
            GOOD[:10] + "000" + GOOD[13:],
            NirErrorReason.ORDER,
            "The order number (characters 11 to 13) must be 001 to 999.",
        ),
        (
            GOOD[:10] + "0A1" + GOOD[13:],
            NirErrorReason.ORDER,
            "The order number (characters 11 to 13) must be 001 to 999.",
        ),
        (
            GOOD[:13] + "4X",
            NirErrorReason.KEY_FORMAT,
            "The key (the last two characters) must be two digits.",
        ),
        (
            GOOD[:13] + f"{(int(GOOD[13:]) % 97) + 1:02d}",
            NirErrorReason.KEY_MISMATCH,
            "The key (the last two characters) does not match the rest of the number; "
            "one character is probably mistyped.",
        ),
    ],
)
def test_each_bad_part_is_named(text: str, reason: NirErrorReason, sentence: str) -> None:
    with pytest.raises(InvalidNir) as caught:
        parse_nir(text)
    assert caught.value.reason is reason
    assert str(caught.value) == sentence
    assert GOOD not in str(caught.value)


def test_a_single_mistyped_digit_is_caught_by_the_key() -> None:
    typo = GOOD[:8] + ("2" if GOOD[8] != "2" else "3") + GOOD[9:]
    with pytest.raises(InvalidNir) as caught:
        parse_nir(typo)
    assert caught.value.reason is NirErrorReason.KEY_MISMATCH


def test_non_ascii_digits_are_refused() -> None:
    with pytest.raises(InvalidNir) as caught:
        parse_nir("1" + "٨٥" + GOOD[3:])
    assert caught.value.reason is NirErrorReason.YEAR


def test_repr_and_str_hide_the_number() -> None:
    nir = parse_nir(GOOD)
    assert repr(nir) == "Nir(<hidden>)"
    assert f"{nir}" == "Nir(<hidden>)"
    assert GOOD not in repr([nir])


def test_direct_construction_normalises_and_validates() -> None:
    assert Nir(" ".join(GOOD)).value == GOOD
    assert Nir(GOOD) == parse_nir(GOOD)
    with pytest.raises(InvalidNir):
        Nir("1" * 15)


# --- properties ------------------------------------------------------------------------


@st.composite
def valid_nirs(draw: st.DrawFn) -> str:
    sex = draw(st.sampled_from("1278"))
    year = f"{draw(st.integers(0, 99)):02d}"
    month = f"{draw(st.sampled_from([*range(1, 13), *range(20, 43), *range(50, 100)])):02d}"
    place = draw(
        st.one_of(
            st.integers(1, 99).map(lambda d: f"{d:02d}" + f"{draw(st.integers(0, 999)):03d}"),
            st.sampled_from(["2A", "2B"]).map(lambda d: d + f"{draw(st.integers(0, 999)):03d}"),
            st.sampled_from(["97", "98"]).map(lambda d: d + f"{draw(st.integers(0, 999)):03d}"),
        )
    )
    order = f"{draw(st.integers(1, 999)):03d}"
    return with_key(sex + year + month + place + order)


@given(valid_nirs())
def test_valid_numbers_parse_and_stdnum_agrees(text: str) -> None:
    nir = parse_nir(text)
    assert nir.value == text
    assert stdnum_nir.is_valid(text)
    assert parse_nir(nir.grouped()) == nir


@given(st.text(max_size=40))
@example("2A" * 8)
@example("ß" * 15)
def test_never_raises_anything_but_invalid_nir(text: str) -> None:
    try:
        parse_nir(text)
    except InvalidNir as exc:
        assert isinstance(exc.reason, NirErrorReason)


def _structure_ok(compact: str) -> bool:
    """The rules we check and stdnum does not (sex, month, département 00, order 000)."""
    month = compact[3:5]
    return (
        compact[0] in "1278"
        and month.isdigit()
        and (1 <= int(month) <= 12 or 20 <= int(month) <= 42 or int(month) >= 50)
        and compact[5:7] != "00"
        and compact[10:13] != "000"
    )


@given(st.one_of(valid_nirs(), st.text(alphabet="0123456789AB ", min_size=13, max_size=17)))
def test_agrees_with_stdnum_on_validity(text: str) -> None:
    try:
        parse_nir(text)
        ours = True
    except InvalidNir:
        ours = False
    theirs = stdnum_nir.is_valid(text)
    if ours:
        assert theirs
    compact = "".join(text.split())
    if theirs and _structure_ok(compact):
        assert ours


@given(valid_nirs(), st.integers(0, 14), st.sampled_from("0123456789"))
def test_any_single_digit_change_is_refused(text: str, position: int, digit: str) -> None:
    if text[position] == digit or not text[position].isdigit():
        return
    changed = text[:position] + digit + text[position + 1 :]
    with pytest.raises(InvalidNir):
        parse_nir(changed)
