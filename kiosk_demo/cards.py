"""The demo's fictional patients on simulated cards — DEMO AND TESTS ONLY.

Every person here is invented; their NIRs have valid keys (so that the
kiosk's checks accept them) and must never be sent to a production platform:
the kiosk in test mode uses the INS-NIR-TEST OID for them. They live with
the demo (kiosk_demo/), so the cabin's install never carries them. The set covers
what a cabin meets: a single adult born overseas, a holder born in Corsica
with two children (one of them born in Corsica too), an expired card, a card
that refuses to give its beneficiaries (6982), and a mute card.
"""

from __future__ import annotations

import datetime as dt

from drivers.card.apdu import SW_SECURITY_NOT_SATISFIED
from drivers.card.profile import FID_BENEFICIARIES
from drivers.card.sim_card import VirtualCard
from drivers.card.vitale import CardValidity
from drivers.events import Beneficiary
from vocabulary.nir import with_key

_VALID = CardValidity(valid_from=dt.date(2019, 1, 1), valid_until=dt.date(2099, 12, 31))

# Born 1990-05-14 in Saint-Denis, La Réunion (INSEE 97411: département 974, commune 11).
SINGLE_ADULT = VirtualCard(
    label="single-adult",
    beneficiaries=(
        Beneficiary(
            surname="HOARAU",
            first_name="MARIE JOSEE",
            birth_date="1990-05-14",
            nir=with_key("2900597411123"),
            rank=1,
        ),
    ),
    validity=_VALID,
)

# Holder born 1979-11-05 in Ajaccio (2A004); children born in Paris (75056) and
# in Bastia (2B033). No end-of-validity object: like a real card, never "expired".
FAMILY = VirtualCard(
    label="family",
    beneficiaries=(
        Beneficiary(
            surname="BERNARD",
            first_name="PAUL",
            birth_date="1979-11-05",
            nir=with_key("179112A004012"),
            rank=1,
        ),
        Beneficiary(
            surname="BERNARD",
            first_name="LEA",
            birth_date="2012-06-23",
            nir=with_key("2120675056031"),
            rank=2,
        ),
        Beneficiary(
            surname="BERNARD",
            first_name="TOM",
            birth_date="2015-09-02",
            nir=with_key("115092B033042"),
            rank=3,
        ),
    ),
    validity=CardValidity(valid_from=dt.date(2016, 3, 1), valid_until=None),
)

# Born 1948-07-21 in Bordeaux (33063); the card's validity ended on 2020-12-31.
EXPIRED = VirtualCard(
    label="expired",
    beneficiaries=(
        Beneficiary(
            surname="DUBOIS",
            first_name="MARCEL",
            birth_date="1948-07-21",
            nir=with_key("1480733063087"),
            rank=1,
        ),
    ),
    validity=CardValidity(valid_from=dt.date(2010, 1, 1), valid_until=dt.date(2020, 12, 31)),
)

# Born 1984-03-12 in Lyon (69123); the beneficiaries file answers 6982.
REFUSES_READ = VirtualCard(
    label="refuses-read",
    beneficiaries=(
        Beneficiary(
            surname="MARTIN",
            first_name="CLAIRE",
            birth_date="1984-03-12",
            nir=with_key("2840369123045"),
            rank=1,
        ),
    ),
    validity=_VALID,
    refuse_read={FID_BENEFICIARIES: SW_SECURITY_NOT_SATISFIED},
)

# Answers power-on and the ATR, then never answers a command.
MUTE = VirtualCard(
    label="mute",
    beneficiaries=SINGLE_ADULT.beneficiaries,
    validity=_VALID,
    mute=True,
)

ALL_CARDS: dict[str, VirtualCard] = {
    card.label: card for card in (SINGLE_ADULT, FAMILY, EXPIRED, REFUSES_READ, MUTE)
}
