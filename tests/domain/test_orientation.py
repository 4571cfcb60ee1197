"""Orientation: parcours de soins, its exceptions, territoriality waivers; never a refusal."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.orientation import (
    MESSAGE_EXCEPTION,
    MESSAGE_OUTSIDE,
    MESSAGE_WITHIN,
    OrientationAnswers,
    OrientationException,
    Parcours,
    TerritorialityWaiver,
    age_on,
    assess,
)

E = OrientationException
ADULT = 40


def test_referred_by_medecin_traitant_is_within() -> None:
    r = assess(
        OrientationAnswers(has_medecin_traitant=True, referred_by_medecin_traitant=True), ADULT
    )
    assert (r.parcours, r.exceptions, r.message) == (Parcours.WITHIN, frozenset(), MESSAGE_WITHIN)


def test_has_medecin_traitant_not_referred_is_outside_but_not_refused() -> None:
    r = assess(OrientationAnswers(has_medecin_traitant=True), ADULT)
    assert (r.parcours, r.message) == (Parcours.OUTSIDE, MESSAGE_OUTSIDE)
    assert "moins bien remboursée" in r.message.fr
    assert not r.unknown_medecin_traitant


def test_referral_claimed_without_medecin_traitant_does_not_count() -> None:
    r = assess(
        OrientationAnswers(has_medecin_traitant=False, referred_by_medecin_traitant=True), ADULT
    )
    assert r.parcours is Parcours.EXCEPTION
    assert r.exceptions == {E.NO_MEDECIN_TRAITANT}


@pytest.mark.parametrize(
    ("answers", "age", "exception"),
    [
        (OrientationAnswers(has_medecin_traitant=True), 15, E.UNDER_16),
        (
            OrientationAnswers(has_medecin_traitant=True, direct_access_specialty=True),
            ADULT,
            E.DIRECT_ACCESS_SPECIALTY,
        ),
        (OrientationAnswers(has_medecin_traitant=False), ADULT, E.NO_MEDECIN_TRAITANT),
        (
            OrientationAnswers(has_medecin_traitant=True, medecin_traitant_unavailable=True),
            ADULT,
            E.MEDECIN_TRAITANT_UNAVAILABLE,
        ),
        (OrientationAnswers(has_medecin_traitant=True, emergency=True), ADULT, E.EMERGENCY),
        (OrientationAnswers(has_medecin_traitant=True, detainee=True), ADULT, E.DETAINEE),
        (
            OrientationAnswers(has_medecin_traitant=True, care_home_resident=True),
            ADULT,
            E.CARE_HOME_RESIDENT,
        ),
    ],
)
def test_each_exception(
    answers: OrientationAnswers, age: int, exception: OrientationException
) -> None:
    r = assess(answers, age)
    assert r.parcours is Parcours.EXCEPTION
    assert r.exceptions == {exception}
    assert r.message == MESSAGE_EXCEPTION


def test_sixteen_is_no_longer_an_exception() -> None:
    assert assess(OrientationAnswers(has_medecin_traitant=True), 16).parcours is Parcours.OUTSIDE
    assert assess(OrientationAnswers(has_medecin_traitant=True), None).parcours is Parcours.OUTSIDE


def test_unknown_medecin_traitant_is_flagged_and_not_an_exception() -> None:
    r = assess(OrientationAnswers(has_medecin_traitant=None), ADULT)
    assert r.parcours is Parcours.OUTSIDE
    assert r.unknown_medecin_traitant


def test_sas_and_zip_waive_territoriality_only() -> None:
    r = assess(
        OrientationAnswers(has_medecin_traitant=True, sas_referral=True, lives_in_zip=True), ADULT
    )
    assert r.waivers == {TerritorialityWaiver.SAS_REFERRAL, TerritorialityWaiver.ZIP_RESIDENCE}
    assert r.parcours is Parcours.OUTSIDE


def test_several_exceptions_are_all_given_to_the_doctor() -> None:
    r = assess(OrientationAnswers(has_medecin_traitant=False, detainee=True, emergency=True), 12)
    assert r.exceptions == {E.NO_MEDECIN_TRAITANT, E.DETAINEE, E.EMERGENCY, E.UNDER_16}


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (date(2009, 3, 2), date(2025, 3, 1), 15),
        (date(2009, 3, 1), date(2025, 3, 1), 16),
        (date(2008, 2, 29), date(2025, 2, 28), 16),
    ],
)
def test_age_on(birth: date, day: date, age: int) -> None:
    assert age_on(birth, day) == age
