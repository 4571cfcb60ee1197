"""Contrast, sizes: the numbers behind the accessibility promises."""

from __future__ import annotations

import pytest

from app.ui.contrast import ColourError, contrast_ratio, relative_luminance
from app.ui.theme import (
    LARGE_TEXT,
    MIN_BODY_PX,
    MIN_CONTRAST,
    STANDARD_TEXT,
    THEMES,
    ThemeName,
)


def test_luminance_and_contrast_match_wcag_reference_values() -> None:
    assert relative_luminance("#000000") == 0.0
    assert relative_luminance("#FFFFFF") == pytest.approx(1.0)
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#FFFFFF", "#000000") == pytest.approx(21.0)
    # The classic grey that fails AA for body text: 4.48:1.
    assert contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#0A3B7A", "#FFFFFF") == pytest.approx(10.94, abs=0.01)


def test_a_badly_written_colour_is_refused_with_a_sentence() -> None:
    with pytest.raises(ColourError, match=r"The colour 'red' is not written as #rrggbb\."):
        relative_luminance("red")


@pytest.mark.parametrize("name", list(THEMES))
def test_every_pair_of_both_themes_reaches_7_to_1(name: ThemeName) -> None:
    theme = THEMES[name]
    for use, (fg, bg) in theme.pairs().items():
        assert contrast_ratio(fg, bg) >= MIN_CONTRAST, (name, use, fg, bg)


def test_text_sizes_are_at_least_24_px_and_large_text_is_larger() -> None:
    assert STANDARD_TEXT.body_px >= MIN_BODY_PX
    assert LARGE_TEXT.body_px > STANDARD_TEXT.body_px
    assert LARGE_TEXT.title_px > STANDARD_TEXT.title_px
    assert LARGE_TEXT.button_min_h >= STANDARD_TEXT.button_min_h >= 64
