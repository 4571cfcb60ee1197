"""The maintenance screen: one `Screen` that builds whichever page the mode shows.

Why one screen with pages rather than a screen per tool: maintenance is not
part of the patient's way (the flow never sees it), so it is not in the
window's registry of flow screens; the window holds this one screen apart
and puts the welcome screen back when it closes. The pages share the
patients' widgets and theme, so the 64 px targets, the 7:1 colours and the
three languages come with them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from app.ui.i18n import format_quantity
from app.ui.maintenance.pages import (
    ConfigPage,
    DevicesPage,
    FoldersPage,
    HomePage,
    LinesPage,
    LoginPage,
    MediaPage,
    Page,
    PrinterPage,
    RestartPage,
    Said,
    ScanPage,
)
from app.ui.screens.base import KeyboardDock, Screen, Translate
from app.ui.screens.sign_in_form import sign_in_page
from app.ui.views import ScreenId
from app.ui.widgets.keyboard import KeyField, OnScreenKeyboard, bind_fields

if TYPE_CHECKING:  # aiortc/av/numpy: not before the welcome screen (docs/runtime.md)
    from app.call.video import Image

Action = Callable[[], None]


class MaintenanceActions:
    """What the screen's buttons call (the mode sets these); the screen decides nothing."""

    def __init__(self) -> None:
        noop: Action = lambda: None  # noqa: E731 - a placeholder until the mode binds
        self.submit: Callable[[str, str, str], None] = lambda _u, _p, _c: None
        self.cancel = noop
        self.home = noop
        self.devices = noop
        self.test: Callable[[str], None] = lambda _d: None
        self.scan = noop
        self.choose: Callable[[str], None] = lambda _a: None
        self.export_to: Callable[[str], None] = lambda _f: None
        self.resend: Callable[[int], None] = lambda _i: None
        self.pair: Callable[[str], None] = lambda _d: None
        self.bond: Callable[[str, str], None] = lambda _d, _k: None  # device id, passkey
        self.outbox = noop
        self.store = noop
        self.config = noop
        self.about = noop
        self.export = noop
        self.upload = noop
        self.network = noop
        self.ports = noop
        self.readers = noop
        self.printer = noop
        self.printer_test = noop
        self.media = noop
        self.media_test: Callable[[str], None] = lambda _w: None
        self.media_stop = noop
        self.reload = noop
        self.restart = noop
        self.restart_now = noop
        self.leave = noop


