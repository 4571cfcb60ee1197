"""The discreet way in: five taps in the corner within four seconds, nothing else."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.maintenance.gesture import CORNER_PX, TAPS, WITHIN_S, CornerTaps, in_corner


def test_five_quick_taps_in_the_corner_open_it() -> None:
    taps = CornerTaps()
    assert [taps.feed(True, t * 0.3) for t in range(TAPS)] == [False] * (TAPS - 1) + [True]
    assert not taps.feed(True, 2.0)  # the count starts over after a success


def test_a_tap_elsewhere_or_a_long_pause_starts_over() -> None:
    taps = CornerTaps()
    for t in range(TAPS - 1):
        taps.feed(True, t * 0.1)
    assert not taps.feed(False, 0.5)
    assert not any(taps.feed(True, 1 + t * 0.1) for t in range(TAPS - 1))
    assert not taps.feed(True, 1 + WITHIN_S + 1)  # the first ones are too old now


@given(st.lists(st.tuples(st.booleans(), st.floats(0, 0.5)), max_size=40))
def test_it_opens_only_after_five_corner_taps_in_a_row_within_the_window(
    presses: list[tuple[bool, float]],
) -> None:
    taps = CornerTaps()
    now = 0.0
    run: list[float] = []
    for inside, gap in presses:
        now += gap
        opened = taps.feed(inside, now)
        run = [t for t in run if now - t <= WITHIN_S] + [now] if inside else []
        assert opened == (len(run) >= TAPS)
        if opened:
            run = []


def test_the_corner_is_at_the_end_of_the_title_line() -> None:
    assert in_corner(1900, 110, 1920, 100, right_to_left=False)
    assert not in_corner(10, 110, 1920, 100, right_to_left=False)
    assert in_corner(10, 110, 1920, 100, right_to_left=True)
    assert not in_corner(1900, 100 + CORNER_PX, 1920, 100, right_to_left=False)
    assert not in_corner(1900, 99, 1920, 100, right_to_left=False)  # the control bar
