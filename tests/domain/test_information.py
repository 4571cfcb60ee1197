"""The information given before consent (charte §1.3)."""

from __future__ import annotations

from app.domain.information import INFORMATION_ITEMS, InformationTopic, charter_items


def test_the_seven_items_of_the_charter_plus_the_right_to_refuse() -> None:
    assert [i.topic for i in charter_items()] == [
        InformationTopic.MODALITIES,
        InformationTopic.ALTERNATIVES,
        InformationTopic.ASSISTANCE,
        InformationTopic.CONFIDENTIALITY,
        InformationTopic.DATA_PROCESSING,
        InformationTopic.DATA_SECURITY,
        InformationTopic.COST,
    ]
    assert INFORMATION_ITEMS[-1].topic is InformationTopic.RIGHT_TO_REFUSE
    assert not INFORMATION_ITEMS[-1].from_charter


def test_ids_are_unique_and_every_long_text_has_an_easy_variant() -> None:
    ids = [m.id for i in INFORMATION_ITEMS for m in (i.title, i.body)]
    assert len(ids) == len(set(ids))
    for item in INFORMATION_ITEMS:
        assert item.body.easy_read is not None
        assert len(item.body.easy_read) < len(item.body.fr)
        assert item.body.text(easy=True) == item.body.easy_read
        assert item.title.text(easy=True) == item.title.fr


def test_cost_says_payment_only_after_the_consultation() -> None:
    cost = next(i for i in INFORMATION_ITEMS if i.topic is InformationTopic.COST)
    assert "seulement après la consultation" in cost.body.fr
