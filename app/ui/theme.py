"""Colours and sizes of the kiosk, and the Qt style sheet built from them.

Why plain data: the accessibility promises (7:1 contrast, 24 px body text,
64 px touch targets) are checked by tests on these values and on the
rendered widgets, so they must be readable without a display. Every
foreground/background pair the screens use is listed in `Theme.pairs()`;
a colour used outside those pairs would escape the contrast test, so the
style sheet below only ever combines colours through those pairs.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

MIN_TOUCH_PX = 64  # about 9 mm on a 24" 1920x1080 cabin screen
MIN_BODY_PX = 24
MIN_CONTRAST = 7.0
SCREEN_SIZE = (1920, 1080)
SCREEN_SIZES = ((1280, 800), (1920, 1080))  # every look is checked unclipped at both
COMPACT_BELOW_PX = 1000  # a screen less tall than this gets the compact text scale
FONT_FAMILIES = ("DejaVu Sans", "Noto Sans Arabic", "Noto Naskh Arabic")


class ThemeName(enum.StrEnum):
    NORMAL = "normal"
    HIGH_CONTRAST = "high-contrast"


@dataclass(frozen=True, slots=True)
class Theme:
    name: ThemeName
    background: str
    text: str
    surface: str  # cards, the control bar
    primary_bg: str  # the main action of a screen
    primary_fg: str
    secondary_bg: str  # other choices
    secondary_fg: str
    border: str
    danger_bg: str  # Stop, emergency
    danger_fg: str
    warning_bg: str  # countdown banner, degraded notices
    warning_fg: str
    focus: str

    def pairs(self) -> dict[str, tuple[str, str]]:
        """Every (foreground, background) pair drawn on screen, by use."""
        return {
            "body": (self.text, self.background),
            "card": (self.text, self.surface),
            "primary": (self.primary_fg, self.primary_bg),
            "secondary": (self.secondary_fg, self.secondary_bg),
            "danger": (self.danger_fg, self.danger_bg),
            "warning": (self.warning_fg, self.warning_bg),
            "title": (self.text, self.background),
        }


NORMAL = Theme(
    name=ThemeName.NORMAL,
    background="#F7F7F2",
    text="#141414",
    surface="#FFFFFF",
    primary_bg="#0A3B7A",
    primary_fg="#FFFFFF",
    secondary_bg="#FFFFFF",
    secondary_fg="#0A3B7A",
    border="#0A3B7A",
    danger_bg="#8A1414",
    danger_fg="#FFFFFF",
    warning_bg="#FFE08A",
    warning_fg="#141414",
    focus="#D35400",
)

HIGH_CONTRAST = Theme(
    name=ThemeName.HIGH_CONTRAST,
    background="#000000",
    text="#FFFFFF",
    surface="#000000",
    primary_bg="#FFFF00",
    primary_fg="#000000",
    secondary_bg="#000000",
    secondary_fg="#FFFFFF",
    border="#FFFFFF",
    danger_bg="#FFB3B3",
    danger_fg="#000000",
    warning_bg="#9BE7FF",
    warning_fg="#000000",
    focus="#00FF00",
)

THEMES: dict[ThemeName, Theme] = {NORMAL.name: NORMAL, HIGH_CONTRAST.name: HIGH_CONTRAST}


@dataclass(frozen=True, slots=True)
class TextScale:
    body_px: int
    title_px: int
    button_px: int
    button_min_h: int
    pictogram_px: int
    bar_button_min_h: int


STANDARD_TEXT = TextScale(
    body_px=28, title_px=44, button_px=28, button_min_h=96, pictogram_px=48, bar_button_min_h=80
)
LARGE_TEXT = TextScale(
    body_px=38, title_px=56, button_px=36, button_min_h=120, pictogram_px=60, bar_button_min_h=96
)
# A 1280x800 screen has 280 px less height than the cabin's 1920x1080: the same pixel sizes
# push a two-line question below the fold (Arabic, large text, first red-flag question).
# Its pixels are also bigger on the usual 13-15" panels, so smaller px read the same size.
# Body text never goes under MIN_BODY_PX, nor a touch target under MIN_TOUCH_PX.
COMPACT_TEXT = TextScale(
    body_px=24, title_px=34, button_px=26, button_min_h=80, pictogram_px=40, bar_button_min_h=72
)
COMPACT_LARGE_TEXT = TextScale(
    body_px=32, title_px=36, button_px=30, button_min_h=84, pictogram_px=48, bar_button_min_h=72
)


@dataclass(frozen=True, slots=True)
class Look:
    """What the patient chose on the welcome screen: colours and text size."""

    theme: Theme = NORMAL
    large_text: bool = False
    screen_height: int = SCREEN_SIZE[1]  # of the screen the window fills (compact below 1000)

    @property
    def compact(self) -> bool:
        return self.screen_height < COMPACT_BELOW_PX

    @property
    def scale(self) -> TextScale:
        if self.compact:
            return COMPACT_LARGE_TEXT if self.large_text else COMPACT_TEXT
        return LARGE_TEXT if self.large_text else STANDARD_TEXT


def style_sheet(look: Look) -> str:
    """The application style sheet; widgets pick their role with `objectName` or `role`."""
    t, s = look.theme, look.scale
    return f"""
