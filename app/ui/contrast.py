"""WCAG 2.x contrast, as a pure function of two colours.

Why our own few lines: the theme is checked at test time against the 7:1
level (WCAG AAA) the brief asks for, and the check must not need a display.
Colours are "#rrggbb" strings so the theme stays plain data.
"""

from __future__ import annotations

import re

_HEX = re.compile(r"^#([0-9a-fA-F]{6})$")


class ColourError(ValueError):
    """A colour that is not written "#rrggbb"."""

    def __init__(self, colour: str) -> None:
        super().__init__(f"The colour {colour!r} is not written as #rrggbb.")
        self.colour = colour


def _channel(value: int) -> float:
    c = value / 255.0
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """Relative luminance (0 = black, 1 = white) as WCAG 2.x defines it."""
    match = _HEX.match(colour)
    if match is None:
        raise ColourError(colour)
    raw = match.group(1)
    r, g, b = (int(raw[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(foreground: str, background: str) -> float:
    """(L1 + 0.05) / (L2 + 0.05) with L1 the lighter; symmetric, 1.0 to 21.0."""
    a = relative_luminance(foreground)
    b = relative_luminance(background)
    light, dark = max(a, b), min(a, b)
    return (light + 0.05) / (dark + 0.05)
