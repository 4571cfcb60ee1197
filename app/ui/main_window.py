"""The kiosk window: the control bar, one screen at a time, and nothing else.

The presenter API the session controller calls (everything else is private):

    window.present(view, presentation=None)   # show a view (app.ui.views)
    window.intents                            # Signal(Intent): what the person asked for
    window.activity                           # Signal(): a touch or a key, for the inactivity timer
    window.incidents                          # Signal(UiIncident): for the trace of the act
    window.wipe()                             # forget the patient (screens, speech files, clipboard)
    window.show_calm_error(exc)               # unexpected error: calm screen, incident, no trace
    window.set_self_frame(QImage) / set_remote_frame(QImage) / set_mic_level(float)
    window.attach_maintenance(service)        # the technician's mode (docs/maintenance.md)
    window.build_remaining_screens()          # after READY: the screens not shown yet, one per turn

Why the window decides nothing: the flow does. It only keeps two things of
its own, both presentation: the help page (it returns to the same view) and
reading aloud (the words on the screen, in the screen's language).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QImage, QKeyEvent, QResizeEvent
from PySide6.QtWidgets import QApplication, QFrame, QStackedWidget, QVBoxLayout, QWidget

from app.ui.drag_scroll import DragScroller
from app.ui.i18n import Catalogues, Msg, is_right_to_left
from app.ui.screens.base import AnyScreen, Screen
from app.ui.screens.registry import SCREEN_CLASS_NAMES, screen_class
from app.ui.speech import Speaker
from app.ui.theme import COMPACT_BELOW_PX, HIGH_CONTRAST, NORMAL, SCREEN_SIZE, Look, style_sheet
from app.ui.views import (
    CallView,
    ErrorView,
    HelpView,
    Intent,
    IntentKind,
    Presentation,
    ScreenId,
    UiIncident,
    View,
    WelcomeView,
)
from app.ui.widgets.control_bar import ControlBar
from app.ui.widgets.text import label

if TYPE_CHECKING:
    # The technician's mode is imported when it is attached (after READY: app/main.py).
    from app.maintenance.onsite import PreparationGate
    from app.maintenance.technician import MaintenanceService
    from app.ui.maintenance.gesture import CornerGesture
    from app.ui.maintenance.mode import MaintenanceMode
    from app.ui.maintenance.pages import Page
    from app.ui.maintenance.screen import MaintenanceScreen
    from app.ui.screens.preparing import PreparingPage, PreparingPanel

# Built with the window: the welcome screen, and the calm error screen (the last resort
# must not depend on importing a module when things are already going wrong).
_BUILT_AT_ONCE = (ScreenId.WELCOME, ScreenId.ERROR)

# Screens on which "Stop" makes no sense: nothing to stop, or stopping is what is asked.
_NO_STOP = frozenset(
    {
        ScreenId.WELCOME,
        ScreenId.TAKE_CARD,
        ScreenId.STOP_CONFIRM,
        ScreenId.ERROR,
        ScreenId.EMERGENCY_EXIT,
        ScreenId.HELP,
    }
)
# "Urgent help" is everywhere except where the numbers to call are already shown.
_NO_URGENT = frozenset({ScreenId.EMERGENCY_EXIT})


def _blocked_key(event: QKeyEvent) -> bool:
    """Keys that would let a patient leave the kiosk or close it."""
    key = event.key()
    mods = event.modifiers()
    alt = bool(mods & Qt.KeyboardModifier.AltModifier)
    ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
    meta = bool(mods & Qt.KeyboardModifier.MetaModifier)
    if key == Qt.Key.Key_Escape:
        return True
    if alt and key in (Qt.Key.Key_F4, Qt.Key.Key_Tab, Qt.Key.Key_Backtab, Qt.Key.Key_Escape):
        return True
    if ctrl and key in (Qt.Key.Key_Q, Qt.Key.Key_W):
        return True
    return meta or key in (Qt.Key.Key_Meta, Qt.Key.Key_Super_L, Qt.Key.Key_Super_R)


class KioskEventFilter(QObject):
    """Swallows escape keys in cabin mode and reports every touch as activity."""

    def __init__(self, window: KioskWindow, cabin_mode: bool) -> None:
        super().__init__(window)
        self._window = window
        self.cabin_mode = cabin_mode
        self.blocked = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride, QEvent.Type.KeyRelease):
            if self.cabin_mode and isinstance(event, QKeyEvent) and _blocked_key(event):
                if kind == QEvent.Type.KeyPress:
                    self.blocked += 1
                event.accept()
                return True
            if kind == QEvent.Type.KeyPress:
                self._window.activity.emit()
        elif kind in (QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin):
            if isinstance(watched, QWidget) and watched.window() is self._window:
                self._window.activity.emit()
        return False


class KioskWindow(QWidget):
    intents = Signal(object)
    activity = Signal()
    incidents = Signal(object)

    def __init__(
        self,
        catalogues: Catalogues,
        *,
        cabin_mode: bool = False,
        speaker: Speaker | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("kiosk-window")
        self.catalogues = catalogues
        self.cabin_mode = cabin_mode
        self.speaker = speaker
        self.presentation = Presentation()
        self.current_view: View = WelcomeView()
        self._before_help: View | None = None
        self.builds = 0  # screens built (a figure for tests and the soak: not once a second)
        self.updates = 0  # views applied in place
        if cabin_mode:
            self.setWindowFlags(Qt.WindowType.FramelessWindowHint | Qt.WindowType.Window)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.bar = ControlBar()
        layout.addWidget(self.bar)
        self.notice = QFrame()
        self.notice.setObjectName("notice")
        self.notice.setProperty("role", "warning")
        notice_layout = QVBoxLayout(self.notice)
        notice_layout.setContentsMargins(32, 12, 32, 12)
        self.notice_text = label("", "body")
        self.notice_text.setObjectName("notice-text")
        notice_layout.addWidget(self.notice_text)
        self.notice.hide()
        layout.addWidget(self.notice)
        self.stack = QStackedWidget()
        layout.addWidget(self.stack, 1)
        # The screens built so far: the others are built the first time they are shown, or
        # one by one in the idle time after READY (`build_remaining_screens`).
        self.screens: dict[ScreenId, AnyScreen] = {}
        for screen_id in _BUILT_AT_ONCE:
            self.screen_for(screen_id)
        self.bar.help.clicked.connect(lambda: self._on_intent(Intent(IntentKind.HELP)))
        self.bar.read_aloud.clicked.connect(lambda: self._on_intent(Intent(IntentKind.READ_ALOUD)))
        self.bar.stop.clicked.connect(lambda: self._on_intent(Intent(IntentKind.STOP)))
        self.bar.urgent.clicked.connect(lambda: self._on_intent(Intent(IntentKind.URGENT_HELP)))
        self.filter = KioskEventFilter(self, cabin_mode)
        self.drag_scroller = DragScroller(self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.filter)
            app.installEventFilter(self.drag_scroller)
        self._maintenance: MaintenanceMode | None = None
        self._make_maintenance: Callable[[], MaintenanceService] | None = None
        self.maintenance_gesture: CornerGesture  # set when the technician's way in is made live
        self._held_view: View | None = None  # the flow's news while maintenance holds the screen
        self.preparing: PreparingPanel | None = None  # "cabin being prepared" (issue 15)
        self._apply_presentation(self.presentation, force=True)
        self.present(WelcomeView())

    # -- screens (built on first use: issue 14, cold start) ------------------------------

    def screen_for(self, screen_id: ScreenId) -> AnyScreen:
        """`screen_id`'s screen, built (and put in the stack) now if it was not yet."""
        built = self.screens.get(screen_id)
        if built is not None:
            return built
        screen = screen_class(screen_id)(self.t)
        screen.intent.connect(self._on_intent)
        if screen_id is ScreenId.HELP:
            screen.on_close = self._close_help  # type: ignore[attr-defined]
        self.screens[screen_id] = screen
        self.stack.addWidget(screen)
        return screen

    def build_remaining_screens(self) -> None:
        """Build the screens not built yet, one per turn of the event loop (after READY).

        So that the patient's first touches find their screens ready, as when every
        screen was built before the window showed, without delaying the welcome screen.
        """
        missing = [s for s in SCREEN_CLASS_NAMES if s not in self.screens]
        if not missing:
            return
        self.screen_for(missing[0])
        if len(missing) > 1:
            QTimer.singleShot(0, self, self.build_remaining_screens)

    # -- maintenance (the technician's mode: entered from welcome only) -----------------

    def attach_maintenance(self, service: MaintenanceService) -> MaintenanceMode:
        """Make the discreet way in live (five taps in the welcome screen's empty corner)."""
        from app.ui.maintenance.mode import MaintenanceMode
        from app.ui.maintenance.screen import MaintenanceScreen

        screen = MaintenanceScreen(self.t)
        self.stack.addWidget(screen)
        mode = MaintenanceMode(
            service,
            screen,
            show=lambda page: self._show_maintenance(screen, page),
            close=self._maintenance_closed,
        )
        self._maintenance = mode
        self._make_maintenance = None
        self._install_maintenance_gesture()
        self.activity.connect(mode.touched)
        self._maintenance_timer = QTimer(self)
        self._maintenance_timer.setInterval(1000)
        self._maintenance_timer.timeout.connect(mode.tick)
        self._maintenance_timer.start()
        return mode

    def attach_maintenance_on_first_use(self, make: Callable[[], MaintenanceService]) -> None:
        """The way in live now; the service, its screen and mode made by `make` when first
        needed (`maintenance`, read by the gesture's fifth tap) or when the kiosk has time
        after READY (app/main.py): the technician's mode costs the welcome screen nothing."""
        self._make_maintenance = make
        self._install_maintenance_gesture()

    @property
    def maintenance(self) -> MaintenanceMode | None:
        """The technician's mode (built now if it was attached for first use), or None."""
        if self._maintenance is None and self._make_maintenance is not None:
            self.attach_maintenance(self._make_maintenance())
        return self._maintenance

    def _install_maintenance_gesture(self) -> None:
        if hasattr(self, "maintenance_gesture"):
            return
        from app.ui.maintenance.gesture import CornerGesture

        def enabled() -> bool:
            mode = self._maintenance
            return isinstance(self.current_view, WelcomeView) and not (
                mode is not None and mode.is_open
            )

        self.maintenance_gesture = CornerGesture(
            self, lambda: self.stack.geometry().top(), enabled, self.open_maintenance
        )
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.maintenance_gesture)

    def open_maintenance(self) -> None:
        """The technician's sign-in, over the welcome screen only."""
        mode = self.maintenance
        if mode is None or mode.is_open or not isinstance(self.current_view, WelcomeView):
            return
        self._held_view = self.current_view
        self.bar.hide()
        self.notice.hide()
        mode.open()

    def _show_maintenance(self, screen: MaintenanceScreen, page: Page) -> None:
        screen.presentation = self.presentation
        screen.show_view(page)
        self.stack.setCurrentWidget(screen)

    def _maintenance_closed(self) -> None:
        self.bar.show()
        self._show_notice(self.presentation.notice)
        view, self._held_view = self._held_view or WelcomeView(), None
        screen = self.screen_for(view.screen)
        screen.view = None  # shown again from the view, whatever it held before
        self.present(view)

    # -- preparation between patients (issue 15; app/ui/screens/preparing.py) -----------

    def attach_preparation(self, gate: PreparationGate) -> PreparingPanel:
        """Show "the cabin is being prepared" instead of welcome while `gate` says so."""
        from app.ui.screens.preparing import PreparingPanel, PreparingScreen

        screen = PreparingScreen(self.t)
        self.stack.addWidget(screen)

        def show(page: PreparingPage) -> None:
            screen.presentation = self.presentation
            screen.show_view(page)
            self.stack.setCurrentWidget(screen)

        def ready() -> None:
            screen.clear()
            self.screen_for(ScreenId.WELCOME).view = None  # built again from the view
            self.present(self.current_view)

        panel = PreparingPanel(gate, screen, show=show, ready=ready)
        self.preparing = panel

        def changed(_readiness: object) -> None:  # a session ended: welcome becomes "preparing"
            if isinstance(self.current_view, WelcomeView):
                self.present(self.current_view)

        gate.on_change = changed
        return panel

    # -- presenter API ------------------------------------------------------------

    def t(self, message: Msg | str, **params: object) -> str:
        return self.catalogues.text(self.presentation.language, message, **params)

    def present(self, view: View, presentation: Presentation | None = None) -> None:
        """Show `view` (and apply `presentation` if given).

        The controller publishes on every change and on its one-second tick, so
        most calls bring the view already shown: those change nothing (a rebuild
        would drop typed text, a selection, the scroll, a press under way and the
        speech). A changed view of the same screen is first offered to the screen
        to update in place (`Screen.apply_view`: a countdown, a chat line); only a new
        screen, a new page or a new language builds the widgets anew. Help is the
        window's own page: while it is open the flow's news for the screen under
        it is kept for when help closes; a new screen from the flow closes help.
        """
        restyled = presentation is not None and presentation != self.presentation
        if presentation is not None:
            self._apply_presentation(presentation)
        if self._maintenance is not None and self._maintenance.is_open:
            self._held_view = view  # shown when the technician leaves
            self.current_view = view
            return
        if (
            self.preparing is not None
            and isinstance(view, WelcomeView)
            and not self.preparing.gate.may_start
        ):
            self.current_view = view  # welcome's news kept; the preparing screen stays up
            if self.stack.currentWidget() is not self.preparing.screen or restyled:
                self.preparing.render(self.preparing.page)
            return
        if isinstance(self.current_view, HelpView) and view.screen is not ScreenId.HELP:
            before = self._before_help
            if before is not None and before.screen is view.screen and not restyled:
                self._before_help = view
                return
        screen = self.screen_for(view.screen)
        held = screen.view
        if held is not None and held.screen is view.screen and not restyled:
            if view == held or screen.apply_view(view):
                self.updates += view != held
                screen.view = view
                self._show(screen, view)
                return
        if self.speaker is not None:
            self.speaker.cancel()
        screen.presentation = self.presentation
        same_kind = held is not None and type(view) is type(held) and not restyled
        kept = screen.keep_state() if same_kind else None
        screen.show_view(view)
        if kept is not None:
            screen.restore_state(kept)
        self.builds += 1
        self._show(screen, view)
        if screen.speak_on_show:
            self._read_aloud()

    def _show(self, screen: AnyScreen, view: View) -> None:
        self.stack.setCurrentWidget(screen)
        if view.screen is not ScreenId.HELP:
            self._before_help = None
            for other in self.screens.values():
                if other is not screen and other.view is not None:
                    other.clear()  # nothing of a screen left behind stays, hidden
        self.current_view = view
        self.bar.stop.setVisible(view.screen not in _NO_STOP)
        self.bar.help.setVisible(view.screen is not ScreenId.HELP)
        self.bar.urgent.setVisible(view.screen not in _NO_URGENT)

    @property
    def current_screen(self) -> AnyScreen:
        widget = self.stack.currentWidget()
        assert isinstance(widget, Screen)
        return widget

    def wipe(self) -> None:
        """Forget everything about the patient that the UI could hold."""
        for screen in self.screens.values():
            screen.clear()
            screen.forget()
        if self.speaker is not None:
            self.speaker.wipe()
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.clear()
        self._before_help = None
        self.current_view = WelcomeView()

    def show_calm_error(self, exc: BaseException | None = None) -> None:
        """An unexpected error: trace it (its type only), show the calm screen."""
        kind = type(exc).__name__ if exc is not None else "unknown"
        self.incidents.emit(UiIncident("ui-error", f"An unexpected error occurred ({kind})."))
        try:
            self.present(ErrorView())
        except Exception:  # noqa: BLE001 - the last resort must not raise again
            self.stack.setCurrentWidget(self.screens[ScreenId.ERROR])  # built with the window

    def set_self_frame(self, image: QImage) -> None:
        screen = self.current_screen
        setter = getattr(screen, "set_self_frame", None) or getattr(screen, "set_frame", None)
        if setter is not None:
            setter(image)

    def set_remote_frame(self, image: QImage) -> None:
        screen = self.current_screen
        if isinstance(self.current_view, CallView) and hasattr(screen, "set_remote_frame"):
            screen.set_remote_frame(image)

    def set_mic_level(self, level: float) -> None:
        setter = getattr(self.current_screen, "set_level", None)
        if setter is not None:
            setter(level)

    # -- cabin behaviour ------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.cabin_mode:
            event.ignore()  # Alt+F4 from a window manager, or anything else: the kiosk stays
            return
        super().closeEvent(event)

    def show_kiosk(self) -> None:
        """Full screen on the primary screen; sets the geometry first (no window manager)."""
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            self.setGeometry(screen.geometry())
        else:
            self.resize(*SCREEN_SIZE)
        self.showFullScreen()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        """Going fullscreen on a 1280x800 screen (or back): restyle and rebuild for it.

        It happens once, when the kiosk takes its screen; the current screen is
        built anew only when the window crosses the compact height, so typed text
        is never dropped by an ordinary resize.
        """
        super().resizeEvent(event)
        compact = self.height() < COMPACT_BELOW_PX
        if compact == getattr(self, "_styled_compact", compact):
            return
        self._apply_presentation(self.presentation, force=True)
        view = self.current_view
        if not isinstance(view, HelpView):
            screen = self.screen_for(view.screen)
            screen.view = None  # not the same any more: built again at the new size
            self.present(view)

    # -- private ------------------------------------------------------------------

    def _apply_presentation(self, p: Presentation, force: bool = False) -> None:
        if p == self.presentation and not force:
            return
        self.presentation = p
        # The window fills its screen: its height picks the text scale (compact under 1000 px).
        look = Look(
            HIGH_CONTRAST if p.high_contrast else NORMAL, p.large_text, screen_height=self.height()
        )
        self._styled_compact = look.compact
        self.setStyleSheet(style_sheet(look))
        self.setLayoutDirection(
            Qt.LayoutDirection.RightToLeft
            if is_right_to_left(p.language)
            else Qt.LayoutDirection.LeftToRight
        )
        self.bar.retranslate(self.t)
        self._show_notice(p.notice)

    def _show_notice(self, notice: str | None) -> None:
        """A calm banner under the bar (e.g. the store is slow): for the patient, never alarming."""
        if notice is None:
            self.notice.hide()
            self.notice_text.setText("")
            self.notice_text.setAccessibleName("")
            return
        words = self.t(f"notice.{notice}")
        self.notice_text.setText(words)
        self.notice_text.setAccessibleName(words)
        self.notice.show()

    def _on_intent(self, intent: object) -> None:
        if not isinstance(intent, Intent):
            return
        if intent.kind is IntentKind.READ_ALOUD:
            self._read_aloud()
        elif intent.kind is IntentKind.HELP:
            if not isinstance(self.current_view, HelpView):
                before = self.current_view
                self.present(HelpView())
                self._before_help = before
        self.intents.emit(intent)

    def _close_help(self) -> None:
        before = self._before_help
        self._before_help = None
        self.present(before if before is not None else WelcomeView())

    def _read_aloud(self) -> None:
        if self.speaker is None:
            return
        text = self.current_screen.spoken_text()
        if self.notice.isVisibleTo(self):
            text = f"{self.notice_text.text()}\n{text}"
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self.incidents.emit(
                UiIncident(
                    "speech-failed", "Reading aloud needs the event loop, which is not running."
                )
            )
            return
        self.speaker.say(text, self.presentation.language)
