"""Consent: versioned, hashed texts; refusals and withdrawals recorded; the call needs a grant."""

from __future__ import annotations

import hashlib
from datetime import datetime

import pytest

from app.domain.consent import (
    ConsentChoice,
    ConsentError,
    ConsentErrorReason,
    ConsentItem,
    ConsentText,
    current_choice,
    decide,
    require_teleconsultation,
    teleconsultation_granted,
)
from tests.domain.builders import SHARING_TEXT, TELE_TEXT, at


def test_text_hash_is_sha256_of_the_text() -> None:
    text = ConsentText("c", ConsentItem.ASSISTANCE, "2", "en", "I agree to be helped.")
    assert text.sha256 == hashlib.sha256(b"I agree to be helped.").hexdigest()
    other = ConsentText("c", ConsentItem.ASSISTANCE, "2", "en", "I agree to be helped!")
    assert other.sha256 != text.sha256


def test_only_teleconsultation_is_required() -> None:
    assert [i.required for i in ConsentItem] == [True, False, False]


def test_decision_records_text_version_hash_language_and_time() -> None:
    d = decide(TELE_TEXT, ConsentChoice.REFUSED, at(5))
    assert (d.item, d.choice, d.text_id, d.text_version, d.text_sha256, d.language, d.at) == (
        ConsentItem.TELECONSULTATION,
        ConsentChoice.REFUSED,
        "consent-tc",
        "3",
        TELE_TEXT.sha256,
        "fr",
        at(5),
    )


def test_refusal_blocks_the_call() -> None:
    refused = [decide(TELE_TEXT, ConsentChoice.REFUSED, at(5))]
    assert not teleconsultation_granted(refused)
    with pytest.raises(ConsentError) as caught:
        require_teleconsultation(refused)
    assert caught.value.reason is ConsentErrorReason.TELECONSULTATION_NOT_GRANTED
    assert str(caught.value) == (
        "The patient has not agreed to the teleconsultation, so the call cannot start."
    )
    with pytest.raises(ConsentError):
        require_teleconsultation([])


def test_optional_refusals_do_not_block() -> None:
    decisions = [
        decide(TELE_TEXT, ConsentChoice.GRANTED, at(5)),
        decide(SHARING_TEXT, ConsentChoice.REFUSED, at(6)),
    ]
    require_teleconsultation(decisions)
    assert current_choice(decisions, ConsentItem.DATA_SHARING) is ConsentChoice.REFUSED
    assert current_choice(decisions, ConsentItem.ASSISTANCE) is None


def test_withdrawal_needs_a_grant_and_then_blocks() -> None:
    with pytest.raises(ConsentError) as caught:
        decide(TELE_TEXT, ConsentChoice.WITHDRAWN, at(5))
    assert caught.value.reason is ConsentErrorReason.NOTHING_TO_WITHDRAW
    granted = [decide(TELE_TEXT, ConsentChoice.GRANTED, at(5))]
    withdrawn = decide(TELE_TEXT, ConsentChoice.WITHDRAWN, at(9), granted)
    assert not teleconsultation_granted([*granted, withdrawn])
    assert teleconsultation_granted(
        [*granted, withdrawn, decide(TELE_TEXT, ConsentChoice.GRANTED, at(12))]
    )


def test_naive_time_refused() -> None:
    with pytest.raises(ConsentError) as caught:
        decide(TELE_TEXT, ConsentChoice.GRANTED, datetime(2025, 1, 1))
    assert caught.value.reason is ConsentErrorReason.NAIVE_TIME


def test_text_repr_hides_nothing_sensitive_but_is_short() -> None:
    assert "J'accepte" not in repr(TELE_TEXT)
