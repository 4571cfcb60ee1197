"""Issue 18, part 1: nobody gets in where they do not belong (the reference platform).

Each test plays one attack from the issue against a real aiohttp platform on
loopback with cabins enrolled, and the kiosk's own clients where the kiosk is
the one knocking. Every test here fails on the code before the fix (no
registry, no token endpoint, no lockout, rooms that never expire, RecursionError).
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from app.call import messages as m
from app.call.errors import SignallingUnavailable
from app.call.signalling import WebSocketSignalling
from app.sync.transport import (
    CabinAuth,
    CabinAuthError,
    CabinCredential,
    PlatformClient,
)
from devtools.platform.cabins import (
    PROOF_WINDOW_S,
    TOKEN_TTL_S,
    Cabin,
    CabinAuthRefused,
    CabinRegistry,
    proof_of,
)
from devtools.platform.doctors import DEMO_PASSWORD, LOCKOUT_AFTER, LOCKOUT_BASE_S, LoginGuard
from devtools.platform.insi import install as insi_install
from devtools.platform.signalling import (
    CALL_TURN_TTL_S,
    HUB_KEY,
    ROOM_GRACE_S,
    TurnRest,
    install,
)
from devtools.platform.testing import PlatformHandle, running_platform
from devtools.turn import rest_credential

pytestmark = pytest.mark.timeout(60)

CAB_A, CAB_B = "CAB-TEST-A1", "CAB-TEST-B2"
SECRET_A, SECRET_B = bytes(range(32)), bytes(range(32, 64))
SESSION = "0123456789abcdef0123456789abcdef"


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def registry(clock: Clock) -> CabinRegistry:
    return CabinRegistry(
        [
            Cabin(CAB_A, SECRET_A, frozenset({"dr-martin"})),
            Cabin(CAB_B, SECRET_B, frozenset({"dr-diallo"})),
        ],
        now=clock,
    )


@pytest.fixture
async def enrolled(tmp_path: Path) -> AsyncIterator[tuple[str, PlatformHandle, Clock]]:
    clock = Clock()

    def extension(app: Any) -> None:
        install(app, clock=clock, guard=LoginGuard(now=clock))

    async with running_platform(
        tmp_path, cabins=registry(clock), extensions=(extension, insi_install)
    ) as (base, handle):
        yield base, handle, clock


def auth_for(base: str, clock: Clock, cabin: str = CAB_A, secret: bytes = SECRET_A) -> CabinAuth:
    return CabinAuth(CabinCredential(cabin, secret), base, now=clock)


async def bearer(http: aiohttp.ClientSession, auth: CabinAuth) -> dict[str, str]:
    return await auth.headers(http)


async def login(
    http: aiohttp.ClientSession, base: str, user: str = "dr-martin", password: str = DEMO_PASSWORD
) -> tuple[int, dict[str, Any], dict[str, str]]:
    async with http.post(
        f"{base}/console/api/login", json={"login": user, "password": password}
    ) as r:
        return r.status, await r.json(), dict(r.headers)


async def next_of(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    while True:
        data: dict[str, Any] = json.loads(await ws.receive_str(timeout=5))
        if data["type"] == kind:
            return data


async def doctor_socket(
    http: aiohttp.ClientSession, base: str, user: str = "dr-martin"
) -> aiohttp.ClientWebSocketResponse:
    status, body, _ = await login(http, base, user)
    assert status == 200
    return await http.ws_connect(
        f"{base.replace('http', 'ws')}/signalling/doctor?token={body['token']}"
    )


async def kiosk_socket(
    http: aiohttp.ClientSession,
    base: str,
    headers: dict[str, str],
    *,
    session: str = SESSION,
    cabin: str = CAB_A,
    summary: dict[str, Any] | None = None,
) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
    ws = await http.ws_connect(f"{base.replace('http', 'ws')}/signalling/kiosk", headers=headers)
    await ws.send_str(m.encode(m.Hello(session, cabin, summary or {})))
    first: dict[str, Any] = json.loads(await ws.receive_str(timeout=5))
    return ws, first


# ---- the cabin's token ---------------------------------------------------------------------


def test_a_token_needs_a_fresh_proof_of_the_cabin_secret() -> None:
    clock = Clock()
    cabins = registry(clock)
    good = CabinCredential(CAB_A, SECRET_A).token_request(clock(), nonce="n" * 24)
    token, expires = cabins.issue(good)
    assert cabins.cabin_of(token) == CAB_A and expires == clock() + TOKEN_TTL_S
    with pytest.raises(CabinAuthRefused, match="already used"):
        cabins.issue(good)  # a captured request cannot be replayed
    wrong = CabinCredential(CAB_A, SECRET_B).token_request(clock(), nonce="w" * 24)
    with pytest.raises(CabinAuthRefused, match="could not prove"):
        cabins.issue(wrong)
    stale = CabinCredential(CAB_A, SECRET_A).token_request(clock() - PROOF_WINDOW_S - 1)
    with pytest.raises(CabinAuthRefused, match="too old"):
        cabins.issue(stale)
    unknown = CabinCredential("CAB-NOBODY", SECRET_A).token_request(clock())
    with pytest.raises(CabinAuthRefused, match="could not prove"):
        cabins.issue(unknown)
    with pytest.raises(CabinAuthRefused, match="malformed"):
        cabins.issue({"cabin_id": CAB_A, "issued_at": True, "nonce": "x" * 20, "proof": "00"})
    # The kiosk and the platform compute the same proof.
    assert CabinCredential(CAB_A, SECRET_A).proof(5, "abc") == proof_of(SECRET_A, CAB_A, 5, "abc")


def test_a_token_is_bound_to_its_cabin_and_ends() -> None:
    clock = Clock()
    cabins = registry(clock)
    token, _ = cabins.issue(CabinCredential(CAB_B, SECRET_B).token_request(clock()))
    assert cabins.cabin_of(token) == CAB_B
    head, payload, mac = token.split(".")
    expiry = base64.urlsafe_b64decode(payload + "==").decode().split("|")[1]
    other = f"{CAB_A}|{expiry}".encode()
    forged_payload = base64.urlsafe_b64encode(other).decode().rstrip("=")  # same MAC
    assert cabins.cabin_of(f"{head}.{forged_payload}.{mac}") is None
    assert cabins.cabin_of(f"{head}.{payload}.{mac[:-2]}AA") is None
    assert registry(clock).cabin_of(token) is None  # another platform key
    clock.t += TOKEN_TTL_S + 1
    assert cabins.cabin_of(token) is None
    for junk in ("", "Bearer", "tcab1..", "x" * 600, "tcab1.!!.!!"):
        assert cabins.cabin_of(junk) is None


def test_the_secret_file_must_hold_a_real_secret(tmp_path: Path) -> None:
    short = tmp_path / "short"
    short.write_text("abcd")
    with pytest.raises(CabinAuthError, match="fewer than 32 bytes"):
        CabinCredential.from_file(CAB_A, short)
    with pytest.raises(CabinAuthError, match="cannot be read"):
        CabinCredential.from_file(CAB_A, tmp_path / "missing")
    good = tmp_path / "good"
    good.write_text(SECRET_A.hex() + "\n")
    assert CabinCredential.from_file(CAB_A, good).secret == SECRET_A
    assert SECRET_A.hex() not in repr(CabinCredential.from_file(CAB_A, good))


# ---- every channel refuses an anonymous or wrong kiosk ---------------------------------------


async def test_every_kiosk_channel_refuses_an_anonymous_or_forged_kiosk(
    enrolled: tuple[str, PlatformHandle, Clock],
) -> None:
    base, _, clock = enrolled
    forged = {"Authorization": "Bearer tcab1.Q0FCLVRFU1QtQTF8OTk5OTk5OTk5OQ.AAAA"}
    async with aiohttp.ClientSession() as http:
        for headers in ({}, forged, {"Authorization": "Basic a2lvc2s6cGFzcw=="}):
            async with http.get(f"{base}/signalling/kiosk", headers=headers) as r:
                assert r.status == 401
            async with http.post(f"{base}/", data=b"{}", headers=headers) as r:
                assert r.status == 401
            async with http.get(f"{base}/Patient", headers=headers) as r:
                assert r.status == 401
            async with http.post(f"{base}/v1/metrics", data=b"{}", headers=headers) as r:
                assert r.status == 401
            async with http.post(f"{base}/insi/query", data=b"{}", headers=headers) as r:
                assert r.status == 401
            async with http.get(f"{base}/cabin/documents/{SESSION}/doc-1", headers=headers) as r:
                assert r.status == 401
        good = await bearer(http, auth_for(base, clock))
        async with http.get(f"{base}/Patient", headers=good) as r:
            assert r.status == 200
        async with http.get(f"{base}/health") as r:
            assert r.status == 200  # the health probe stays open
        clock.t += TOKEN_TTL_S + 1  # an old token is refused everywhere
        async with http.get(f"{base}/Patient", headers=good) as r:
            assert r.status == 401
        async with http.get(f"{base}/signalling/kiosk", headers=good) as r:
            assert r.status == 401


async def test_the_kiosk_s_clients_prove_the_cabin_and_renew_their_token(
    enrolled: tuple[str, PlatformHandle, Clock],
) -> None:
    base, handle, clock = enrolled
    auth = auth_for(base, clock)
    signalling = WebSocketSignalling(base, auth=auth)
    try:
        welcome = await signalling.connect(m.Hello(SESSION, CAB_A, {}))
        assert welcome.session_id == SESSION
    finally:
        await signalling.close()
    anonymous = WebSocketSignalling(base)
    with pytest.raises(SignallingUnavailable, match="HTTP 401"):
        await anonymous.connect(m.Hello(SESSION, CAB_A, {}))
    await anonymous.close()
    impostor = WebSocketSignalling(base, auth=auth_for(base, clock, CAB_A, SECRET_B))
    with pytest.raises(SignallingUnavailable, match="refused the cabin"):
        await impostor.connect(m.Hello(SESSION, CAB_A, {}))
    await impostor.close()
    async with aiohttp.ClientSession() as http:
        client = PlatformClient(http, base, auth=auth)
        assert (await client.capabilities()).status == 200
        async with http.get(f"{base}/Patient", headers=await auth.headers(http)) as r:
            assert r.status == 200
        issued = auth.issued
        clock.t += TOKEN_TTL_S - 30  # inside the refresh margin: a new token is asked
        await auth.headers(http)
        assert auth.issued == issued + 1
        auth.invalidate()  # as after a 401: the next request asks again
        reply = await client.post_bundle(b"{}")
        assert reply.status != 401 and auth.issued == issued + 2
        plain = PlatformClient(http, base)
        assert (await plain.post_bundle(b"{}")).status == 401
    assert handle.stats["status_401"] >= 1


# ---- rooms: a session id is not a credential --------------------------------------------------


async def test_a_cabin_cannot_announce_another_cabin_s_session(
    enrolled: tuple[str, PlatformHandle, Clock],
) -> None:
    base, _, clock = enrolled
    async with aiohttp.ClientSession() as http:
        b_headers = await bearer(http, auth_for(base, clock, CAB_B, SECRET_B))
        ws, first = await kiosk_socket(http, base, b_headers, cabin=CAB_A)
        assert (first["type"], first["code"]) == ("error", "wrong-cabin")
        await ws.close()


async def test_a_second_hello_with_a_known_session_id_neither_joins_nor_takes_over(
    enrolled: tuple[str, PlatformHandle, Clock],
) -> None:
    base, _, clock = enrolled
    async with aiohttp.ClientSession() as http:
        a_headers = await bearer(http, auth_for(base, clock))
        b_headers = await bearer(http, auth_for(base, clock, CAB_B, SECRET_B))
        doctor = await doctor_socket(http, base)
        kiosk, first = await kiosk_socket(http, base, a_headers, summary={"age": 40})
        assert first["type"] == "welcome"
        await doctor.send_str(json.dumps({"type": "take", "session_id": SESSION}))
        await next_of(kiosk, "doctor")
        # Another enrolled cabin that learnt the id (every doctor's list shows it).
        thief, answer = await kiosk_socket(http, base, b_headers, cabin=CAB_B)
        assert (answer["type"], answer["code"]) == ("error", "session-taken")
        await thief.close()
        # The real kiosk still has its doctor: nothing was kicked, nothing leaked.
        await doctor.send_str(m.encode(m.Text("Bonjour", sender="doctor")))
        assert (await next_of(kiosk, "text"))["text"] == "Bonjour"
        assert not kiosk.closed
        await kiosk.close()
        await doctor.close()


async def test_without_enrolment_another_cabin_id_cannot_take_a_live_room(tmp_path: Path) -> None:
    """The open test mode checks what it can: the cabin id (enrolment is the real answer)."""
    async with (
        running_platform(tmp_path, extensions=(install,)) as (base, _),
        aiohttp.ClientSession() as http,
    ):
        kiosk, first = await kiosk_socket(http, base, {})
        assert first["type"] == "welcome"
        thief, answer = await kiosk_socket(http, base, {}, cabin="CAB-OTHER")
        assert (answer["type"], answer["code"]) == ("error", "session-taken")
        assert not kiosk.closed
        await kiosk.close()
        await thief.close()


async def test_the_same_cabin_comes_back_to_its_room_after_a_drop(
    enrolled: tuple[str, PlatformHandle, Clock],
) -> None:
    base, _, clock = enrolled
    async with aiohttp.ClientSession() as http:
        headers = await bearer(http, auth_for(base, clock))
        kiosk, _ = await kiosk_socket(http, base, headers)
        again, first = await kiosk_socket(http, base, headers)  # its own reconnection
        assert first["type"] == "welcome"
        await again.close()
        await kiosk.close()


async def test_an_abandoned_room_expires_after_the_grace(
    enrolled: tuple[str, PlatformHandle, Clock],
) -> None:
    base, handle, clock = enrolled
    hub = handle.app[HUB_KEY]
    async with aiohttp.ClientSession() as http:
        headers = await bearer(http, auth_for(base, clock))
        doctor = await doctor_socket(http, base)
        kiosk, _ = await kiosk_socket(http, base, headers, summary={"age": 40})
        assert [p["session_id"] for p in (await next_of(doctor, "waiting"))["patients"]] in (
            [],
            [SESSION],
        )
        await kiosk.close()
        listed = await next_of(doctor, "waiting")
        while listed["patients"] and listed["patients"][0]["status"] != "kiosk-disconnected":
            listed = await next_of(doctor, "waiting")
        assert listed["patients"][0]["session_id"] == SESSION  # within the grace: kept
        clock.t += ROOM_GRACE_S + 1
        assert hub.sweep() == [SESSION]
        assert SESSION not in hub.rooms
        await doctor.send_str(json.dumps({"type": "take", "session_id": SESSION}))
        refused = await next_of(doctor, "error")
        assert refused["code"] == "no-such-patient"
        await doctor.close()


async def test_a_doctor_sees_and_takes_only_the_patients_routed_to_them(
    enrolled: tuple[str, PlatformHandle, Clock],
) -> None:
    base, _, clock = enrolled
    async with aiohttp.ClientSession() as http:
        a_headers = await bearer(http, auth_for(base, clock))
        martin = await doctor_socket(http, base, "dr-martin")
        diallo = await doctor_socket(http, base, "dr-diallo")
        kiosk, _ = await kiosk_socket(http, base, a_headers)  # CAB_A: routed to Dr Martin only
        seen_by_martin = await next_of(martin, "waiting")
        while not seen_by_martin["patients"]:
            seen_by_martin = await next_of(martin, "waiting")
        assert [p["session_id"] for p in seen_by_martin["patients"]] == [SESSION]
        await kiosk.send_str(m.encode(m.SummaryUpdate({"age": 41})))
        await next_of(martin, "waiting")
        seen_by_diallo = await next_of(diallo, "waiting")
        assert seen_by_diallo["patients"] == []
        await diallo.send_str(json.dumps({"type": "take", "session_id": SESSION}))
        assert (await next_of(diallo, "error"))["code"] == "no-such-patient"
        await kiosk.close()
        await martin.close()
        await diallo.close()


# ---- the doctor's side -------------------------------------------------------------------------


async def test_a_deeply_nested_message_gets_a_clean_refusal(
    enrolled: tuple[str, PlatformHandle, Clock], caplog: pytest.LogCaptureFixture
) -> None:
    base, _, clock = enrolled
    deep = "[" * 100_000 + "]" * 100_000
    async with aiohttp.ClientSession() as http:
        doctor = await doctor_socket(http, base)
        with caplog.at_level(logging.ERROR):
            await doctor.send_str(deep)
            refused = await next_of(doctor, "error")
            assert refused["code"] == "too-deep"
            await doctor.send_str('{"type": "take", "session_id": "gone"}')  # still served
            assert (await next_of(doctor, "error"))["code"] == "no-such-patient"
        assert not any("RecursionError" in r.getMessage() or r.exc_info for r in caplog.records)
        headers = await bearer(http, auth_for(base, clock))
        kiosk, _ = await kiosk_socket(http, base, headers)
        await kiosk.send_str('{"type": "text", "x": ' + deep + "}")
        assert (await next_of(kiosk, "error"))["code"] == "not-json"
        await kiosk.close()
        await doctor.close()


async def test_doctor_login_locks_after_repeated_failures_and_traces_every_try(
    enrolled: tuple[str, PlatformHandle, Clock],
) -> None:
    base, handle, clock = enrolled
    hub = handle.app[HUB_KEY]
    async with aiohttp.ClientSession() as http:
        for _ in range(LOCKOUT_AFTER):
            status, _, _ = await login(http, base, password="Password1234")
            assert status == 401
        status, body, headers = await login(http, base)  # the right password, now locked
        assert status == 429 and "Trop d'essais" in body["error"]
        assert int(headers["Retry-After"]) >= LOCKOUT_BASE_S - 1
        status, _, _ = await login(http, base, "dr-diallo")  # another login is not locked
        assert status == 200
        clock.t += LOCKOUT_BASE_S + 1
        status, _, _ = await login(http, base)
        assert status == 200
    outcomes = [(a.login, a.outcome) for a in hub.guard.trace]
    assert outcomes == [("dr-martin", "refused")] * LOCKOUT_AFTER + [
        ("dr-martin", "locked"),
        ("dr-diallo", "accepted"),
        ("dr-martin", "accepted"),
    ]
    assert all(a.address == "127.0.0.1" for a in hub.guard.trace)
    assert "Password1234" not in repr(hub.guard.trace)


async def test_sixty_quick_guesses_are_mostly_refused_unchecked(
    enrolled: tuple[str, PlatformHandle, Clock],
) -> None:
    base, handle, _ = enrolled
    async with aiohttp.ClientSession() as http:
        statuses = [(await login(http, base, password=f"guess{i}"))[0] for i in range(60)]
    assert statuses.count(401) == LOCKOUT_AFTER
    assert statuses.count(429) == 60 - LOCKOUT_AFTER
    assert len(handle.app[HUB_KEY].guard.trace) == 60


async def test_the_ice_configuration_is_for_logged_in_doctors_only(
    enrolled: tuple[str, PlatformHandle, Clock],
) -> None:
    base, _, _ = enrolled
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/console/api/config") as r:
            assert r.status == 401
        _, body, _ = await login(http, base)
        headers = {"Authorization": f"Bearer {body['token']}"}
        async with http.get(f"{base}/console/api/config", headers=headers) as r:
            assert r.status == 200 and "iceServers" in await r.json()


async def test_the_heartbeat_and_the_insi_relay_need_the_cabin_token(
    enrolled: tuple[str, PlatformHandle, Clock],
) -> None:
    from app.sync.heartbeat import OtlpHttpClient
    from app.sync.insi_client import InsiErrorReason, InsiUnavailable, PlatformInsi
    from tests.sync.test_insi_client import Clock as WallClock
    from tests.sync.test_insi_client import card_identity

    base, _, clock = enrolled
    auth = auth_for(base, clock)
    async with aiohttp.ClientSession() as http:
        anonymous = OtlpHttpClient(http, base + "/v1/metrics")
        assert (await anonymous.post_metrics(b"{}")).status == 401
        proven = OtlpHttpClient(http, base + "/v1/metrics", auth=auth)
        assert (await proven.post_metrics(b"{}")).status != 401
    identity = card_identity()
    with pytest.raises(InsiUnavailable) as refused:
        await PlatformInsi(base, clock=WallClock()).query(identity, WallClock().now())
    assert refused.value.reason is InsiErrorReason.CREDENTIALS_REFUSED
    try:
        await PlatformInsi(base, clock=WallClock(), auth=auth).query(identity, WallClock().now())
    except InsiUnavailable as exc:
        assert exc.reason is not InsiErrorReason.CREDENTIALS_REFUSED


async def test_turn_credentials_are_minted_per_call_for_its_cabin_and_doctor_only(
    tmp_path: Path,
) -> None:
    clock = Clock()
    turn = TurnRest(("turn:127.0.0.1:3478?transport=udp",), "shared-with-coturn")

    def extension(app: Any) -> None:
        install(app, clock=clock, turn=turn)

    async with (
        running_platform(tmp_path, cabins=registry(clock), extensions=(extension,)) as (base, _),
        aiohttp.ClientSession() as http,
    ):
        ice_url = f"{base}/cabin/ice/{SESSION}"
        a_headers = await bearer(http, auth_for(base, clock))
        b_headers = await bearer(http, auth_for(base, clock, CAB_B, SECRET_B))
        async with http.get(ice_url, headers=a_headers) as r:
            assert r.status == 401  # no call yet
        doctor = await doctor_socket(http, base)
        kiosk, _ = await kiosk_socket(http, base, a_headers)
        async with http.get(ice_url, headers=a_headers) as r:
            minted = (await r.json())["iceServers"]
        (server,) = minted
        expiry, name = server["username"].split(":", 1)
        who, call_ref = name.split(".")
        assert who == CAB_A and len(call_ref) == 16  # the call's tag, for its end
        # Valid only for the allocation's setup: coturn never checks it again on Refresh.
        assert time.time() < int(expiry) <= time.time() + CALL_TURN_TTL_S + 1
        assert (server["username"], server["credential"]) == rest_credential(
            turn.secret, name, int(expiry)
        )
        for headers in ({}, b_headers):  # anonymous, or another cabin
            async with http.get(ice_url, headers=headers) as r:
                assert r.status == 401
        await doctor.send_str(json.dumps({"type": "take", "session_id": SESSION}))
        patient = await next_of(doctor, "patient")
        names = [s["username"].split(":", 1)[1] for s in patient["iceServers"]]
        assert names == [f"dr-martin.{call_ref}"]  # the same call's tag
        # Each offer the kiosk makes opens a new connection on the page: a fresh credential
        # for it comes first (a reconnection long after the take would find the old over).
        await kiosk.send_str(m.encode(m.Offer("v=0")))
        again = await next_of(doctor, "patient")
        assert [s["username"].split(":", 1)[1] for s in again["iceServers"]] == names
        assert (await next_of(doctor, "offer"))["sdp"] == "v=0"
        await kiosk.send_str(m.encode(m.Bye("patient")))
        await next_of(doctor, "bye")
        async with http.get(ice_url, headers=a_headers) as r:
            assert r.status == 401  # the call is over: nothing more is minted for it
        await kiosk.close()
        await doctor.close()


# ---- the heartbeat speaks only for its own cabin ---------------------------------------------


async def test_a_heartbeat_naming_another_cabin_is_refused_and_nothing_kept(
    enrolled: tuple[str, PlatformHandle, Clock],
) -> None:
    from app.sync.heartbeat import OtlpHttpClient
    from app.sync.otlp_metrics import encode
    from devtools.platform.fleet import FLEET_KEY
    from tests.platform.test_fleet import facts

    base, handle, clock = enrolled
    store = handle.app[FLEET_KEY].store
    async with aiohttp.ClientSession() as http:
        a_client = OtlpHttpClient(http, base + "/v1/metrics", auth=auth_for(base, clock))
        forged = await a_client.post_metrics(encode(facts(CAB_B)))  # CAB_A's token
        assert forged.status == 403
        assert store.get(CAB_B) is None  # nothing of it kept
        both = json.loads(encode(facts(CAB_A)))
        both["resourceMetrics"] += json.loads(encode(facts(CAB_B)))["resourceMetrics"]
        mixed = await a_client.post_metrics(json.dumps(both).encode())
        assert mixed.status == 403 and store.get(CAB_A) is None  # refused whole
        own = await a_client.post_metrics(encode(facts(CAB_A)))
        assert own.status == 200 and store.get(CAB_A) is not None


# ---- the fleet page: the platform's staff login ------------------------------------------------


async def test_the_fleet_page_needs_the_staff_login_with_its_lockout_and_trace(
    enrolled: tuple[str, PlatformHandle, Clock],
) -> None:
    base, handle, clock = enrolled
    hub = handle.app[HUB_KEY]
    jar = aiohttp.CookieJar(unsafe=True)  # cookies from 127.0.0.1
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(f"{base}/fleet") as r:
            assert r.status == 401 and "Mot de passe" in await r.text()  # a login form
            assert "Parc des cabines" in await r.text() and "<table" not in await r.text()
        for forged in ({"Cookie": "tc_staff=forged"}, {"Authorization": "Bearer forged"}):
            async with (
                aiohttp.ClientSession() as stranger,
                stranger.get(f"{base}/fleet", headers=forged) as r,
            ):
                assert r.status == 401
        wrong = {"login": "dr-martin", "password": "Password1234"}
        for _ in range(LOCKOUT_AFTER):
            async with http.post(f"{base}/fleet/login", data=wrong) as r:
                assert r.status == 401 and "incorrect" in await r.text()
        right = {"login": "dr-martin", "password": DEMO_PASSWORD}
        async with http.post(f"{base}/fleet/login", data=right) as r:
            assert r.status == 429 and int(r.headers["Retry-After"]) >= LOCKOUT_BASE_S - 1
        status, _, _ = await login(http, base)  # the console's door is locked as well
        assert status == 429
        clock.t += LOCKOUT_BASE_S + 1
        async with http.post(f"{base}/fleet/login", data=right) as r:
            assert r.status == 200 and r.url.path == "/fleet"  # after the 303
            assert "<table" in await r.text()
        cookie = next(c for c in jar if c.key == "tc_staff")
        assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/fleet"
        _, body, _ = await login(http, base, "dr-diallo")
        async with (
            aiohttp.ClientSession() as other,
            other.get(f"{base}/fleet", headers={"Authorization": f"Bearer {body['token']}"}) as r,
        ):
            assert r.status == 200  # a console token opens it too
    outcomes = [(a.login, a.outcome) for a in hub.guard.trace]
    assert outcomes == [("dr-martin", "refused")] * LOCKOUT_AFTER + [
        ("dr-martin", "locked"),
        ("dr-martin", "locked"),
        ("dr-martin", "accepted"),
        ("dr-diallo", "accepted"),
    ]
    assert "Password1234" not in repr(hub.guard.trace)


async def test_a_platform_without_staff_login_shows_no_fleet(tmp_path: Path) -> None:
    async with (
        running_platform(tmp_path, cabins=registry(Clock())) as (base, _),
        aiohttp.ClientSession() as http,
        http.get(f"{base}/fleet") as r,
    ):
        assert r.status == 403


# ---- a doctor without a valid login, or a login used where it does not belong -------------------


async def test_every_doctor_channel_refuses_a_missing_forged_or_closed_login(
    enrolled: tuple[str, PlatformHandle, Clock],
) -> None:
    base, _, clock = enrolled
    ws_base = base.replace("http", "ws")
    async with aiohttp.ClientSession() as http:
        status, _, _ = await login(http, base, password="not-the-password")
        assert status == 401
        status, body, _ = await login(http, base)
        token = body["token"]
        async with http.post(
            f"{base}/console/api/logout", headers={"Authorization": f"Bearer {token}"}
        ) as r:
            assert r.status == 200
        for bad in ("", "forged", token):  # none, forged, logged out
            async with http.get(f"{ws_base}/signalling/doctor?token={bad}") as r:
                assert r.status == 401
            for path in ("/console/api/config", "/console/api/me", "/fleet"):
                async with http.get(
                    f"{base}{path}", headers={"Authorization": f"Bearer {bad}"}
                ) as r:
                    assert r.status == 401, path
        # A doctor's login is not a cabin's token: no kiosk channel opens with it.
        _, body, _ = await login(http, base, "dr-diallo")
        console = {"Authorization": f"Bearer {body['token']}"}
        async with http.get(f"{base}/signalling/kiosk", headers=console) as r:
            assert r.status == 401
        async with http.get(f"{base}/Patient", headers=console) as r:
            assert r.status == 401
        async with http.get(f"{base}/cabin/ice/{SESSION}", headers=console) as r:
            assert r.status == 401
        # Nor is a cabin's token a doctor's login.
        cabin = await bearer(http, auth_for(base, clock))
        async with http.get(f"{base}/console/api/config", headers=cabin) as r:
            assert r.status == 401
        async with http.get(f"{base}/fleet", headers=cabin) as r:
            assert r.status == 401


async def test_another_cabin_s_valid_token_gets_no_link_to_this_cabin_s_documents(
    enrolled: tuple[str, PlatformHandle, Clock],
) -> None:
    base, handle, clock = enrolled
    async with aiohttp.ClientSession() as http:
        a_headers = await bearer(http, auth_for(base, clock))
        b_headers = await bearer(http, auth_for(base, clock, CAB_B, SECRET_B))
        doctor = await doctor_socket(http, base)
        kiosk, _ = await kiosk_socket(http, base, a_headers)
        await doctor.send_str(json.dumps({"type": "take", "session_id": SESSION}))
        await next_of(kiosk, "doctor")
        sent = m.DocumentMessage(
            "prescription", "Ordonnance", text="Paracétamol", document_id="doc-1"
        )
        await doctor.send_str(m.encode(sent))
        await next_of(kiosk, "document")
        link = f"{base}/cabin/documents/{SESSION}/doc-1"
        async with http.get(link, headers=b_headers) as r:
            assert r.status == 401  # enrolled, valid, but not this session's cabin
        async with http.get(link, headers=a_headers) as r:
            assert r.status == 200 and "/patient/documents/" in (await r.json())["url"]
        await kiosk.close()
        await doctor.close()
