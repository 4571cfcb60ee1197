"""The platform's database: one SQLite file with resources and their search tokens.

Why tokens in their own table: conditional create and search by identifier
must find a resource by `system|value` without scanning every body. A
transaction bundle is written inside one SQLite transaction (BEGIN
IMMEDIATE ... COMMIT), so it lands whole or not at all, even if several
platform processes share the file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from devtools.platform import jsontext

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    last_updated TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (type, id)
);
CREATE TABLE IF NOT EXISTS tokens (
    type TEXT NOT NULL,
    param TEXT NOT NULL,
    system TEXT NOT NULL,
    value TEXT NOT NULL,
    id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tokens_lookup ON tokens (type, param, system, value);
"""


class PlatformStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def find(self, rtype: str, param: str, system: str | None, value: str) -> list[str]:
        if system is None:
            rows = self._db.execute(
                "SELECT DISTINCT id FROM tokens WHERE type=? AND param=? AND value=?",
                (rtype, param, value),
            )
        else:
            rows = self._db.execute(
                "SELECT DISTINCT id FROM tokens WHERE type=? AND param=? AND system=? AND value=?",
                (rtype, param, system, value),
            )
        return [row[0] for row in rows]

    def insert(self, rtype: str, rid: str, resource: dict[str, Any], last_updated: str) -> None:
        self._db.execute(
            "INSERT INTO resources (type, id, version, last_updated, body) VALUES (?, ?, 1, ?, ?)",
            (rtype, rid, last_updated, jsontext.dumps(resource)),
        )
        tokens = [
            ("identifier", i.get("system", ""), i.get("value", ""))
            for i in resource.get("identifier", [])
            if "value" in i
        ]
        tokens += [
            ("_tag", t.get("system", ""), t.get("code", ""))
            for t in resource.get("meta", {}).get("tag", [])
            if "code" in t
        ]
        self._db.executemany(
            "INSERT INTO tokens (type, param, system, value, id) VALUES (?, ?, ?, ?, ?)",
            [(rtype, param, system, value, rid) for param, system, value in tokens],
        )

    def replace(self, rtype: str, rid: str, resource: dict[str, Any], last_updated: str) -> None:
        """A new version of an existing resource (update): body and search tokens replaced."""
        self._db.execute("DELETE FROM tokens WHERE type=? AND id=?", (rtype, rid))
        self._db.execute("DELETE FROM resources WHERE type=? AND id=?", (rtype, rid))
        self.insert(rtype, rid, resource, last_updated)

    def read(self, rtype: str, rid: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT body FROM resources WHERE type=? AND id=?", (rtype, rid)
        ).fetchone()
        return None if row is None else jsontext.loads(row[0])

    def of_type(self, rtype: str) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT body FROM resources WHERE type=? ORDER BY seq", (rtype,))
        return [jsontext.loads(row[0]) for row in rows]

    def everything(self) -> Iterator[dict[str, Any]]:
        for (body,) in self._db.execute("SELECT body FROM resources ORDER BY seq"):
            yield jsontext.loads(body)

    def count(self, rtype: str | None = None) -> int:
        if rtype is None:
            row = self._db.execute("SELECT COUNT(*) FROM resources").fetchone()
        else:
            row = self._db.execute(
                "SELECT COUNT(*) FROM resources WHERE type=?", (rtype,)
            ).fetchone()
        return int(row[0])
