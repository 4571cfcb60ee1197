"""Every kind of garbage a platform (or something in its place) can answer, and a fuzz.

Whatever comes back — or whatever the client raises — the session never stays
in flight, is never acknowledged unless the reply names what was sent, and
keeps its place at the head of the queue; a well-behaved platform afterwards
gets every session, in order. The fuzz's seed is hypothesis's (printed on
failure; `--hypothesis-seed` replays it).
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.sync.sender import Sender, SenderSettings
from app.sync.transport import (
    HttpReply,
    NetworkFailure,
    NetworkFailureReason,
    PlatformClient,
    ReplyTooLarge,
)
from app.sync.upload import UploadSettings
from tests.sync.fakes import FakeClock, MemoryOutbox
from tests.sync.sessions import T0, TEST_SITE, small_session

Reply = HttpReply | BaseException | Callable[[bytes], HttpReply]


def good_reply(body: bytes) -> HttpReply:
    """What a correct server answers to `body` (a transaction of PUTs or conditional POSTs)."""
    bundle = json.loads(body)
    entries = []
    for e in bundle["entry"]:
        request, resource = e["request"], e["resource"]
        if request["method"] == "PUT":
            entries.append({"response": {"status": "201 Created", "location": request["url"]}})
        else:
            rid = str(uuid.uuid5(uuid.NAMESPACE_URL, e["fullUrl"]))
            entries.append(
                {
                    "response": {"status": "201 Created", "location": f"{request['url']}/{rid}"},
                    "resource": {**resource, "id": rid},
                }
            )
    reply = {"resourceType": "Bundle", "type": "transaction-response", "entry": entries}
    return HttpReply(200, {}, json.dumps(reply).encode())


class ScriptedClient:
    """Answers each POST from a script, then like a correct server."""

    def __init__(self, script: list[Reply]) -> None:
        self.script = list(script)
        self.bodies: list[bytes] = []

    async def post_bundle(self, body: bytes, *, prefer: str | None = None) -> HttpReply:
        self.bodies.append(body)
        step: Reply = self.script.pop(0) if self.script else good_reply
        if isinstance(step, BaseException):
            raise step
        if callable(step):
            return step(body)
        return step


def replayed(body: bytes) -> HttpReply:
    """The reply the platform gave to *another* session (same shape, other identifiers)."""
    other = body.replace(b"S-1/", b"S-9/").replace(b"S-2/", b"S-9/")
    return good_reply(other)


def status_as(text: Any) -> Callable[[bytes], HttpReply]:
    def answer(body: bytes) -> HttpReply:
        reply = json.loads(good_reply(body).body)
        reply["entry"][0]["response"]["status"] = text
        return HttpReply(200, {}, json.dumps(reply).encode())

    return answer


def without_resources(body: bytes) -> HttpReply:
    reply = json.loads(good_reply(body).body)
    for e in reply["entry"]:
        e.pop("resource", None)
    return HttpReply(200, {}, json.dumps(reply).encode())


def bundle_of(kind: str) -> Callable[[bytes], HttpReply]:
    def answer(body: bytes) -> HttpReply:
        reply = json.loads(good_reply(body).body)
        reply["type"] = kind
        return HttpReply(200, {}, json.dumps(reply).encode())

    return answer


def one_entry_less(body: bytes) -> HttpReply:
    reply = json.loads(good_reply(body).body)
    reply["entry"].pop()
    return HttpReply(200, {}, json.dumps(reply).encode())


def deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


HOSTILE: dict[str, Reply] = {
    "deeply nested JSON (RecursionError)": HttpReply(200, {}, deep(200_000)),
    "Retry-After of 400 digits (OverflowError)": HttpReply(503, {"Retry-After": "9" * 400}, b""),
    "Retry-After far in the past": HttpReply(
        503, {"Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"}, b""
    ),
    "Retry-After garbage": HttpReply(429, {"Retry-After": "\x00\udcff soon"}, b""),
    "a replayed reply of another session": replayed,
    'entry status "2019"': status_as("2019"),
    "entry status as a number": status_as(201),
    "entry status 202": status_as("202 Accepted"),
    "no resources in a conditional reply": without_resources,
    "a searchset instead of a transaction-response": bundle_of("searchset"),
    "one entry missing": one_entry_less,
    "not JSON": HttpReply(200, {}, b"<html>proxy error</html>"),
    "JSON null": HttpReply(200, {}, b"null"),
    "a JSON list": HttpReply(200, {}, b"[1, 2, 3]"),
    "an integer of 10 000 digits": HttpReply(200, {}, b'{"n": ' + b"7" * 10_000 + b"}"),
    "invalid UTF-8": HttpReply(200, {}, b'{"resourceType": "\xff\xfe"}'),
    "an empty 200": HttpReply(200, {}, b""),
    "204 No Content": HttpReply(204, {}, b""),
    "a redirect": HttpReply(302, {"Location": "http://elsewhere/"}, b""),
    "a timeout": NetworkFailure(NetworkFailureReason.TIMEOUT, "The platform did not answer."),
    "a reply too large": ReplyTooLarge(1024),
    "a bug in the client (KeyError)": KeyError("boom"),
    "a RecursionError from the client": RecursionError("deep"),
    "a MemoryError from the client": MemoryError(),
}


def sender_with(client: object, outbox: MemoryOutbox, clock: FakeClock) -> Sender:
    return Sender(
        outbox,
        client,  # type: ignore[arg-type]
        TEST_SITE,
        clock=clock,
        random=random.Random(5).random,
        settings=SenderSettings(upload=UploadSettings(max_conditional_entries=100)),
    )


@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_a_hostile_reply_loses_nothing_and_keeps_the_order(case: str) -> None:
    outbox = MemoryOutbox([small_session("S-1"), small_session("S-2")])
    clock = FakeClock(T0)
    client = ScriptedClient([HOSTILE[case]])
    sender = sender_with(client, outbox, clock)
    report = await sender.drain_once()
    assert report.acknowledged == 0 and report.retry_in_s is not None, case
    assert [i.state for i in outbox.items] == ["ready", "ready"]  # nothing in flight
    assert outbox.items[0].attempts == 1 and outbox.items[1].attempts == 0
    assert outbox.items[0].errors and "S-1" not in outbox.items[0].errors[0]
    # Then the platform behaves: everything lands, in order, the same bytes resent.
    report = await sender.drain_once(ignore_retry_times=True)
    assert report.acknowledged == 2
    assert outbox.acknowledged_order == ["S-1", "S-2"]
    assert client.bodies[0] == client.bodies[1]


@pytest.mark.parametrize(
    "interruption", [asyncio.CancelledError(), KeyboardInterrupt(), SystemExit(3)]
)
async def test_an_interruption_puts_the_session_back_before_it_propagates(
    interruption: BaseException,
) -> None:
    outbox = MemoryOutbox([small_session("S-1")])
    sender = sender_with(ScriptedClient([interruption]), outbox, FakeClock(T0))
    with pytest.raises(type(interruption)):
        await sender.drain_once()
    assert outbox.items[0].state == "ready"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=10), kids, max_size=4)
    ),
    max_leaves=12,
)
bundle_like = st.fixed_dictionaries(
    {
        "resourceType": st.sampled_from(["Bundle", "OperationOutcome", "X"]),
        "type": st.sampled_from(["transaction-response", "batch-response", "searchset", 3]),
        "entry": st.lists(
            st.fixed_dictionaries(
                {
                    "response": st.fixed_dictionaries(
                        {
                            "status": st.sampled_from(["201 Created", "200", "2019", "400", 201]),
                            "location": st.sampled_from(
                                ["Patient/x", "Encounter/1/_history/1", "", "http://a/Patient/x"]
                            ),
                        }
                    ),
                    "resource": json_values,
                }
            ),
            max_size=12,
        ),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    status=st.sampled_from([200, 201, 202, 204, 400, 409, 422, 429, 500, 503]),
    body=st.one_of(st.binary(max_size=300), bundle_like.map(lambda b: json.dumps(b).encode())),
    headers=st.dictionaries(
        st.sampled_from(["Retry-After", "Date", "Content-Type"]), st.text(max_size=40), max_size=3
    ),
)
def test_fuzz_no_reply_leaves_a_session_in_flight_or_acknowledges_what_was_not_stored(
    status: int, body: bytes, headers: dict[str, str]
) -> None:
    async def scenario() -> None:
        outbox = MemoryOutbox([small_session("S-1"), small_session("S-2")])
        sender = sender_with(
            ScriptedClient([HttpReply(status, headers, body)]), outbox, FakeClock(T0)
        )
        await sender.drain_once()
        first = outbox.items[0]
        assert first.state in ("ready", "quarantined")  # never in flight, never a false ack
        assert outbox.items[1].state in ("ready", "acknowledged")
        if first.state == "ready":
            assert outbox.items[1].state == "ready"  # nothing overtook the head
        await sender.drain_once(ignore_retry_times=True)
        assert all(i.state in ("acknowledged", "quarantined") for i in outbox.items)

    asyncio.run(scenario())


async def test_a_huge_reply_is_read_only_up_to_the_limit() -> None:
    """A 400 MiB answer: the client stops past the limit and never holds it whole."""
    sent = 0

    async def huge(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        await request.read()
        response = web.StreamResponse(status=200)
        await response.prepare(request)
        chunk = b"0" * (1024 * 1024)
        try:
            for _ in range(400):
                await response.write(chunk)
                sent += len(chunk)
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            pass
        return response

    app = web.Application()
    app.router.add_post("/", huge)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as http:
            client = PlatformClient(http, f"http://127.0.0.1:{port}", max_reply_bytes=4 << 20)
            with pytest.raises(ReplyTooLarge):
                await client.post_bundle(b"{}")
        assert sent < 400 * 1024 * 1024
    finally:
        await runner.cleanup()


async def test_a_clock_jump_of_a_year_changes_neither_order_nor_delay() -> None:
    outbox = MemoryOutbox([small_session("S-1"), small_session("S-2"), small_session("S-3")])
    clock = FakeClock(T0)
    client = ScriptedClient([HttpReply(503, {"Retry-After": "60"}, b"")])
    sender = sender_with(client, outbox, clock)
    first = await sender.drain_once()
    assert first.retry_in_s == 60.0
    for jump in (365 * 86400, -2 * 365 * 86400):
        clock.jump(jump)
        assert (await sender.drain_once()).retry_in_s == pytest.approx(60.0)
        assert [i.state for i in outbox.items] == ["ready"] * 3
    await clock.sleep(30)
    assert (await sender.drain_once()).retry_in_s == pytest.approx(30.0)
    await clock.sleep(30)
    assert (await sender.drain_once()).acknowledged == 3
    assert outbox.acknowledged_order == ["S-1", "S-2", "S-3"]
    # The wall clock is only recorded: the retry time written is the (jumped) wall time.
    assert outbox.items[0].not_before == T0 + timedelta(seconds=60)


async def test_backoff_delays_do_not_follow_the_wall_clock() -> None:
    outbox = MemoryOutbox([small_session("S-1")])
    clock = FakeClock(T0)
    failures: list[Reply] = [HttpReply(500, {}, b"") for _ in range(4)]
    sender = sender_with(ScriptedClient(failures), outbox, clock)
    delays = []
    for n in range(4):
        report = await sender.drain_once(ignore_retry_times=True)
        assert report.retry_in_s is not None
        delays.append(report.retry_in_s)
        clock.jump((-1) ** n * 365 * 86400)
        assert (await sender.drain_once()).retry_in_s == pytest.approx(report.retry_in_s)
    expected = [random.Random(5).random() for _ in range(1)]
    assert delays[0] == pytest.approx(expected[0] * 1.0)
    assert (await sender.drain_once(ignore_retry_times=True)).acknowledged == 1


class BinaryScriptedClient(ScriptedClient):
    """Update-create with documents as Binary: answers each Binary PUT from a script."""

    def __init__(self, binary_script: list[Reply]) -> None:
        super().__init__([])
        self.binary_script = list(binary_script)
        self.binaries: list[str] = []

    async def put_binary(self, binary_id: str, content_type: str, content: bytes) -> HttpReply:
        self.binaries.append(binary_id)
        step = self.binary_script.pop(0) if self.binary_script else None
        if step is None:
            return HttpReply(201, {"Location": f"Binary/{binary_id}/_history/1"}, b"")
        if isinstance(step, BaseException):
            raise step
        if callable(step):
            return step(binary_id.encode())
        return step


def binary_body(rid: str) -> bytes:
    return json.dumps({"resourceType": "Binary", "id": rid, "contentType": "image/png"}).encode()


HOSTILE_BINARY: dict[str, Reply] = {
    "another Binary in the body": HttpReply(201, {}, binary_body(str(uuid.uuid4()))),
    "another Binary in the Location": HttpReply(200, {"Location": "Binary/other-1"}, b""),
    "a Patient of the same id": lambda rid: HttpReply(
        201, {}, json.dumps({"resourceType": "Patient", "id": rid.decode()}).encode()
    ),
    "a 200 naming nothing": HttpReply(200, {}, b""),
    "a 200 that is not JSON": HttpReply(200, {}, b"<html>ok</html>"),
    "a 202 naming it": lambda rid: HttpReply(202, {}, binary_body(rid.decode())),
    "a 503": HttpReply(503, {"Retry-After": "9" * 400}, b""),
    "a timeout": NetworkFailure(NetworkFailureReason.TIMEOUT, "The platform did not answer."),
    "a bug in the client": ValueError("boom"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_BINARY))
async def test_a_hostile_reply_to_a_document_is_no_acknowledgement(case: str) -> None:
    """A 2xx to `PUT Binary/{id}` that does not name that Binary is retried, never taken."""
    from tests.sync.sessions import rich_session

    big = bytes(range(256)) * 8
    outbox = MemoryOutbox([rich_session("S-1", big_document=big), small_session("S-2")])
    client = BinaryScriptedClient([HOSTILE_BINARY[case]])
    sender = Sender(
        outbox,
        client,
        TEST_SITE,
        clock=FakeClock(T0),
        random=random.Random(5).random,
        settings=SenderSettings(
            upload=UploadSettings(strategy="update-create", inline_max_bytes=1024)
        ),
    )
    report = await sender.drain_once()
    assert report.acknowledged == 0 and report.retry_in_s is not None, case
    assert [i.state for i in outbox.items] == ["ready", "ready"]
    assert client.bodies == []  # the bundle never left before its document was stored
    report = await sender.drain_once(ignore_retry_times=True)
    assert report.acknowledged == 2
    assert outbox.acknowledged_order == ["S-1", "S-2"]
    assert len(set(client.binaries)) == 1 and len(client.binaries) == 2  # same id resent
