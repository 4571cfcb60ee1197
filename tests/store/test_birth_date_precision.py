"""A date of birth known only in part comes back from the encrypted file as partial as it went in."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from app.domain.identity import BirthDatePrecision, PartialDateError, PatientIdentity
from app.store import FileKeySource, Store
from app.store.codec import identity_from_payload, identity_to_payload, loads
from tests.store import factories as f
from tests.store.conftest import raw_connection

# What the codec wrote before it kept the precision: no "birth_date_precision".
OLD_PAYLOAD = (
    '{"identifier":null,"identifier_kind":"NIR","ins_oid":null,"insi_queried_at":null,'
    '"method":"CV","status":"PROV","traits":{"birth_date":"1950-01-01",'
    '"birth_first_names":["JEAN"],"birth_name":"DUPONT","birth_place_insee":null,'
    '"first_name_used":null,"sex":"male","used_name":null},"validation_date":null,'
    '"verification_document":null,"verified_by":null}'
)


def _born(born: date, precision: BirthDatePrecision) -> PatientIdentity:
    identity = f.provisional_identity()
    traits = replace(identity.traits, birth_date=born, birth_date_precision=precision)
    return replace(identity, traits=traits)


CASES = [
    (date(1950, 1, 1), BirthDatePrecision.YEAR, "year"),
    (date(1950, 6, 1), BirthDatePrecision.MONTH, "month"),
    (date(1950, 6, 14), BirthDatePrecision.DAY, "day"),
]


@pytest.mark.parametrize(("born", "precision", "stored"), CASES)
def test_the_precision_goes_into_the_payload_and_back(
    born: date, precision: BirthDatePrecision, stored: str
) -> None:
    identity = _born(born, precision)
    payload = identity_to_payload(identity)
    traits = loads(payload)["traits"]
    assert (traits["birth_date"], traits["birth_date_precision"]) == (born.isoformat(), stored)
    assert identity_from_payload(payload) == identity


def test_each_precision_round_trips_through_the_encrypted_file(
    store: Store, data_dir: Path, clock: f.FakeClock
) -> None:
    sent = [_born(born, precision) for born, precision, _ in CASES]
    store.begin_session("s-1", "CAB-01")
    for identity in sent:
        store.record_identity("s-1", identity)
    store.close()

    with Store.open(data_dir, FileKeySource(data_dir), clock) as again:
        history = again.session_bundle_source("s-1").identity_history
    assert history == tuple(sent)
    assert [i.traits.birth_date_known for i in history] == ["1950", "1950-06", "1950-06-14"]


def test_a_row_written_before_the_precision_was_kept_reads_as_a_whole_date(
    store: Store, data_dir: Path, clock: f.FakeClock
) -> None:
    store.begin_session("old", "CAB-01")
    store.close()
    conn = raw_connection(data_dir)
    conn.execute(
        "INSERT INTO identities (session_id, status, method, verified_by, payload, recorded_at) "
        "VALUES ('old', 'PROV', 'CV', NULL, ?, '2025-03-14T09:30:00.000000Z')",
        (OLD_PAYLOAD,),
    )
    conn.close()

    with Store.open(data_dir, FileKeySource(data_dir), clock) as again:
        identity = again.session_bundle_source("old").identity
    assert identity == _born(date(1950, 1, 1), BirthDatePrecision.DAY)
    assert identity is not None and identity.traits.birth_date_known == "1950-01-01"


def test_a_stored_partial_date_that_breaks_the_domain_rule_fails_loudly() -> None:
    tampered = OLD_PAYLOAD.replace('"birth_date":"1950-01-01"', '"birth_date":"1950-06-14"')
    tampered = tampered.replace(
        '"birth_first_names"', '"birth_date_precision":"month","birth_first_names"'
    )
    with pytest.raises(PartialDateError) as caught:
        identity_from_payload(tampered)
    assert str(caught.value) == (
        "A date of birth known only in part must hold the first day of its period."
    )
