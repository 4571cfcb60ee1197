"""Run the reference platform on loopback inside a test or the demo.

    async with running_platform(tmp_path) as (base_url, handle):
        ...  # POST bundles to base_url; handle.store holds what landed

`cabins` enrols cabins: every kiosk channel then needs a cabin token. Without
them this harness asks for the open test mode by name (`create_app(open_test_mode=
True)`, said loudly on standard error): it is the tests' and the demo's way in, a
platform started otherwise refuses to run without enrolled cabins. `tls` is a
server `ssl.SSLContext` (HTTPS); `extensions` add routes (the call room's
signalling and console); `port=0` picks a free port.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from devtools.platform.app import HEALTH_KEY, STATS_KEY, STORE_KEY, Extension, create_app
from devtools.platform.cabins import CabinRegistry
from devtools.platform.storage import PlatformStore
from devtools.platform.transaction import FhirOptions


@dataclass
class PlatformHandle:
    app: web.Application
    runner: web.AppRunner
    base_url: str
    port: int
    db_path: Path

    @property
    def store(self) -> PlatformStore:
        return self.app[STORE_KEY]

    @property
    def stats(self) -> dict[str, int]:
        return self.app[STATS_KEY]

    def set_healthy(self, healthy: bool) -> None:
        """Make `GET /health` answer 200 (True) or 503 (False)."""
        self.app[HEALTH_KEY]["ok"] = healthy

    def resources(self, rtype: str) -> list[dict[str, Any]]:
        return self.store.of_type(rtype)


@asynccontextmanager
async def running_platform(
    tmp_path: Path,
    *,
    port: int = 0,
    tls: ssl.SSLContext | None = None,
    extensions: Sequence[Extension] = (),
    db_path: Path | None = None,
    fhir: FhirOptions | None = None,
    cabins: CabinRegistry | None = None,
) -> AsyncIterator[tuple[str, PlatformHandle]]:
    """`fhir` makes it answer like a real server (strict isolation, entry outcomes, PUT)."""
    db = db_path or Path(tmp_path) / "platform.sqlite3"
    app = create_app(
        db, extensions=extensions, fhir=fhir, cabins=cabins, open_test_mode=cabins is None
    )
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, ssl_context=tls)
    await site.start()
    bound = runner.addresses[0][1]
    scheme = "https" if tls else "http"
    base_url = f"{scheme}://127.0.0.1:{bound}"
    try:
        yield base_url, PlatformHandle(app, runner, base_url, bound, db)
    finally:
        await runner.cleanup()
