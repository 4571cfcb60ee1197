"""The impairment relay's rules (devtools/netimpair/core.py), property by property."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devtools.netimpair.core import PROFILES, Drop, Link, NetImpairError, Profile

profiles = st.builds(
    Profile,
    loss=st.sampled_from([0.0, 0.02, 0.1, 0.5]),
    delay_s=st.floats(0, 0.3),
    jitter_s=st.floats(0, 0.05),
    rate_bps=st.one_of(st.none(), st.floats(50_000, 2_000_000)),
    burst_bytes=st.integers(1500, 30_000),
    queue_s=st.floats(0, 0.5),
)
# (gap since the previous packet in s, size in bytes)
packets = st.lists(st.tuples(st.floats(0, 0.05), st.integers(20, 1500)), min_size=1, max_size=300)
cuts = st.lists(st.tuples(st.floats(0, 3), st.floats(0, 2)), max_size=3)


def run(
    profile: Profile, seq: list[tuple[float, int]], cut_list: list[tuple[float, float]], seed: int
) -> list[tuple[float, int, float | Drop]]:
    link = Link(profile, random.Random(seed))
    for start, length in cut_list:
        link.cut(start, length)
    now, out = 0.0, []
    for gap, size in seq:
        now += gap
        out.append((now, size, link.offer(now, size)))
    return out


@settings(max_examples=300, deadline=None)
@given(profiles, packets, cuts, st.integers(0, 2**32))
def test_same_seed_same_fate_for_every_packet(
    profile: Profile, seq: list[tuple[float, int]], cut_list: list[tuple[float, float]], seed: int
) -> None:
    assert run(profile, seq, cut_list, seed) == run(profile, seq, cut_list, seed)


@settings(max_examples=300, deadline=None)
@given(profiles, packets, cuts, st.integers(0, 2**32))
def test_scheduling_rules_hold(
    profile: Profile, seq: list[tuple[float, int]], cut_list: list[tuple[float, float]], seed: int
) -> None:
    out = run(profile, seq, cut_list, seed)

    def in_cut(t: float) -> bool:
        return any(s <= t < s + n for s, n in cut_list)

    delivered = [(t, size, d) for t, size, d in out if not isinstance(d, Drop)]
    for t, _, d in out:
        if in_cut(t):
            assert d is Drop.CUT  # nothing sent during a cut gets through
        if isinstance(d, Drop):
            continue
        assert not in_cut(d)  # nothing is delivered during a cut
        # never earlier than the delay less the jitter allows
        assert d >= t + max(0.0, profile.delay_s - profile.jitter_s) - 1e-9
        if profile.rate_bps is None and profile.jitter_s == 0:
            assert d == pytest.approx(t + profile.delay_s)
    times = [d for _, _, d in delivered]
    assert times == sorted(times)  # first in, first out
    if profile.rate_bps is not None:
        # Queueing: no packet waits longer than the buffer allows, then the delay.
        for t, _, d in delivered:
            assert d <= t + profile.queue_s + profile.delay_s + profile.jitter_s + 1e-6
        if profile.jitter_s == 0:
            # The cap: bytes leaving between two departures fit the bucket plus its refill.
            leave = [(d - profile.delay_s, size) for _, size, d in delivered]
            for i in range(len(leave)):
                total = 0
                for j in range(i, len(leave)):
                    total += leave[j][1]
                    elapsed = leave[j][0] - leave[i][0]
                    assert total <= profile.burst_bytes + elapsed * profile.rate_bps / 8 + 1e-3
    drops = [d for _, _, d in out if isinstance(d, Drop)]
    if profile.loss == 0:
        assert Drop.LOSS not in drops
    if not cut_list:
        assert Drop.CUT not in drops
    if profile.rate_bps is None:
        assert Drop.QUEUE not in drops


@settings(max_examples=100, deadline=None)
@given(
    st.floats(50_000, 300_000),
    st.integers(1500, 5000),
    st.floats(0, 0.3),
    st.lists(st.tuples(st.floats(0, 0.01), st.integers(500, 1500)), min_size=100, max_size=300),
)
def test_an_overloaded_cap_queues_at_most_its_bound_then_drops(
    rate: float, burst: int, queue_s: float, seq: list[tuple[float, int]]
) -> None:
    profile = Profile(rate_bps=rate, burst_bytes=burst, queue_s=queue_s)
    out = run(profile, seq, [], 0)
    for t, _, d in out:
        if not isinstance(d, Drop):
            assert d - t <= queue_s + 1e-9
    offered = sum(size for _, size, _ in out)
    if offered > burst + rate / 8 * (out[-1][0] + queue_s) + 1500:
        assert any(d is Drop.QUEUE for *_, d in out)


@settings(max_examples=50, deadline=None)
@given(st.sampled_from([0.02, 0.05, 0.1, 0.3]), st.integers(0, 2**32))
def test_the_loss_rate_is_the_one_asked(loss: float, seed: int) -> None:
    n = 4000
    out = run(Profile(loss=loss), [(0.001, 1000)] * n, [], seed)
    lost = sum(1 for *_, d in out if d is Drop.LOSS)
    sigma = math.sqrt(n * loss * (1 - loss))
    assert abs(lost - n * loss) < 5 * sigma


def test_a_saturated_cap_delivers_at_the_cap_and_drops_the_excess() -> None:
    # 2 Mbit/s offered for 5 s into a 500 kbit/s cap: about a quarter gets through.
    profile = PROFILES["cap-500k"]
    out = run(profile, [(0.004, 1000)] * 1250, [], 1)
    delivered = [d for *_, d in out if not isinstance(d, Drop)]
    span = delivered[-1] - delivered[0]
    beyond_burst = (len(delivered) * 1000 - profile.burst_bytes) * 8 / span
    assert 0.95 * 500_000 < beyond_burst <= 1.01 * 500_000
    assert sum(1 for *_, d in out if d is Drop.QUEUE) > 800


def test_a_cut_loses_everything_then_the_line_comes_back() -> None:
    link = Link(Profile(delay_s=0.15), random.Random(1))
    link.cut(1.0, 5.0)
    assert link.offer(0.5, 100) == pytest.approx(0.65)
    assert link.offer(0.9, 100) is Drop.CUT  # in flight when the line went down
    assert link.offer(3.0, 100) is Drop.CUT
    assert link.offer(6.0, 100) == pytest.approx(6.15)
    assert link.counters.dropped[Drop.CUT] == 2 and link.counters.delivered == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"loss": 1.5}, "The loss 1.5 is not a fraction between 0 and 1."),
        ({"delay_s": -0.1}, "The delay -0.1 s is negative."),
        ({"rate_bps": 0}, "The bandwidth cap 0 bit/s is not positive."),
        ({"burst_bytes": 100}, "The burst 100 bytes is smaller than one 1500-byte packet."),
    ],
)
def test_impossible_profiles_are_refused_in_a_sentence(
    kwargs: dict[str, float], message: str
) -> None:
    with pytest.raises(NetImpairError) as caught:
        Profile(**kwargs)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_the_benchmark_counts_freezes_over_half_a_second() -> None:
    from tests.call.netimpair_helpers import Sample, first_progress_after, freezes, summarise

    def s(t: float, frames: int, concealed: int = 0) -> Sample:
        return Sample(t, frames, 0, 0, concealed, t * 48_000, 480)

    # frames every 0.1 s, then none from 1.0 to 1.8 (0.8 s), then again; 0.4 s gap is no freeze
    seq = [s(i / 10, i) for i in range(11)] + [s(1.1 + i / 10, 10) for i in range(7)]
    seq += [s(1.8, 11), s(1.9, 12), s(2.3, 12), s(2.4, 13)]
    count, total = freezes(seq)
    assert count == 1 and total == pytest.approx(0.8)
    assert first_progress_after(seq, 1.05, "frames") == pytest.approx(0.75)
    row = summarise(seq)
    assert row["fps"] == pytest.approx(13 / 2.4, abs=0.1) and row["freezes"] == 1
    assert row["audio_continuity_pct"] == 100.0
