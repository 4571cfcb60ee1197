"""Help that reaches someone, and preparation between patients, end to end on real parts.

The kiosk's help-call client (app/sync/help_call.py) against the reference
platform with enrolled cabins (the cabin token), the counter page a staff
member signs in to and acknowledges from (real HTTP, a cookie), the site's
local webhook (a real HTTP server), the real store and accounts for the
confirmation, and the pure preparation table between two sessions.
"""

from __future__ import annotations

import re
import secrets
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.preparation import Preparation, PreparationRefused, RefusalReason
from app.maintenance.onsite import OnSiteService
from app.maintenance.roles import Role
from app.store import AsyncStore, FileKeySource
from app.sync.help_call import (
    CALLED_SENTENCE,
    OFFLINE_SENTENCE,
    HelpCallClient,
    HelpReason,
    HelpState,
    SilenceWatch,
)
from app.sync.transport import CabinAuth, CabinCredential
from devtools.platform.cabins import Cabin, CabinRegistry
from devtools.platform.onsite import CounterLogin, OnSite, add_onsite_routes
from devtools.platform.signalling import install  # the cabin token's endpoint
from devtools.platform.testing import running_platform
from tests.maintenance.conftest import GOOD_PASSWORD, FakeClock, audit_rows
from tests.maintenance.world import accounts_on, code, enrol

pytestmark = pytest.mark.timeout(120)

CABIN, OTHER = "ONSITE-CAB-01", "ONSITE-CAB-02"


@dataclass
class Bell:
    """The site's local webhook: a real HTTP server that keeps what it was sent."""

    url: str
    received: list[dict[str, object]] = field(default_factory=list)


