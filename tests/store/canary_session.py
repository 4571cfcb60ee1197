"""Run in a child process by test_canary.py: one session full of canaries, then its purge.

A separate process so that SQLite's temporary-file directory (read once per
process from SQLITE_TMPDIR/TMPDIR) is a folder the test owns and scans, and
so that everything it prints or logs can be captured whole.
"""

from __future__ import annotations

import logging
import shutil
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.domain.consent import ConsentChoice, ConsentItem, ConsentText, decide  # noqa: E402
from app.domain.identity import (  # noqa: E402
    CollectionMethod,
    IdentityDocument,
    IdentityStatus,
    InsOid,
    InsTraits,
    PatientIdentity,
    Sex,
    parse_nir,
)
from app.domain.measurements import DeviceSource, MeasurementKind, Quantity, make_measurement  # noqa: E402
from app.domain.session_effects import DocumentRecord, PaymentRecord  # noqa: E402
from app.domain.trace import IncidentCode, TraceEntry, TraceKind  # noqa: E402
from app.store import AsyncStore, FileKeySource, RetentionPolicy  # noqa: E402


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 5, 1, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def run(data_dir: Path, control: Path, canary: str, nir: str) -> None:
    clock = Clock()
    store = await AsyncStore.open(
        data_dir,
        FileKeySource(data_dir),
        clock,
        policy=RetentionPolicy(retention=timedelta(days=1)),
    )
    sid = "canary-session"
    traits = InsTraits(
        birth_name=f"{canary}-birth-name",
        birth_first_names=(f"{canary}-first", f"{canary}-second"),
        birth_date=date(1961, 7, 14),
        sex=Sex.FEMALE,
        birth_place_insee=f"{canary}-place",
        first_name_used=f"{canary}-used-first",
        used_name=f"{canary}-used-name",
    )
    identity = PatientIdentity(
        traits=traits,
        status=IdentityStatus.QUAL,
        method=CollectionMethod.CV,
        identifier=parse_nir(nir),
        ins_oid=InsOid.TEST,
        verified_by="marie.ph",
        verification_document=IdentityDocument.PASSPORT,
        validation_date=date(2025, 5, 1),
    )
    await store.begin_session(sid, "CAB-01")
    await store.record_identity(sid, identity)
    text = ConsentText("tc", ConsentItem.TELECONSULTATION, "1", "fr", f"{canary} consent text")
    await store.record_consent(sid, decide(text, ConsentChoice.GRANTED, clock.now))
    await store.record_measurement(
        sid,
        make_measurement(
            "canary-m1",
            MeasurementKind.BODY_TEMPERATURE,
            {Quantity.BODY_TEMPERATURE: Decimal("39.17")},
            DeviceSource("thermo-1"),
            clock.now,
        ),
    )
    await store.record_trace(
        sid,
        TraceEntry(
            clock.now,
            TraceKind.INCIDENT,
            incident=IncidentCode.DEVICE_FAILED,
            message=f"{canary} trace",
        ),
    )
    await store.record(sid, DocumentRecord("canary-doc", "report"))
    await store.record_document(
        sid,
        "canary-doc",
        kind="report",
        media_type="text/plain",
        title=f"{canary} title",
        content=f"{canary} report body".encode(),
    )
    await store.record(sid, PaymentRecord(f"{canary}-payment"))
    await store.end_session(sid, "completed")
    record = await store.session_bundle_source(sid)
    assert record.identity == identity
    [item] = await store.pending_outbox()
    await store.mark_in_flight(item.item_id)
    await store.acknowledge(item.item_id, "sha256:0f00")
    # Positive control, before the purge: a checkpointed copy of the database.
    await store._run(
        store.store._read,
        "checkpoint",
        lambda c: c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall(),
    )
    shutil.copy2(data_dir / "store.db", control / "before-purge.db")
    clock.now += timedelta(days=2)
    report = await store.purge()
    assert report.sessions == 1, report
    logging.getLogger("canary").info("purged %d session(s), %d rows", report.sessions, report.rows)
    await store.close()


if __name__ == "__main__":
    import asyncio

    data_dir, control, log_file, canary, nir = sys.argv[1:6]
    logging.basicConfig(filename=log_file, level=logging.DEBUG)
    asyncio.run(run(Path(data_dir), Path(control), canary, nir))
    print("done")
