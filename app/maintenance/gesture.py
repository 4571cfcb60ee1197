"""The discreet way into maintenance: five taps in the welcome screen's empty corner.

Why a gesture and no button: patients must not meet a door they cannot use.
Why five taps within four seconds in one small corner: a patient who taps
around the empty space once or twice, or a child drumming on the screen,
does not open the technician's sign-in; a technician who knows does it in
two seconds. Getting in still takes the technician's own account (argon2id +
TOTP): the gesture only shows the sign-in. Pure: positions and times in,
a verdict out (the Qt filter in `app.ui.maintenance.gesture` feeds it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

TAPS = 5
WITHIN_S = 4.0
CORNER_PX = 160


@dataclass
class CornerTaps:
    """Counts taps inside the corner; any tap outside it, or a pause too long, starts over."""

    taps: int = TAPS
    within_s: float = WITHIN_S
    _times: list[float] = field(default_factory=list)

    def feed(self, inside_corner: bool, at_s: float) -> bool:
        """One press; True when it completes the gesture (the count then starts over)."""
        if not inside_corner:
            self._times.clear()
            return False
        self._times = [t for t in self._times if at_s - t <= self.within_s and t <= at_s]
        self._times.append(at_s)
        if len(self._times) >= self.taps:
            self._times.clear()
            return True
        return False

    def reset(self) -> None:
        self._times.clear()


def in_corner(x: int, y: int, width: int, top: int, *, right_to_left: bool) -> bool:
    """The empty corner at the end of the title line, under the control bar (`top`)."""
    if not top <= y < top + CORNER_PX:
        return False
    return x < CORNER_PX if right_to_left else x >= width - CORNER_PX
