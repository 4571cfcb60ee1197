from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.maintenance.errors import PasswordRule, WeakPassword
from app.maintenance.password_policy import check_password


@pytest.mark.parametrize(
    ("password", "rule", "sentence"),
    [
        (
            "Short-1a",
            PasswordRule.TOO_SHORT,
            "The password has 8 characters; it needs at least 12.",
        ),
        (
            "A1-" + "b" * 126,
            PasswordRule.TOO_LONG,
            "The password has 129 characters; at most 128 are accepted.",
        ),
        (
            "alllowercaseletters",
            PasswordRule.TOO_FEW_CLASSES,
            "The password mixes 1 kind(s) of character; it needs at least 3 of: "
            "lower case, upper case, digits, other signs.",
        ),
        (
            "lowercase12345",
            PasswordRule.TOO_FEW_CLASSES,
            "The password mixes 2 kind(s) of character; it needs at least 3 of: "
            "lower case, upper case, digits, other signs.",
        ),
        (
            "Ab1!Ab1!Ab1!",
            PasswordRule.REPETITIVE,
            "The password is one short pattern repeated; choose a less predictable one.",
        ),
        (
            "Aaaaaaa1111!",
            PasswordRule.REPETITIVE,
            "The password is one short pattern repeated; choose a less predictable one.",
        ),
        (
            "Marie.Dupont-2026",
            PasswordRule.CONTAINS_NAME,
            "The password contains the username or the person's name; choose another one.",
        ),
        (
            "Xx-DUPONT-99-yy",
            PasswordRule.CONTAINS_NAME,
            "The password contains the username or the person's name; choose another one.",
        ),
        (
            "Pharmacie2026!",
            PasswordRule.COMMON,
            "The password is one of the most used passwords; choose another one.",
        ),
    ],
)
def test_each_rule_refuses_with_its_sentence(
    password: str, rule: PasswordRule, sentence: str
) -> None:
    with pytest.raises(WeakPassword) as info:
        check_password(password, username="marie.dupont", display_name="Marie Dupont")
    assert info.value.rule is rule
    assert str(info.value) == sentence


@pytest.mark.parametrize(
    "password", ["Tilleul-Orange-42", "correct horse Battery", "Élan vital 2026", "9xK#mP2vQ!rT"]
)
def test_good_passwords_pass(password: str) -> None:
    check_password(password, username="marie.dupont", display_name="Marie Dupont")


def test_accented_name_is_found_without_accents() -> None:
    with pytest.raises(WeakPassword) as info:
        check_password("Helene-Muller-77", username="hm", display_name="Hélène Müller")
    assert info.value.rule is PasswordRule.CONTAINS_NAME


@given(st.text(max_size=200), st.text(max_size=40), st.text(max_size=80))
def test_never_raises_anything_but_weak_password(password: str, user: str, name: str) -> None:
    try:
        check_password(password, username=user, display_name=name)
    except WeakPassword as exc:
        assert exc.sentence.endswith(".")
