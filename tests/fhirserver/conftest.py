"""The independent FHIR engine (`devtools/fhirserver`, @medplum/fhir-router) as a fixture.

`running_engine(transactions=True)` starts `node server.mjs` on a free
loopback port and stops it afterwards. Without Node (or without its
`node_modules`, installed by `npm ci` in `.ci/run`) the tests skip on a
developer's machine and FAIL under CI=true, like the repository's other
integration tests: CI must never pass by not running them.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENGINE_DIR = ROOT / "devtools" / "fhirserver"


def engine_available() -> None:
    """Skip (developer) or fail (CI) when the engine cannot run here."""
    ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    node = shutil.which("node")
    if node is None:
        if ci:
            pytest.fail("CI=true but `node` is missing: the FHIR engine tests cannot run.")
        pytest.skip("node is not installed: the independent FHIR engine cannot run")
    if not (ENGINE_DIR / "node_modules" / "@medplum" / "fhir-router").is_dir():
        npm = shutil.which("npm")
        if npm is not None:
            subprocess.run(  # noqa: S603 - a fixed command in our own folder
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=ENGINE_DIR,
                check=False,
                capture_output=True,
                timeout=300,
            )
    if not (ENGINE_DIR / "node_modules" / "@medplum" / "fhir-router").is_dir():
        message = "devtools/fhirserver/node_modules is missing (run `npm ci` there)"
        if ci:
            pytest.fail(message)
        pytest.skip(message)


@asynccontextmanager
async def running_engine(*, transactions: bool = True) -> AsyncIterator[str]:
    """The engine on 127.0.0.1 (its base URL); stopped, whatever happens."""
    engine_available()
    process = await asyncio.create_subprocess_exec(
        shutil.which("node") or "node",
        "server.mjs",
        "--port",
        "0",
        "--transactions",
        "on" if transactions else "off",
        cwd=ENGINE_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(60):
            line = await process.stdout.readline()
        port = int(json.loads(line)["listening"])
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(10):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()


from tests.sync.conftest import store  # noqa: E402, F401 - the real SQLCipher store fixture
