"""What a client sees through each fault of the proxy (the tool the exactly-once tests rely on)."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from devtools.faultproxy import Fault, FaultProxy, RandomSchedule, ScriptedSchedule, always
from devtools.platform.testing import running_platform

BODY = b'{"resourceType":"Bundle","type":"transaction","entry":[]}'


async def _post(port: int, timeout: float = 1.0) -> int | str:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
        try:
            async with http.post(
                f"http://127.0.0.1:{port}/",
                data=BODY,
                headers={"Content-Type": "application/fhir+json"},
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as r:
                await r.read()
                return (
                    r.status if r.status != 503 else f"503 retry-after={r.headers['Retry-After']}"
                )
        except TimeoutError:
            return "timeout"
        except aiohttp.ClientError:
            return "connection-error"


@pytest.mark.parametrize(
    ("fault", "seen", "committed"),
    [
        (Fault.FORWARD, 200, 1),
        (Fault.DROP_BEFORE_REQUEST, "connection-error", 0),
        (Fault.DROP_RESPONSE, "connection-error", 1),
        (Fault.HTTP_500, 500, 0),
        (Fault.HTTP_503, "503 retry-after=42", 0),
        (Fault.HANG, "timeout", 0),
        (Fault.RESET, "connection-error", 0),
    ],
)
async def test_each_fault_as_the_client_sees_it(
    tmp_path: Path, fault: Fault, seen: int | str, committed: int
) -> None:
    async with running_platform(tmp_path) as (_url, platform):
        async with FaultProxy(
            platform.port, always(fault), retry_after="42", max_hang_s=5
        ) as proxy:
            assert await _post(proxy.port, timeout=0.5) == seen
            assert proxy.counts[fault] == 1
            assert platform.stats.get("committed", 0) == committed


def test_schedules_are_scripted_or_seeded() -> None:
    scripted = ScriptedSchedule([Fault.RESET, Fault.HANG])
    assert [scripted(i) for i in range(4)] == [
        Fault.RESET,
        Fault.HANG,
        Fault.FORWARD,
        Fault.FORWARD,
    ]
    weights = {Fault.FORWARD: 3.0, Fault.RESET: 1.0}
    a, b = RandomSchedule(5, weights), RandomSchedule(5, weights)
    assert [a(i) for i in range(50)] == [b(i) for i in range(50)]
    assert {a(i) for i in range(200)} == {Fault.FORWARD, Fault.RESET}