QWidget {{
    background-color: {t.background};
    color: {t.text};
    font-size: {s.body_px}px;
}}
QLabel[role="title"] {{ font-size: {s.title_px}px; font-weight: bold; }}
QLabel[role="body"] {{ font-size: {s.body_px}px; }}
QLabel[role="small"] {{ font-size: {max(MIN_BODY_PX, s.body_px - 6)}px; }}
QLabel[role="big-number"] {{ font-size: {s.title_px * 3 // 2}px; font-weight: bold; }}
QFrame[role="card"], QFrame[role="card"] QLabel {{
    background-color: {t.surface};
    color: {t.text};
}}
QFrame[role="card"] {{ border: 3px solid {t.border}; border-radius: 12px; }}
QFrame[role="warning"], QFrame[role="warning"] QLabel {{
    background-color: {t.warning_bg};
    color: {t.warning_fg};
}}
QFrame[role="warning"] {{ border: 3px solid {t.warning_fg}; border-radius: 12px; }}
QFrame[role="bar"] {{ background-color: {t.surface}; border-bottom: 3px solid {t.border}; }}
BigButton {{
    font-size: {s.button_px}px;
    font-weight: bold;
    min-height: {s.button_min_h}px;
    min-width: {max(MIN_TOUCH_PX, s.button_min_h)}px;
    border-radius: 14px;
    padding: 8px 20px;
    background-color: {t.secondary_bg};
    color: {t.secondary_fg};
    border: 4px solid {t.border};
    selection-color: {t.primary_fg};
}}
BigButton[kind="primary"] {{
    background-color: {t.primary_bg}; color: {t.primary_fg}; border: 4px solid {t.primary_bg};
}}
BigButton[kind="danger"] {{
    background-color: {t.danger_bg}; color: {t.danger_fg}; border: 4px solid {t.danger_bg};
}}
BigButton[kind="urgent"] {{
    min-height: {s.bar_button_min_h}px;
    background-color: {t.warning_bg}; color: {t.warning_fg}; border: 4px solid {t.warning_fg};
}}
BigButton[kind="bar"] {{ min-height: {s.bar_button_min_h}px; }}
BigButton[kind="key"] {{ min-height: {MIN_TOUCH_PX + 8}px; min-width: {MIN_TOUCH_PX + 8}px; padding: 0px; }}
BigButton:focus {{ border: 4px solid {t.focus}; }}
BigButton:pressed {{ border: 6px solid {t.focus}; }}
BigButton:checked {{
    background-color: {t.primary_bg}; color: {t.primary_fg}; border: 6px solid {t.focus};
}}
QLineEdit {{
    font-size: {s.body_px}px;
    min-height: {MIN_TOUCH_PX}px;
    background-color: {t.surface};
    color: {t.text};
    border: 3px solid {t.border};
    border-radius: 8px;
    padding: 4px 12px;
}}
QProgressBar {{
    min-height: {MIN_TOUCH_PX // 2}px;
    border: 3px solid {t.border};
    background-color: {t.surface};
    color: {t.text};
    text-align: center;
}}
QProgressBar::chunk {{ background-color: {t.primary_bg}; }}
QScrollArea {{ border: none; }}
QScrollBar:vertical {{
    width: {MIN_TOUCH_PX}px;
    background-color: {t.surface};
    border: 3px solid {t.border};
}}
QScrollBar::handle:vertical {{ background-color: {t.primary_bg}; min-height: {MIN_TOUCH_PX}px; }}
QScrollBar::add-line:vertical, QScrollBar::sub-line:vertical {{ height: 0px; }}
"""
