"""The rules the screens once decided, now the domain's: one question or item at a time.

Red flags (the first yes ends them), consent (in order, stop at a refused
required item), orientation (the question tree), devices (done after the
last). Hypothesis walks every sequence of answers.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.consent import CONSENT_ORDER, ConsentChoice, ConsentItem, consent_next
from app.domain.emergency import RED_FLAG_QUESTIONS, RedFlag, RedFlagsAnswered, red_flag_answer
from app.domain.measurements import next_device
from app.domain.orientation import (
    ORIENTATION_OPTIONS,
    OrientationAnswers,
    OrientationOption,
    OrientationQuestion,
    next_orientation_question,
)

# ---- red flags -----------------------------------------------------------------------------


def _ask_red_flags(answers: list[bool]) -> tuple[int, RedFlagsAnswered]:
    """Play the answers until the rule says it is over: (questions asked, the result)."""
    index, asked = 0, 0
    while True:
        asked += 1
        step = red_flag_answer(index, answers[index])
        if isinstance(step, RedFlagsAnswered):
            return asked, step
        assert step == index + 1
        index = step


@given(st.lists(st.booleans(), min_size=len(RED_FLAG_QUESTIONS), max_size=len(RED_FLAG_QUESTIONS)))
def test_the_first_yes_ends_the_red_flags_with_that_flag_alone(answers: list[bool]) -> None:
    asked, result = _ask_red_flags(answers)
    if True in answers:
        first = answers.index(True)
        assert asked == first + 1
        assert result.flags == frozenset({RED_FLAG_QUESTIONS[first][0]})
    else:
        assert asked == len(RED_FLAG_QUESTIONS)
        assert result.flags == frozenset()


def test_red_flags_by_example() -> None:
    assert red_flag_answer(0, False) == 1
    assert red_flag_answer(0, True) == RedFlagsAnswered(frozenset({RedFlag.CHEST_PAIN}))
    last = len(RED_FLAG_QUESTIONS) - 1
    assert red_flag_answer(last, False) == RedFlagsAnswered(frozenset())
    with pytest.raises(IndexError):
        red_flag_answer(last + 1, False)
    with pytest.raises(IndexError):
        red_flag_answer(-1, True)


# ---- consent -------------------------------------------------------------------------------


@given(
    st.lists(
        st.sampled_from(ConsentChoice), min_size=len(CONSENT_ORDER), max_size=len(CONSENT_ORDER)
    )
)
def test_consent_is_asked_in_order_and_stops_at_a_refused_required_item(
    choices: list[ConsentChoice],
) -> None:
    asked: list[ConsentItem] = []
    index: int | None = 0
    while index is not None:
        asked.append(CONSENT_ORDER[index])
        index = consent_next(index, choices[index])
    stop = next(
        (
            i
            for i, item in enumerate(CONSENT_ORDER)
            if item.required and choices[i] is ConsentChoice.REFUSED
        ),
        len(CONSENT_ORDER) - 1,
    )
    assert asked == list(CONSENT_ORDER[: stop + 1])


def test_consent_by_example() -> None:
    assert CONSENT_ORDER[0] is ConsentItem.TELECONSULTATION
    assert consent_next(0, ConsentChoice.REFUSED) is None  # no teleconsultation: nothing more
    assert consent_next(0, ConsentChoice.GRANTED) == 1
    assert consent_next(1, ConsentChoice.REFUSED) == 2  # an optional refusal goes on
    assert consent_next(len(CONSENT_ORDER) - 1, ConsentChoice.GRANTED) is None
    with pytest.raises(IndexError):
        consent_next(len(CONSENT_ORDER), ConsentChoice.GRANTED)


# ---- orientation ---------------------------------------------------------------------------


def _walk(pick: st.DataObject) -> tuple[list[OrientationQuestion], OrientationAnswers]:
    answers: dict[OrientationQuestion, OrientationOption] = {}
    asked: list[OrientationQuestion] = []
    while True:
        step = next_orientation_question(answers)
        if isinstance(step, OrientationAnswers):
            return asked, step
        assert step not in answers  # a question is never asked twice
        asked.append(step)
        answers[step] = pick.draw(st.sampled_from(ORIENTATION_OPTIONS[step]))


@given(st.data())
def test_the_orientation_tree_asks_each_question_once_and_keeps_every_answer(
    data: st.DataObject,
) -> None:
    asked, result = _walk(data)
    assert 2 <= len(asked) <= len(OrientationQuestion)
    assert asked[0] is OrientationQuestion.HAS_MT
    if result.has_medecin_traitant is not True:
        assert asked == [OrientationQuestion.HAS_MT, OrientationQuestion.SITUATION]
    elif result.referred_by_medecin_traitant:
        assert asked == [OrientationQuestion.HAS_MT, OrientationQuestion.REFERRED]
        assert not result.medecin_traitant_unavailable
    else:
        assert asked == list(OrientationQuestion)
    situations = (result.direct_access_specialty, result.care_home_resident, result.sas_referral)
    assert sum(situations) <= 1
    assert not (result.emergency or result.detainee or result.lives_in_zip)  # not asked here


def test_orientation_by_example() -> None:
    yes, no = OrientationOption.YES, OrientationOption.NO
    q = OrientationQuestion
    assert next_orientation_question({}) is q.HAS_MT
    assert next_orientation_question({q.HAS_MT: yes}) is q.REFERRED
    assert next_orientation_question({q.HAS_MT: yes, q.REFERRED: yes}) == OrientationAnswers(
        has_medecin_traitant=True, referred_by_medecin_traitant=True
    )
    assert next_orientation_question({q.HAS_MT: yes, q.REFERRED: no}) is q.UNAVAILABLE
    assert next_orientation_question({q.HAS_MT: OrientationOption.UNKNOWN}) is q.SITUATION
    assert next_orientation_question(
        {q.HAS_MT: no, q.SITUATION: OrientationOption.SAS}
    ) == OrientationAnswers(has_medecin_traitant=False, sas_referral=True)
    assert next_orientation_question(
        {q.HAS_MT: yes, q.REFERRED: no, q.UNAVAILABLE: yes, q.SITUATION: OrientationOption.NONE}
    ) == OrientationAnswers(has_medecin_traitant=True, medecin_traitant_unavailable=True)
    with pytest.raises(ValueError, match="'sas' does not answer the question 'has_mt'"):
        next_orientation_question({q.HAS_MT: OrientationOption.SAS})


# ---- devices -------------------------------------------------------------------------------


@given(st.integers(1, 6), st.data())
def test_measurements_are_done_after_the_last_device(count: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, count - 1))
    step = next_device(index, count)
    assert step == (index + 1 if index + 1 < count else None)


def test_there_is_no_device_past_the_last() -> None:
    with pytest.raises(IndexError):
        next_device(3, 3)
