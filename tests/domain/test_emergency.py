"""The emergency check: each red flag gives the right numbers."""

from __future__ import annotations

import pytest

from app.domain.emergency import (
    EXIT_MESSAGE,
    RED_FLAG_QUESTIONS,
    RedFlag,
    numbers_for,
)


def numbers(flags: set[RedFlag], deaf: bool = False) -> list[str]:
    return [n.number for n in numbers_for(flags, deaf)]


def test_one_question_per_flag() -> None:
    assert [f for f, _ in RED_FLAG_QUESTIONS] == list(RedFlag)
    assert all(
        m.id.startswith("emergency.q.") and m.fr.endswith("?") for _, m in RED_FLAG_QUESTIONS
    )
    assert len({m.id for _, m in RED_FLAG_QUESTIONS}) == len(RedFlag)


@pytest.mark.parametrize("flag", [f for f in RedFlag if f is not RedFlag.SUICIDAL_THOUGHTS])
def test_medical_red_flags_call_15_then_112(flag: RedFlag) -> None:
    assert numbers({flag}) == ["15", "112"]


def test_suicidal_thoughts_give_3114_then_15() -> None:
    assert numbers({RedFlag.SUICIDAL_THOUGHTS}) == ["3114", "15", "112"]
    assert numbers({RedFlag.SUICIDAL_THOUGHTS, RedFlag.HEAVY_BLEEDING}) == ["15", "3114", "112"]


def test_deaf_or_hard_of_hearing_get_114_first() -> None:
    assert numbers({RedFlag.CHEST_PAIN}, deaf=True) == ["114", "15", "112"]
    assert numbers({RedFlag.SUICIDAL_THOUGHTS}, deaf=True) == ["114", "3114", "15", "112"]


def test_urgent_help_button_without_flag() -> None:
    assert numbers(set()) == ["15", "112"]


def test_exit_message_has_easy_read_variant() -> None:
    assert EXIT_MESSAGE.text(easy=True) != EXIT_MESSAGE.text()
    assert EXIT_MESSAGE.text() == EXIT_MESSAGE.fr


def test_the_urgent_help_button_adds_114_for_who_cannot_speak_or_hear() -> None:
    from app.domain.emergency import numbers_for

    assert [n.number for n in numbers_for((), declared=True)] == ["15", "114", "112"]
    assert [n.number for n in numbers_for((), True, declared=True)] == ["114", "15", "112"]
    suicide = numbers_for({RedFlag.SUICIDAL_THOUGHTS}, declared=True)
    assert [n.number for n in suicide] == ["3114", "15", "112"]
