"""The cuff's pressure and the pulse wave shown while measuring (issue 16), updated in place.

The presenter maps the controller's `SessionView.live` (folded and throttled by
`LiveProgress`); the measurements screen draws it, and a new live value changes
only the number and the wave: the screen is not built anew, so a tap on "Skip"
meanwhile is not lost. The screen is rendered to PNG for a look
(`TELECABINE_SHOTS=dir`).
"""

from __future__ import annotations

import os
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from PySide6.QtWidgets import QApplication, QLabel, QProgressBar

from app.controller.view import LiveMeasure
from app.domain.measurements import MeasurementKind
from app.domain.session_context import State
from app.ui.i18n import Msg
from app.ui.main_window import KioskWindow
from app.ui.presenter import Presenter, Site
from app.ui.views import MeasurementView, MeasureStep
from app.ui.widgets.pleth import PlethWave
from tests.controller.conftest import Kiosk
from vocabulary.devices import DeviceKind


def _wave(n: int, phase: int = 0) -> tuple[int, ...]:
    shape = (20, 35, 70, 95, 80, 55, 45, 50, 40, 30, 22, 20)
    return tuple(shape[(i + phase) % len(shape)] for i in range(n))


def _shot(window: KioskWindow, name: str) -> None:
    where = os.environ.get("TELECABINE_SHOTS")
    if where:
        QApplication.processEvents()
        window.grab().save(str(Path(where) / f"{name}.png"))


def _measuring(device: DeviceKind, **live: object) -> MeasurementView:
    return MeasurementView(device, MeasureStep.MEASURING, 2, 3, **live)  # type: ignore[arg-type]


def test_presenter_maps_the_live_values(kiosk: Kiosk) -> None:
    sv = kiosk.view
    ctx = replace(sv.context, step=State.MEASUREMENTS, language="fr")
    bp = replace(ctx, active_device=MeasurementKind.BLOOD_PRESSURE)
    measuring = replace(sv, state=State.MEASUREMENTS, step=State.MEASUREMENTS, context=bp)
    presenter = Presenter(Site(devices=(DeviceKind.TENSIOMETER,)), kiosk.clock)
    plain = presenter.view_for(measuring)
    assert isinstance(plain, MeasurementView) and plain.cuff is None and plain.pleth == ()
    cuffed = presenter.view_for(replace(measuring, live=LiveMeasure(cuff_pressure=Decimal(142))))
    assert isinstance(cuffed, MeasurementView) and cuffed.cuff is not None
    assert "142" in cuffed.cuff and "Hg" in cuffed.cuff
    oxi = replace(ctx, active_device=MeasurementKind.SPO2)
    oximeter = Presenter(Site(devices=(DeviceKind.OXIMETER,)), kiosk.clock)
    live = LiveMeasure(pleth=_wave(40), finger_present=False)
    view = oximeter.view_for(replace(measuring, context=oxi, live=live))
    assert isinstance(view, MeasurementView)
    assert view.pleth == _wave(40) and view.live_hint == Msg("measure.oximeter.how2")
    fine = oximeter.view_for(
        replace(measuring, context=oxi, live=replace(live, finger_present=True))
    )
    assert isinstance(fine, MeasurementView) and fine.live_hint is None


def test_cuff_pressure_updates_in_place(window: KioskWindow) -> None:
    window.present(_measuring(DeviceKind.TENSIOMETER, cuff="40 mm Hg"))
    builds = window.builds
    cuff = window.current_screen.findChild(QLabel, "cuff")
    assert cuff is not None and "40" in cuff.text()
    for pressure in (80, 120, 160, 150):
        window.present(_measuring(DeviceKind.TENSIOMETER, cuff=f"{pressure} mm Hg"))
        QApplication.processEvents()
    assert window.builds == builds  # four new values, no screen built anew
    assert window.current_screen.findChild(QLabel, "cuff") is cuff and "150" in cuff.text()
    _shot(window, "measure-cuff-live")


def test_pleth_wave_is_drawn_and_updated_in_place(window: KioskWindow) -> None:
    window.present(_measuring(DeviceKind.OXIMETER))
    assert window.current_screen.findChild(QProgressBar) is not None  # no wave yet: the bar
    window.present(_measuring(DeviceKind.OXIMETER, pleth=_wave(120)))
    builds = window.builds
    wave = window.current_screen.findChild(PlethWave)
    assert wave is not None and wave.samples == _wave(120)
    for phase in range(1, 6):
        window.present(_measuring(DeviceKind.OXIMETER, pleth=_wave(300, phase)))
        QApplication.processEvents()
    assert window.builds == builds and window.current_screen.findChild(PlethWave) is wave
    assert wave.samples == _wave(300, 5) and wave.repaints == 6
    image = wave.grab().toImage()
    drawn = {
        image.pixelColor(x, y).name()
        for x in range(0, image.width(), 7)
        for y in range(0, image.height(), 3)
    }
    assert len(drawn) > 1  # a line was painted, not a blank box
    _shot(window, "measure-pleth-live")
    window.present(
        _measuring(DeviceKind.OXIMETER, pleth=_wave(300), live_hint=Msg("measure.oximeter.how2"))
    )
    assert window.builds == builds + 1  # the sentence appears: built anew, once
    hint = window.current_screen.findChild(QLabel, "live-hint")
    assert hint is not None and hint.text()
    _shot(window, "measure-pleth-no-finger")


def test_wave_points_newest_at_the_right_and_clamped() -> None:
    wave = PlethWave((0, 100, 250, -5), span=4)
    assert wave.samples == (0, 100, 100, 0)
    points = wave.points(300.0, 108.0)
    assert [round(p.x()) for p in points] == [0, 100, 200, 300]
    assert [round(p.y()) for p in points] == [104, 4, 4, 104]