class MaintenanceScreen(Screen[Page]):
    # Not a flow screen (never in SCREEN_CLASSES, never named by the flow): the base class
    # reads `screen_id` only to name the widget, renamed below.
    screen_id = ScreenId.WELCOME

    keyboard: OnScreenKeyboard | None = None
    passkey: QLineEdit | None = None
    preview: QLabel | None = None
    mic_level: QProgressBar | None = None

    def __init__(self, translate: Translate, parent: QWidget | None = None) -> None:
        super().__init__(translate, parent)
        self.setObjectName("screen-maintenance")
        self.calls = MaintenanceActions()
        self._dock = KeyboardDock(self.layout(), self._header, self._scroll)
        self._dock.host.hide()

    def clear(self) -> None:
        super().clear()
        self._dock.clear()
        self.keyboard = None
        self.passkey = None
        self.preview = None
        self.mic_level = None

    def say_it(self, said: Said, layout: QVBoxLayout | None = None) -> None:
        self.paragraph(said.msgid, layout=layout, **dict(said.params))

    def build(self, view: Page) -> None:
        if isinstance(view, LoginPage):
            self._login(view)
        elif isinstance(view, HomePage):
            self._home(view)
        elif isinstance(view, DevicesPage):
            self._devices(view)
        elif isinstance(view, ScanPage):
            self._scan(view)
        elif isinstance(view, FoldersPage):
            self._folders(view)
        elif isinstance(view, MediaPage):
            self._media(view)
        elif isinstance(view, ConfigPage):
            self._config(view)
        elif isinstance(view, PrinterPage):
            self._printer(view)
        elif isinstance(view, RestartPage):
            self._restart()
        else:
            self._lines(view)

    # -- pages ----------------------------------------------------------------------

    def _login(self, page: LoginPage) -> None:
        self.title("maint.login.title")
        fields = sign_in_page(
            self,
            self._dock.keys,
            self._dock.host,
            failed=page.failed,
            purpose="maint.login.purpose",
            submit=("login.submit", "lock"),
            on_cancel=lambda: self.calls.cancel(),
            on_submit=lambda u, p, c: self.calls.submit(u, p, c),
        )
        self.username, self.password, self.code = fields.username, fields.password, fields.code
        self.keyboard = fields.keyboard

    def _home(self, page: HomePage) -> None:
        self.title("maint.home.title")
        self.paragraph("maint.home.signed_in", name=page.name)
        a = self.calls
        for row in (
            (
                ("maint.devices", "thermometer", a.devices, "devices"),
                ("maint.scan", "globe", a.scan, "scan"),
            ),
            (
                ("maint.outbox", "send", a.outbox, "outbox"),
                ("maint.store", "lock", a.store, "store"),
            ),
            (
                ("maint.config", "info", a.config, "config"),
                ("maint.about", "clock", a.about, "about"),
            ),
            (
                ("maint.network", "globe", a.network, "network"),
                ("maint.export", "document", a.export, "export"),
            ),
            (
                ("maint.ports", "info", a.ports, "ports"),
                ("maint.readers", "card", a.readers, "readers"),
            ),
            (
                ("maint.media", "mic", a.media, "media"),
                ("maint.upload", "send", a.upload, "upload"),
            ),
            (("maint.printer", "document", a.printer, "printer"),),
        ):
            line = QHBoxLayout()
            line.setSpacing(24)
            for msgid, picture, action, name in row:
                self.button(msgid, picture, action, layout=line, name=name)
            self.body.addLayout(line)
        self.button("maint.leave", "back", a.leave, "primary", name="leave")

    def _devices(self, page: DevicesPage) -> None:
        self.title("maint.devices")
        self.paragraph("maint.devices.hint")
        lang = self.presentation.language
        for entry in page.entries:
            line = QHBoxLayout()
            line.setSpacing(24)
            where = entry.address or "-"
            self.data_line(
                f"{entry.device_id} · {entry.kind} · {entry.backend} · {where}", layout=line
            )
            self.button(
                "maint.test",
                "next",
                partial(self.calls.test, entry.device_id),
                layout=line,
                name=f"test-{entry.device_id}",
                device=entry.device_id,
            )
            self.body.addLayout(line)
        test = page.test
        if test is not None:
            frame, inner = self.card("card" if test.ok else "warning")
            frame.setObjectName("device-test")
            if test.ok:
                self.paragraph("maint.test.ok", layout=inner, device=test.device_id)
            else:
                self.paragraph(
                    "maint.test.failed",
                    layout=inner,
                    device=test.device_id,
                    code=test.failure or "-",
                )
            self.data_line(" → ".join(test.steps) or "-", layout=inner)
            for value in test.values:
                shown = format_quantity(value.value, value.unit, lang)
                self.paragraph("maint.test.value", layout=inner, value=f"{value.quantity}: {shown}")
            if test.ok:
                battery = {
                    "low": "maint.test.battery_low",
                    "ok": "maint.test.battery_ok",
                }.get(test.battery or "", "maint.test.battery_unknown")
                self.paragraph(battery, layout=inner)
        self.button("common.back", "back", self.calls.home, name="back")

    def _scan(self, page: ScanPage) -> None:
        self.title("maint.scan")
        if page.done is not None:
            _frame, inner = self.card("card")
            self.say_it(page.done, layout=inner)
        if not page.found:
            self.paragraph("maint.scan.none")
        for address, name in page.found:
            chosen = address == page.chosen
            self.button(
                f"{name} · {address}",
                "yes" if chosen else "globe",
                partial(self.calls.choose, address),
                layout=self.body,
                name=f"found-{address}",
                raw=True,
            ).setProperty("checked-choice", chosen)
        if page.bonding:
            pass  # "bonding…" is the page's `done` sentence; nothing to tap meanwhile
        elif page.passkey_for is not None:
            self._passkey(page.passkey_for)
        elif page.chosen is not None:
            line = QHBoxLayout()
            line.setSpacing(24)
            for device_id in page.targets:
                self.button(
                    "maint.pair",
                    "next",
                    partial(self.calls.pair, device_id),
                    layout=line,
                    name=f"pair-{device_id}",
                    device=device_id,
                )
            self.body.addLayout(line)
        self.button("common.back", "back", self.calls.home, name="back")
        self.button("maint.scan.again", "globe", self.calls.scan, name="scan-again")

    def _passkey(self, device_id: str) -> None:
        """The passkey the device shows, typed on a digits keyboard; never kept once sent."""
        self.paragraph("maint.bond.passkey", device=device_id)
        field = KeyField()
        field.setObjectName("passkey")
        field.setMaxLength(6)
        field.setAccessibleName(self.say(self.text("maint.bond.passkey_field")))
        self.body.addWidget(field)
        self.passkey = field
        keyboard = OnScreenKeyboard("digits", self.t, self._dock.host)
        keyboard.ensurePolished()
        self._dock.keys.addWidget(keyboard)
        self._dock.keys.addStretch(1)
        bind_fields(keyboard, [field])
        self.keyboard = keyboard
        self._dock.host.show()

        def send() -> None:
            typed = field.text()
            field.clear()
            self.calls.bond(device_id, typed)

        self.button("maint.bond", "lock", send, "primary", name=f"bond-{device_id}")

    def _config(self, page: ConfigPage) -> None:
        self.title("maint.config")
        for said in page.said:
            self.say_it(said)
        line = QHBoxLayout()
        line.setSpacing(24)
        self.button(
            "maint.config.reload", "document", self.calls.reload, layout=line, name="reload"
        )
        self.button("maint.restart", "skip", self.calls.restart, layout=line, name="restart")
        self.body.addLayout(line)
        if page.lines:
            _frame, inner = self.card("card")
            for text in page.lines:
                self.data_line(text, "small", layout=inner)
        self.button("common.back", "back", self.calls.home, name="back")

    def _restart(self) -> None:
        self.title("maint.restart")
        self.paragraph("maint.restart.confirm")
        self.button("common.cancel", "back", self.calls.config, name="cancel")
        self.button(
            "maint.restart.now", "next", self.calls.restart_now, "primary", name="restart-now"
        )

    def _media(self, page: MediaPage) -> None:
        self.title("maint.media")
        self.paragraph("maint.media.privacy")
        if page.running == "camera":
            self.paragraph("maint.media.camera_running")
            self.preview = QLabel()
            self.preview.setObjectName("camera-preview")
            self.preview.setFixedSize(*((400, 300) if self.compact() else (480, 360)))
            self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.preview.setStyleSheet("border: 3px solid palette(window-text);")
            self.body.addWidget(self.preview)
        elif page.running == "microphone":
            self.paragraph("maint.media.mic_running")
            self.mic_level = QProgressBar()
            self.mic_level.setObjectName("mic-level")
            self.mic_level.setRange(0, 100)
            self.mic_level.setTextVisible(False)
            self.mic_level.setMinimumHeight(64)
            self.body.addWidget(self.mic_level)
        elif page.running == "speaker":
            self.paragraph("maint.media.speaker_running")
        for said in page.said:
            _frame, inner = self.card("warning" if said.msgid.endswith("_failed") else "card")
            self.say_it(said, layout=inner)
        if page.running in ("camera", "microphone"):
            self.button("maint.media.stop", "stop", self.calls.media_stop, "primary", name="stop")
            return
        if page.running is None:
            line = QHBoxLayout()
            line.setSpacing(24)
            for msgid, picture, which in (
                ("maint.media.camera", "camera", "camera"),
                ("maint.media.mic", "mic", "microphone"),
                ("maint.media.speaker", "speaker", "speaker"),
            ):
                self.button(
                    msgid,
                    picture,
                    partial(self.calls.media_test, which),
                    layout=line,
                    name=f"media-{which}",
                )
            self.body.addLayout(line)
            self.button("common.back", "back", self.calls.home, name="back")

    def set_preview(self, image: Image) -> None:
        """A camera picture (BGR, as OpenCV gives it), painted and not kept."""
        if self.preview is None:
            return
        height, width = image.shape[:2]
        picture = QImage(image.data, width, height, image.strides[0], QImage.Format.Format_BGR888)
        self.preview.setPixmap(
            QPixmap.fromImage(picture).scaled(
                self.preview.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )

    def set_level(self, level: float) -> None:
        if self.mic_level is not None:
            self.mic_level.setValue(int(max(0.0, min(1.0, level)) * 100))

    def _folders(self, page: FoldersPage) -> None:
        self.title("maint.export")
        self.paragraph("maint.export.choose")
        for index, folder in enumerate(page.folders):
            self.button(
                folder,
                "document",
                partial(self.calls.export_to, folder),
                layout=self.body,
                name=f"folder-{index}",
                raw=True,
            )
        self.button("common.back", "back", self.calls.home, name="back")

    def _printer(self, page: PrinterPage) -> None:
        self.title("maint.printer")
        for said in page.said:
            self.say_it(said)
        if page.lines:  # codes and names: data
            _frame, inner = self.card("card")
            for line in page.lines:
                self.data_line(line, "small", layout=inner)
        if page.can_print:
            self.button(
                "maint.printer.test_page", "document", self.calls.printer_test, name="printer-test"
            )
        self.button("common.back", "back", self.calls.home, name="back")

    def _lines(self, page: LinesPage) -> None:
        self.title(page.title)
        for said in page.said:
            self.say_it(said)
        if page.lines:
            _frame, inner = self.card("card")
            for line in page.lines:
                self.data_line(line, "small", layout=inner)
        for item in page.resend:
            self.button(
                "maint.resend",
                "send",
                partial(self.calls.resend, item),
                layout=self.body,
                name=f"resend-{item}",
                item=item,
            )
        self.button("common.back", "back", self.calls.home, name="back")
