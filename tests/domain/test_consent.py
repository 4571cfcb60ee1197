"""Consent: versioned, hashed texts; refusals and withdrawals recorded; the call needs a grant."""

from __future__ import annotations

import hashlib
from datetime import datetime

import pytest

from app.domain.consent import (
    CONSENT_TEXTS,
    ConsentChoice,
    ConsentError,
    ConsentErrorReason,
    ConsentItem,
    ConsentText,
    consent_source,
    consent_text,
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


# --- the texts the domain owns -------------------------------------------------------------

PINNED_HASHES = {
    "teleconsultation": "5735895021c2",
    "data-sharing": "4d6edde85c4b",
    "assistance": "60c34f38ecf4",
}


def test_the_consent_texts_are_the_three_items_in_order_with_pinned_versions() -> None:
    assert [(s.item.value, s.id, s.version) for s in CONSENT_TEXTS] == [
        ("teleconsultation", "consent.teleconsultation", "2026-1"),
        ("data-sharing", "consent.data-sharing", "2026-1"),
        ("assistance", "consent.assistance", "2026-1"),
    ]
    # A French word changed without a new version fails here: bump the version, then this pin.
    pins = {
        s.item.value: hashlib.sha256(s.french().encode()).hexdigest()[:12] for s in CONSENT_TEXTS
    }
    assert pins == PINNED_HASHES


def test_a_decision_in_french_is_on_the_domain_s_own_words() -> None:
    source = consent_source(ConsentItem.TELECONSULTATION)
    text = consent_text(ConsentItem.TELECONSULTATION, "fr", source.french())
    assert (text.id, text.version, text.language) == ("consent.teleconsultation", "2026-1", "fr")
    with pytest.raises(ConsentError) as caught:
        consent_text(ConsentItem.TELECONSULTATION, "fr", source.french() + " (modifié)")
    assert caught.value.reason is ConsentErrorReason.NOT_THE_SOURCE_TEXT
    english = consent_text(ConsentItem.TELECONSULTATION, "en", "Do you agree?\nA doctor…")
    assert english.sha256 != text.sha256 and english.version == "2026-1"