@dataclass
class World:
    base_url: str
    secret: bytes
    onsite: OnSite
    bell: Bell
    http: aiohttp.ClientSession
    traced: list[tuple[str, str, str]]

    def client(self, *, webhook: bool = True, cabin: str = CABIN) -> HelpCallClient:
        auth = CabinAuth(CabinCredential(cabin, self.secret), self.base_url)
        return HelpCallClient(
            self.base_url,
            cabin,
            session=self.http,
            auth=auth,
            webhook_url=self.bell.url if webhook else None,
            trace=lambda *entry: self.traced.append(entry),
        )


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    # The counter page needs no cabin token: it is among create_app's open paths (its own login).
    secret = secrets.token_bytes(32)
    cabins = CabinRegistry([Cabin(CABIN, secret), Cabin(OTHER, secrets.token_bytes(32))])
    logins = [
        CounterLogin.make("lea.accueil", "comptoir-lea-2026", [CABIN]),
        CounterLogin.make("autre.site", "comptoir-autre-2026", [OTHER]),
    ]
    held: list[OnSite] = []

    def routes(app: web.Application) -> None:
        held.append(add_onsite_routes(app, logins))

    bell_app = web.Application()
    bell = Bell("")

    async def ring(request: web.Request) -> web.Response:
        bell.received.append(await request.json())
        return web.Response(status=204)

    bell_app.router.add_post("/bell", ring)
    runner = web.AppRunner(bell_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    bell.url = f"http://127.0.0.1:{runner.addresses[0][1]}/bell"
    try:
        async with (
            running_platform(tmp_path, cabins=cabins, extensions=(install, routes)) as (url, _h),
            aiohttp.ClientSession() as http,
        ):
            yield World(url, secret, held[0], bell, http, [])
    finally:
        await runner.cleanup()


async def _counter_sign_in(base: str, login: str, password: str) -> aiohttp.ClientSession:
    staff = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    try:
        async with staff.post(
            base + "/counter/login", data={"login": login, "password": password}
        ) as r:
            assert r.status == 200 and "Connecté : " + login in await r.text()
    except BaseException:
        await staff.close()
        raise
    return staff


async def test_two_sessions_help_acknowledged_and_preparation_confirmed(
    world: World, tmp_path: Path
) -> None:
    clock = FakeClock()
    store = await AsyncStore.open(tmp_path / "data", FileKeySource(tmp_path / "data"), clock)
    try:
        accounts = accounts_on(store, clock)
        # An assistant holds confirm-preparation too; an on-site staff account needs the
        # store's schema 6 (tests/maintenance/test_roles_onsite.py covers that role).
        staff_secret = await enrol(accounts, "lea.accueil", Role.ASSISTANT)
        onsite = OnSiteService(accounts, clock=clock)
        client = world.client()
        cabin = Preparation(required=True).session_started()  # the first patient

        call = await client.call(HelpReason.BUTTON)  # the patient pressed Help
        assert call.reached and call.platform and call.local and call.sentence == CALLED_SENTENCE
        assert [b["event"] for b in world.bell.received] == ["help-call"]
        assert await client.state(call) is HelpState.RINGING

        staff = await _counter_sign_in(world.base_url, "lea.accueil", "comptoir-lea-2026")
        try:
            async with staff.get(world.base_url + "/counter") as page:
                text = await page.text()
            assert "🔔" in text and "J'arrive" in text and '<audio src="data:audio/wav' in text
            [ack] = re.findall(r'action="(/counter/ack/[^"]+)"', text)
            async with staff.post(world.base_url + ack) as r:
                assert r.status == 200 and "pris en charge par lea.accueil" in await r.text()
        finally:
            await staff.close()
        assert await client.state(call) is HelpState.ACKNOWLEDGED
        assert await client.state(call) is HelpState.ACKNOWLEDGED  # traced once
        await client.end(call, "helped")

        clock.advance(600)
        cabin = cabin.session_ended(clock())
        with pytest.raises(PreparationRefused) as refused:  # the second patient must wait
            cabin.session_started()
        assert refused.value.reason is RefusalReason.NOT_READY
        clock.advance(120)
        done = await onsite.confirm_preparation(
            "lea.accueil", GOOD_PASSWORD, code(staff_secret, clock), cabin_id=CABIN
        )
        cabin = cabin.confirmed(done.username, done.at)
        assert await client.preparation_confirmed(done.username, done.at)
        cabin = cabin.session_started()  # now the second patient starts
        assert cabin.confirmation is not None and cabin.confirmation.by == "lea.accueil"

        kiosk = [(action, detail) for action, _id, detail in world.traced]
        assert kiosk == [
            ("help.call", "reason=button reached=platform+local"),
            ("help.acknowledged", "by=platform"),
            ("help.ended", "why=helped"),
        ]
        at_platform = [(act, cab) for _at, act, cab, _who in world.onsite.trace if cab != "-"]
        assert at_platform == [
            ("help.call", CABIN),
            ("help.acknowledged", CABIN),
            ("help.ended", CABIN),
            ("preparation.confirmed", CABIN),
        ]
        staff = await _counter_sign_in(world.base_url, "lea.accueil", "comptoir-lea-2026")
        try:
            async with staff.get(world.base_url + "/counter") as page:
                assert f"{CABIN} — prête ({done.at.isoformat()}) — lea.accueil" in await page.text()
        finally:
            await staff.close()
        [record] = world.onsite.preparations
        assert (record.by, record.at) == ("lea.accueil", done.at.isoformat())
        assert [b["event"] for b in world.bell.received] == ["help-call", "help-ended"]
        assert all(
            set(b) == {"event", "cabin_id", "call_id", "reason", "at"} for b in world.bell.received
        )
        rows = await audit_rows(store)
        assert ("lea.accueil", "preparation.confirmed", "ok", CABIN) in {r[:4] for r in rows}
    finally:
        await store.close()


async def test_offline_the_patient_is_told_to_go_to_the_counter(world: World) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gone = HelpCallClient(
        f"http://127.0.0.1:{port}",
        CABIN,
        session=world.http,
        trace=lambda *entry: world.traced.append(entry),
        timeout_s=2,
    )
    call = await gone.call(HelpReason.SILENCE)
    assert not call.reached and call.sentence == OFFLINE_SENTENCE
    assert await gone.state(call) is HelpState.UNREACHABLE
    assert world.traced[-1][0] == "help.call" and world.traced[-1][2].endswith("reached=none")
    # the platform gone but the local bell there: reached, and it rings locally
    local = HelpCallClient(
        f"http://127.0.0.1:{port}", CABIN, session=world.http, webhook_url=world.bell.url
    )
    call = await local.call(HelpReason.BUTTON)
    assert call.reached and call.local and not call.platform
    assert await local.state(call) is HelpState.RINGING


async def test_the_platform_refuses_what_is_not_the_cabins_own(world: World) -> None:
    base = world.base_url
    async with world.http.post(
        base + "/cabin/help", json={"call_id": "a" * 16, "reason": "button"}
    ) as r:
        assert r.status == 401
    call = await world.client().call(HelpReason.BUTTON)
    forged = world.client(cabin=OTHER, webhook=False)  # OTHER's id with CABIN's secret
    assert not (await forged.call(HelpReason.BUTTON)).platform  # the proof fails: no token
    auth = CabinAuth(CabinCredential(CABIN, world.secret), base)
    headers = await auth.headers(world.http)
    for body in ({"call_id": "short", "reason": "button"}, {"call_id": "b" * 16, "reason": "x"}):
        async with world.http.post(base + "/cabin/help", json=body, headers=headers) as r:
            assert r.status == 400
    async with world.http.post(
        base + "/cabin/preparation", json={"by": "Léa", "at": "now"}, headers=headers
    ) as r:
        assert r.status == 400
    async with world.http.get(base + "/cabin/help/" + "c" * 16, headers=headers) as r:
        assert r.status == 404
    # a staff member of another site neither sees nor answers this cabin's call
    staff = await _counter_sign_in(base, "autre.site", "comptoir-autre-2026")
    try:
        async with staff.get(base + "/counter") as page:
            assert call.call_id not in await page.text()
        async with staff.post(f"{base}/counter/ack/{call.call_id}") as r:
            assert r.status == 404
    finally:
        await staff.close()
    async with world.http.post(
        base + "/counter/login", data={"login": "lea.accueil", "password": "wrong"}
    ) as r:
        assert "incorrect" in await r.text()
    async with world.http.post(f"{base}/counter/ack/{call.call_id}") as r:
        assert "Connectez-vous" in await r.text()
    assert world.onsite.calls[call.call_id].state == "ringing"
    assert ("counter.sign-in", "-", "refused") in {t[1:] for t in world.onsite.trace}


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=80),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
BODIES = st.one_of(
    JSONISH,
    st.fixed_dictionaries(
        {"call_id": st.text(max_size=70), "reason": st.sampled_from(["button", "silence", "x"])}
    ),
    st.fixed_dictionaries({"by": st.text(max_size=70), "at": st.text(max_size=40)}),
)


