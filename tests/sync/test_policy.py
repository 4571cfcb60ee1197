"""Pure parts of the uplink: decimal JSON, backoff, Retry-After, reply classification,
monitor hysteresis."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.sync.fhir_json import dump_bytes, dumps, loads
from app.sync.monitor import NetworkState, NetworkStateMachine
from app.sync.responses import Acknowledge, Quarantine, Retry, classify
from app.sync.retry_policy import BackoffPolicy, parse_retry_after
from app.sync.upload import Expected

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


# --- decimal JSON ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("36.60"), "36.60"),
        (Decimal("97"), "97"),
        (Decimal("-0.0"), "0.0"),
        (Decimal("1E+2"), "100"),
        (Decimal("0.001"), "0.001"),
    ],
)
def test_decimals_are_written_with_their_digits(value: Decimal, text: str) -> None:
    assert dumps({"v": value}) == '{"v":' + text + "}"


def test_floats_and_non_finite_decimals_are_refused() -> None:
    with pytest.raises(TypeError, match="floats lose precision"):
        dumps({"v": 36.6})
    with pytest.raises(ValueError, match="finite"):
        dumps({"v": Decimal("NaN")})


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.text()
        | st.decimals(allow_nan=False, allow_infinity=False, places=3),
        lambda kids: (
            st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=5), kids, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_json_round_trip_keeps_every_decimal(value: object) -> None:
    text = dumps(value)
    assert json.loads(text, parse_float=Decimal) == json.loads(
        dumps(loads(text)), parse_float=Decimal
    )
    assert dump_bytes(loads(text)) == text.encode("utf-8")


# --- backoff and Retry-After -----------------------------------------------


def test_full_jitter_stays_under_the_exponential_ceiling() -> None:
    policy = BackoffPolicy(base_s=1.0, cap_s=300.0)
    assert [policy.ceiling(n) for n in (1, 2, 3, 9, 10, 50)] == [1.0, 2.0, 4.0, 256.0, 300.0, 300.0]
    assert policy.delay(3, lambda: 0.5) == 2.0
    assert policy.delay(3, lambda: 0.0) == 0.0
    assert policy.delay(10, lambda: 0.999) == pytest.approx(299.7)


def test_retry_after_replaces_the_jitter_within_a_ceiling() -> None:
    policy = BackoffPolicy(max_retry_after_s=3600)
    assert policy.delay(1, lambda: 0.9, retry_after_s=120.0) == 120.0
    assert policy.delay(1, lambda: 0.9, retry_after_s=86400.0) == 3600.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Mon, 23 Nov 2026 12:02:30 GMT", 150.0),
        ("Mon, 23 Nov 2026 11:00:00 GMT", 0.0),  # in the past: now
        ("Monday, 23-Nov-26 12:01:00 GMT", 60.0),  # obsolete RFC 850 form, still HTTP
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
        ("١٢", None),  # non-ASCII digits
    ],
)
def test_retry_after_parses_seconds_and_http_dates(
    header: str | None, seconds: float | None
) -> None:
    assert parse_retry_after(header, NOW) == seconds


@given(st.text(max_size=60))
def test_retry_after_never_raises(header: str) -> None:
    result = parse_retry_after(header, NOW)
    assert result is None or result >= 0.0


# --- classification --------------------------------------------------------

SYS = "urn:telecabine:CAB-T1"
EXPECTED = (
    Expected("Patient", "urn:uuid:p", None, ("identifier", SYS, "CAB-T1/S-1/patient")),
    Expected("Observation", "urn:uuid:o", None, ("identifier", SYS, "CAB-T1/S-1/observation/m1")),
)
PUT_EXPECTED = (
    Expected("Patient", "urn:uuid:p", "p-1", ("identifier", SYS, "CAB-T1/S-1/patient")),
    Expected("Observation", "urn:uuid:o", "o-1", ("identifier", SYS, "CAB-T1/S-1/observation/m1")),
)


def _entry(status: str, rtype: str, rid: str, value: str | None) -> dict[str, object]:
    entry: dict[str, object] = {
        "response": {"status": status, "location": f"{rtype}/{rid}/_history/1"}
    }
    if value is not None:
        entry["resource"] = {
            "resourceType": rtype,
            "id": rid,
            "identifier": [{"system": SYS, "value": value}],
        }
    return entry


def _response(
    statuses: list[str],
    types: tuple[str, ...] = ("Patient", "Observation"),
    values: tuple[str | None, ...] = ("CAB-T1/S-1/patient", "CAB-T1/S-1/observation/m1"),
    ids: tuple[str, ...] = ("x0", "x1"),
    kind: str = "transaction-response",
) -> bytes:
    return json.dumps(
        {
            "resourceType": "Bundle",
            "type": kind,
            "entry": [
                _entry(s, t, i, v) for s, t, i, v in zip(statuses, types, ids, values, strict=False)
            ],
        }
    ).encode()


def test_2xx_naming_every_resource_sent_is_acknowledged_with_its_digest() -> None:
    body = _response(["201 Created", "200 OK"])
    decision = classify(200, {}, body, EXPECTED, NOW)
    assert decision == Acknowledge(
        hashlib.sha256(body).hexdigest(),
        {"urn:uuid:p": "Patient/x0", "urn:uuid:o": "Observation/x1"},
    )
    # update-create: the location must carry the client id the kiosk chose
    put = _response(["201", "200"], values=(None, None), ids=("p-1", "o-1"))
    assert isinstance(classify(200, {}, put, PUT_EXPECTED, NOW), Acknowledge)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"not json", "its body is not JSON (JSONDecodeError)"),
        (b"[" * 100_000 + b"]" * 100_000, "its body is nested too deeply"),
        (b'{"resourceType":"OperationOutcome"}', "its body is not a Bundle"),
        (
            b'{"resourceType":"Bundle","type":"searchset","entry":[]}',
            "the Bundle is not a transaction-response",
        ),
        (_response(["201 Created"]), "the response has 1 entries for 2 sent"),
        (_response(["201 Created", "2019"]), "entry 1 has status unreadable"),
        (_response(["201 Created", "202 Accepted"]), "entry 1 has status 202"),
        (_response(["201 Created", "500 Oops"]), "entry 1 has status 500"),
        (
            _response(["201 Created", "201 Created"], types=("Patient", "Consent")),
            "entry 1 does not name the Observation the kiosk sent",
        ),
        (
            # a replayed reply of another session: right types, other identifiers
            _response(
                ["201 Created", "201 Created"],
                values=("CAB-T1/S-9/patient", "CAB-T1/S-9/observation/m1"),
            ),
            "entry 0 does not name the Patient the kiosk sent",
        ),
        (
            _response(["201 Created", "201 Created"], values=("CAB-T1/S-1/patient", None)),
            "entry 1 does not name the Observation the kiosk sent",
        ),
    ],
)
def test_2xx_without_a_bound_acknowledgement_is_retried(body: bytes, problem: str) -> None:
    assert classify(200, {}, body, EXPECTED, NOW) == Retry(
        f"The platform answered 200 but {problem}."
    )


def test_update_create_location_with_another_id_is_not_an_acknowledgement() -> None:
    body = _response(["200", "200"], values=(None, None), ids=("p-1", "o-2"))
    assert classify(200, {}, body, PUT_EXPECTED, NOW) == Retry(
        "The platform answered 200 but entry 1 does not name the Observation the kiosk sent."
    )


def test_an_entry_refused_inside_a_2xx_quarantines_with_a_value_free_reason() -> None:
    body = json.dumps(
        {
            "resourceType": "Bundle",
            "type": "batch-response",
            "entry": [
                _entry("201", "Patient", "x0", "CAB-T1/S-1/patient"),
                {
                    "response": {
                        "status": "400",
                        "outcome": {
                            "resourceType": "OperationOutcome",
                            "issue": [
                                {
                                    "severity": "error",
                                    "code": "structure",
                                    "details": {"text": 'Invalid additional property "DUPONT"'},
                                    "expression": ["Observation.colour"],
                                },
                                {
                                    "severity": "error",
                                    "code": "invalid",
                                    "diagnostics": "DUPONT Marie 36.6",
                                },
                            ],
                        },
                    }
                },
            ],
        }
    ).encode()
    decision = classify(200, {}, body, EXPECTED, NOW)
    assert decision == Quarantine(
        "The platform refused entry 1 (Observation) of this session with 400 (structure at "
        "Observation.colour: Invalid additional property …; invalid); the entries it accepted "
        "stay stored there and the session is kept here for a technician."
    )
    assert "DUPONT" not in decision.reason and "36" not in decision.reason


@pytest.mark.parametrize("status", ["429", "409 Conflict", "503"])
def test_an_entry_that_may_succeed_later_is_retried(status: str) -> None:
    body = _response(["201", status])
    decision = classify(200, {}, body, EXPECTED, NOW)
    assert isinstance(decision, Retry)


@pytest.mark.parametrize("status", [408, 409, 425, 429, 500, 502, 503, 504])
def test_transient_statuses_are_retried_with_retry_after(status: int) -> None:
    decision = classify(status, {"Retry-After": "30"}, b"", EXPECTED, NOW)
    assert decision == Retry(f"The platform is unavailable or busy (HTTP {status}).", 30.0)


def test_a_huge_retry_after_is_capped_not_an_overflow() -> None:
    decision = classify(503, {"Retry-After": "9" * 400}, b"", EXPECTED, NOW)
    assert isinstance(decision, Retry) and decision.retry_after_s == 1e10
    assert BackoffPolicy().delay(1, lambda: 0.5, decision.retry_after_s) == 3600.0


def test_an_http_date_retry_after_is_measured_from_the_reply_date() -> None:
    # The kiosk's clock is a year ahead: the platform's own Date header is the reference.
    headers = {
        "Retry-After": "Mon, 23 Nov 2026 12:00:30 GMT",
        "Date": "Mon, 23 Nov 2026 12:00:00 GMT",
    }
    decision = classify(503, headers, b"", EXPECTED, NOW + timedelta(days=365))
    assert isinstance(decision, Retry) and decision.retry_after_s == 30.0


@pytest.mark.parametrize("status", [401, 403])
def test_credential_refusals_are_retried_and_flagged(status: int) -> None:
    decision = classify(status, {}, b"", EXPECTED, NOW)
    assert decision == Retry(
        f"The platform refuses this cabin's credentials (HTTP {status}).", None, True
    )


@pytest.mark.parametrize("status", [400, 404, 405, 410, 412, 413, 415, 422])
def test_permanent_refusals_are_quarantined_without_the_diagnostics(status: int) -> None:
    body = json.dumps(
        {
            "resourceType": "OperationOutcome",
            "issue": [
                {"severity": "error", "code": "structure", "diagnostics": "DUPONT Marie 36.6"}
            ],
        }
    ).encode()
    decision = classify(status, {}, body, EXPECTED, NOW)
    assert decision == Quarantine(
        f"The platform refused this session for good with HTTP {status} (structure); "
        "it is kept here until a technician looks at it."
    )
    assert "DUPONT" not in decision.reason


@given(
    st.integers(100, 599),
    st.binary(max_size=200),
    st.dictionaries(st.sampled_from(["Retry-After", "Date", "X"]), st.text(max_size=30)),
)
def test_classify_always_decides(status: int, body: bytes, headers: dict[str, str]) -> None:
    decision = classify(status, headers, body, EXPECTED, NOW)
    assert isinstance(decision, Acknowledge | Retry | Quarantine)
    if isinstance(decision, Acknowledge):
        assert 200 <= status < 300


# --- monitor hysteresis ------------------------------------------------------


def test_two_failures_to_go_offline_one_success_to_come_back() -> None:
    m = NetworkStateMachine()
    t = NOW
    assert m.observe(True, t).online is True  # type: ignore[union-attr]
    assert m.observe(False, t) is None  # one lost check: still online
    assert m.state is NetworkState.ONLINE
    assert m.observe(True, t) is None
    assert m.observe(False, t) is None
    offline = m.observe(False, t + timedelta(seconds=20))
    assert offline is not None and (offline.online, offline.consecutive) == (False, 2)
    assert m.observe(False, t) is None  # no repeated events
    back = m.observe(True, t)
    assert back is not None and back.online


def test_thresholds_below_one_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        NetworkStateMachine(failures_to_offline=0)


@given(st.lists(st.booleans(), max_size=60))
def test_state_machine_events_alternate_and_match_the_state(checks: list[bool]) -> None:
    m = NetworkStateMachine(failures_to_offline=2, successes_to_online=1)
    last: bool | None = None
    run_false = 0
    for ok in checks:
        event = m.observe(ok, NOW)
        run_false = 0 if ok else run_false + 1
        if event is not None:
            assert event.online is not last  # never the same event twice in a row
            last = event.online
        if ok:
            assert m.state is NetworkState.ONLINE
        elif run_false >= 2:
            assert m.state is NetworkState.OFFLINE


async def test_monitor_events_reach_listeners_and_async_iterators() -> None:
    from app.sync.monitor import NetworkMonitor
    from tests.sync.fakes import FakeClock

    answers = iter([True, False, False, True])

    async def probe() -> bool:
        return next(answers)

    monitor = NetworkMonitor(probe, interval_s=10, clock=FakeClock(NOW))
    heard: list[bool] = []
    monitor.add_listener(lambda e: heard.append(e.online))
    stream = monitor.events()  # an async generator: aclose() ends it
    first = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0)
    for _ in range(4):
        await monitor.check()
    assert heard == [True, False, True]
    assert (await first).online is True
    assert (await stream.__anext__()).online is False
    assert monitor.state is NetworkState.ONLINE
    await stream.aclose()


@pytest.mark.parametrize("status", [404, 405, 406, 415])
@pytest.mark.parametrize("body", [b"", b"<html>Not Found</html>", b'{"error": "no route"}'])
def test_an_address_refusal_that_is_not_the_fhir_server_is_retried(
    status: int, body: bytes
) -> None:
    """A wrong base URL or a proxy's page must not quarantine every session in turn."""
    decision = classify(status, {}, body, EXPECTED, NOW)
    assert isinstance(decision, Retry) and f"HTTP {status}" in decision.reason


async def test_a_wrong_address_quarantines_nothing_and_keeps_the_queue() -> None:
    from app.sync.transport import HttpReply
    from tests.sync.fakes import FakeClock, MemoryOutbox
    from tests.sync.sessions import T0, TEST_SITE, small_session

    class NotHere:
        async def post_bundle(self, body: bytes, *, prefer: str | None = None) -> HttpReply:
            return HttpReply(404, {"Content-Type": "text/html"}, b"<html>Not Found</html>")

    from app.sync.sender import Sender

    outbox = MemoryOutbox([small_session(f"S-{i}") for i in range(5)])
    sender = Sender(outbox, NotHere(), TEST_SITE, clock=FakeClock(T0))
    report = await sender.drain_once()
    assert (report.acknowledged, report.quarantined) == (0, 0) and report.retry_in_s is not None
    assert [i.state for i in outbox.items] == ["ready"] * 5


def test_an_entry_matching_several_resources_is_quarantined_not_retried_for_ever() -> None:
    """412 inside a 2xx: a conditional create found several matches; it will not pass."""
    body = _response(["201", "412 Precondition Failed"])
    decision = classify(200, {}, body, EXPECTED, NOW)
    assert isinstance(decision, Quarantine) and "with 412" in decision.reason
