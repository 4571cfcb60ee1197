"""The quality monitor's rules under hypothesis: cuts, the ladder, the fallback and its end.

Why a model: the rules are small but their interplay (runs that a cut must
not break, a ladder before audio-only, a restore that a long line can reach)
is where the kiosk went wrong on a poor network (docs/call-network.md).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.call.quality import (
    FAIR_RTT_MS,
    GOOD_RTT_MS,
    VIDEO_LADDER,
    QualityLevel,
    QualityMonitor,
    QualitySample,
    VideoRung,
    classify,
)

GOOD = QualitySample(rtt_ms=40, loss=0.0, fps=30)
FAIR_LONG_LINE = QualitySample(rtt_ms=320, loss=0.0, fps=30)  # the rtt-300 line, measured
POOR = QualitySample(rtt_ms=40, loss=0.3, fps=30)

samples = st.builds(
    QualitySample,
    rtt_ms=st.one_of(st.none(), st.floats(0, 2000)),
    loss=st.floats(0, 1),
    fps=st.one_of(st.none(), st.floats(0, 60)),
)
ticks = st.lists(st.one_of(st.none(), samples), max_size=80)


def _state(monitor: QualityMonitor) -> tuple[object, ...]:
    return (monitor.level, monitor.audio_only, monitor.rung)


def test_the_ladder_is_the_issue_s() -> None:
    assert VIDEO_LADDER == (
        VideoRung(640, 480, 30),
        VideoRung(640, 480, 15),
        VideoRung(320, 240, 15),
    )


def test_a_long_line_is_fair_not_good() -> None:
    assert GOOD_RTT_MS < FAIR_LONG_LINE.rtt_ms < FAIR_RTT_MS  # type: ignore[operator]
    assert classify(FAIR_LONG_LINE) is QualityLevel.FAIR


@given(ticks, st.integers(1, 30))
def test_an_interval_without_packets_changes_nothing(
    history: list[QualitySample | None], n: int
) -> None:
    monitor = QualityMonitor()
    for sample in history:
        monitor.feed(sample)
    before = _state(monitor)
    for _ in range(n):
        decision = monitor.feed(None)
        assert not (decision.level_changed or decision.fall_back_to_audio or decision.restore_video)
        assert not (decision.step_down or decision.step_up)
    assert _state(monitor) == before


@given(st.integers(0, 60))
def test_a_silent_cut_alone_never_gives_up_video(seconds: int) -> None:
    monitor = QualityMonitor()
    for _ in range(5):
        monitor.feed(GOOD)
    for _ in range(seconds):
        monitor.feed(None)
    assert (monitor.audio_only, monitor.rung) == (False, 0)


@given(ticks)
def test_audio_only_only_from_the_last_rung_and_the_rung_moves_one_at_a_time(
    history: list[QualitySample | None],
) -> None:
    monitor = QualityMonitor()
    last = len(VIDEO_LADDER) - 1
    for sample in history:
        rung, audio_only = monitor.rung, monitor.audio_only
        decision = monitor.feed(sample)
        assert abs(monitor.rung - rung) <= 1 or (decision.restore_video and monitor.rung == last)
        assert (
            sum(
                (
                    decision.step_down,
                    decision.step_up,
                    decision.fall_back_to_audio,
                    decision.restore_video,
                )
            )
            <= 1
        )
        if decision.fall_back_to_audio:
            assert rung == last and not audio_only and monitor.audio_only
        if decision.restore_video:
            assert audio_only and not monitor.audio_only and monitor.rung == last
        if decision.step_down:
            assert monitor.rung == rung + 1 and not monitor.audio_only
        if decision.step_up:
            assert monitor.rung == rung - 1
        assert 0 <= monitor.rung <= last


@given(st.lists(st.sampled_from([GOOD, FAIR_LONG_LINE]), min_size=10, max_size=10), ticks)
def test_ten_samples_that_are_not_poor_bring_the_video_back(
    tail: list[QualitySample], history: list[QualitySample | None]
) -> None:
    """Even on a line that is never GOOD (RTT above 300 ms): FAIR is enough to see again."""
    monitor = QualityMonitor()
    for sample in history:
        monitor.feed(sample)
    for _ in range(7):
        monitor.feed(POOR)
    assert monitor.audio_only
    decisions = [monitor.feed(sample) for sample in tail]
    assert [d.restore_video for d in decisions] == [False] * 9 + [True]
    assert not monitor.audio_only


@given(ticks)
def test_poor_samples_always_end_in_audio_only_and_cuts_do_not_break_the_run(
    history: list[QualitySample | None],
) -> None:
    monitor = QualityMonitor()
    for sample in history:
        monitor.feed(sample)
    for _ in range(7):
        monitor.feed(POOR)
        monitor.feed(None)
    assert monitor.audio_only


@given(st.integers(1, 2))
def test_ten_good_samples_climb_one_rung(rung: int) -> None:
    monitor = QualityMonitor()
    for _ in range(2 * rung):
        monitor.feed(POOR)
    assert monitor.rung == rung
    decisions = [monitor.feed(GOOD) for _ in range(10)]
    assert [d.step_up for d in decisions] == [False] * 9 + [True]
    assert monitor.rung == rung - 1
    # A long line (FAIR) neither climbs nor falls.
    for _ in range(30):
        assert not any(
            (d := monitor.feed(FAIR_LONG_LINE)).step_up or d.step_down or d.fall_back_to_audio
            for _ in [0]
        )
    assert monitor.rung == rung - 1