async def test_any_json_body_is_taken_or_refused_never_a_server_error(world: World) -> None:
    """The platform's parsers (help call, preparation) over any JSON: 200/201 or 400."""
    auth = CabinAuth(CabinCredential(CABIN, world.secret), world.base_url)
    headers = await auth.headers(world.http)
    seen: set[int] = set()

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=BODIES, path=st.sampled_from(["/cabin/help", "/cabin/preparation"]))
    def check(body: object, path: str) -> None:
        bodies.append((path, body))

    bodies: list[tuple[str, object]] = []
    check()
    for path, body in bodies:
        async with world.http.post(world.base_url + path, json=body, headers=headers) as r:
            seen.add(r.status)
            assert r.status in (200, 201, 400), (path, body, r.status)
    assert 400 in seen


# -- a long silence on one step calls someone, once per step (pure) ------------------------

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_silence_calls_once_per_step_after_the_set_time() -> None:
    watch = SilenceWatch(90).step_shown("measurements", T0)
    due, watch = watch.due(T0 + timedelta(seconds=89))
    assert not due
    watch = watch.touched(T0 + timedelta(seconds=60))  # a touch restarts the count
    due, watch = watch.due(T0 + timedelta(seconds=149))
    assert not due
    due, watch = watch.due(T0 + timedelta(seconds=150))
    assert due
    due, watch = watch.due(T0 + timedelta(seconds=900))
    assert not due  # once per step
    watch = watch.step_shown("waiting-room", T0 + timedelta(seconds=901))
    due, _ = watch.due(T0 + timedelta(seconds=991))
    assert due
    assert not SilenceWatch(None).step_shown("x", T0).due(T0 + timedelta(days=1))[0]


@settings(max_examples=300, deadline=None)
@given(
    after=st.none() | st.integers(min_value=30, max_value=1800),
    events=st.lists(
        st.tuples(
            st.sampled_from(["step", "touch", "tick"]),
            st.sampled_from(["a", "b"]),
            st.integers(min_value=0, max_value=900),
        ),
        max_size=40,
    ),
)
def test_silence_never_calls_early_twice_on_a_step_or_when_off(
    after: int | None, events: list[tuple[str, str, int]]
) -> None:
    watch, now = SilenceWatch(after), T0
    calls: list[str] = []
    quiet_since: datetime | None = None
    for kind, step, seconds in events:
        now += timedelta(seconds=seconds)
        if kind == "step":
            if step != watch.step:
                calls = [c for c in calls if c != step]  # a new step may call again
            watch, quiet_since = watch.step_shown(step, now), now
        elif kind == "touch":
            watch, quiet_since = watch.touched(now), now
        else:
            due, watch = watch.due(now)
            if due:
                assert after is not None and quiet_since is not None
                assert (now - quiet_since).total_seconds() >= after
                assert watch.step is not None and watch.step not in calls
                calls.append(watch.step)
