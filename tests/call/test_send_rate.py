"""The video's send rate from the doctor's reports (app/call/quality.py `SendRate`): properties."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.call.quality import (
    GOOD_FOR_UP,
    QUEUE_RTT_MS,
    RATE_CEILING_BPS,
    RATE_DOWN,
    RATE_FLOOR_BPS,
    START_BPS,
    QualityLevel,
    SendRate,
)

levels = st.sampled_from(list(QualityLevel))
rtts = st.one_of(st.none(), st.floats(min_value=0, max_value=3000))
steps = st.lists(st.tuples(levels, rtts), max_size=80)


@given(steps)
def test_the_rate_stays_within_its_bounds_and_moves_one_step_at_a_time(
    run: list[tuple[QualityLevel, float | None]],
) -> None:
    rate = SendRate()
    before = rate.bps
    for level, rtt in run:
        after = rate.feed(level, rtt)
        assert RATE_FLOOR_BPS <= after <= RATE_CEILING_BPS
        if level is QualityLevel.POOR:
            assert after == max(RATE_FLOOR_BPS, int(before * RATE_DOWN))
        if level is not QualityLevel.GOOD:
            assert after <= before  # only GOOD samples ever raise it
        before = after


@given(st.floats(min_value=5, max_value=800), st.integers(min_value=0, max_value=40))
def test_a_steady_good_line_climbs_to_the_ceiling_whatever_its_length(
    rtt: float, extra: int
) -> None:
    """A long line (300 ms, 800 ms) is not a full queue: the RTT does not grow."""
    rate = SendRate()
    seen = [rate.feed(QualityLevel.GOOD, rtt) for _ in range(GOOD_FOR_UP * 20 + extra)]
    assert seen[-1] == RATE_CEILING_BPS
    assert seen == sorted(seen)


@given(st.floats(min_value=5, max_value=200), st.floats(min_value=50, max_value=150))
def test_a_filling_queue_eases_the_rate_before_any_loss(base: float, growth: float) -> None:
    rate = SendRate()
    for _ in range(5):
        rate.feed(QualityLevel.GOOD, base)
    start = rate.bps
    rtt, eased = base, False
    for _ in range(8):  # the RTT grows every second: the queue fills, nothing is lost yet
        rtt += growth
        eased = eased or rate.feed(QualityLevel.GOOD, rtt) < start
    assert eased
    assert rtt - base > QUEUE_RTT_MS


@given(st.floats(min_value=5, max_value=100), st.floats(min_value=200, max_value=600))
def test_a_line_that_becomes_longer_eases_briefly_then_climbs_again(
    short: float, long: float
) -> None:
    """A 4G hand-over: one jump of the RTT, then steady. At most two eases, then climbing."""
    rate = SendRate()
    for _ in range(4):
        rate.feed(QualityLevel.GOOD, short)
    seen = [rate.feed(QualityLevel.GOOD, long) for _ in range(GOOD_FOR_UP * 6)]
    drops = sum(1 for a, b in zip(seen, seen[1:], strict=False) if b < a)
    assert drops <= 2
    assert seen[-1] > seen[2]


def test_the_start_fits_a_500_kbit_line_with_the_voice() -> None:
    assert SendRate().bps == START_BPS
    assert START_BPS + 100_000 <= 500_000  # the FEC voice is ~80 kbit/s (app/call/encoders.py)
