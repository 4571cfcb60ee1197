"""Choose the beneficiary: a card can carry several people (children, a spouse)."""

from __future__ import annotations

from app.ui.screens.base import Screen
from app.ui.views import BeneficiaryView, IntentKind, ScreenId


class BeneficiaryScreen(Screen[BeneficiaryView]):
    screen_id = ScreenId.BENEFICIARY

    def build(self, view: BeneficiaryView) -> None:
        self.title("beneficiary.title")
        self.paragraph("beneficiary.hint")
        for person in view.beneficiaries:
            words = self.text(
                "beneficiary.person", name=person.display_name, born=person.birth_date
            )
            self.button(
                words,
                "person",
                self.action(IntentKind.CHOOSE_BENEFICIARY, person.id),
                layout=self.body,
                name=f"beneficiary-{person.id}",
                raw=True,
            )
