"""What every screen shares: a title, a body that reflows, and a row of actions.

Why screens build their widgets from the view: the text is looked up in the
current language at build time (a language change is a rebuild), nothing of
a previous patient survives in a widget that is merely hidden, and the view
is the only input, so a screen cannot drift from what the controller
decided. Everything a screen writes is also collected in `spoken_text()`,
so "read aloud" says exactly what is shown.

Why a build happens only when the view truly changes: a person is using the
widgets. The window does nothing for a view equal to the one shown, offers a
changed view to `apply_view()` first (a countdown, a new chat line: the screen
changes only what changed), and when it must rebuild the same screen it
carries over what the person did there (`keep_state`/`restore_state`: typed
text, cursor, a choice made, the focus), so the flow's news never erase a
person's work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QBoxLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.ui.drag_scroll import touch_scrollable
from app.ui.i18n import Msg
from app.ui.theme import COMPACT_BELOW_PX
from app.ui.views import Intent, IntentKind, Presentation, ScreenId
from app.ui.widgets.buttons import BigButton
from app.ui.widgets.keyboard import dock_keyboard
from app.ui.widgets.text import label


@dataclass(frozen=True, slots=True)
class KeptState:
    """What a person did on a screen, carried over a rebuild of that same screen."""

    texts: Mapping[str, tuple[str, int]] = field(repr=False)  # field name -> (text, cursor)
    checked: Mapping[str, bool]
    focus: str | None


Translate = Callable[..., str]  # t(msg_or_id, **params) -> str in the current language


def clear_layout(layout: QLayout) -> None:
    """Remove and delete every item of a layout, recursively."""
    while layout.count():
        item = layout.takeAt(0)
        if item is None:
            break
        widget = item.widget()
        if widget is not None:
            widget.hide()
            widget.setParent(None)
            widget.deleteLater()
        child = item.layout()
        if child is not None:
            clear_layout(child)


class KeyboardDock:
    """Where a sign-in screen puts its on-screen keyboard: beside the form on a wide screen,
    under it on a small one (`KeyboardArea`), hidden until a field asks for it.

    Why one class: the staff's, the technician's and the professional's sign-in
    screens each took their header and content out of the layout the same way.
    """

    def __init__(self, outer: QLayout | None, header: QLayout, content: QWidget) -> None:
        self.host = QWidget()
        self.keys = QVBoxLayout(self.host)
        self.keys.setContentsMargins(0, 0, 0, 0)
        dock_keyboard(outer, header, content, self.host)

    def clear(self, *, hide: bool = True) -> None:
        clear_layout(self.keys)
        if hide:
            self.host.hide()


class Screen[V](QWidget):
    """Base of the screens; subclasses set `screen_id` and implement `build(view)`.

    `V` is the view dataclass of app.ui.views that the screen presents (each its own).
    """

    screen_id: ClassVar[ScreenId]
    speak_on_show: ClassVar[bool] = False  # read aloud by itself when it appears (take your card)
    intent = Signal(object)

    def __init__(self, translate: Translate, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"screen-{self.screen_id.value}")
        self.t = translate
        self.presentation = Presentation()  # set by the window before each build
        self.view: V | None = None  # the view shown; None once cleared
        self._spoken: list[str] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(48, 24, 48, 24)
        outer.setSpacing(20)
        self._outer = outer
        self._header = QVBoxLayout()
        self._header.setSpacing(8)
        outer.addLayout(self._header)
        self._scroll = QScrollArea(self)
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._body_host = QWidget()
        # The scroll area sizes its widget from the widget's minimum size hint, which for
        # wrapped text is the height at the narrowest width (far taller than needed): the
        # body then scrolled with room to spare. With the vertical policy ignored, the
        # height comes from the layout's height-for-width at the real width, so the body
        # scrolls only when its content truly does not fit.
        self._body_host.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        self.body = QVBoxLayout(self._body_host)
        self.body.setContentsMargins(0, 0, 0, 0)
        self.body.setSpacing(20)
        self._scroll.setWidget(self._body_host)
        touch_scrollable(self._scroll)
        outer.addWidget(self._scroll, 1)
        self.action_row = QHBoxLayout()
        self.action_row.setSpacing(24)
        outer.addLayout(self.action_row)

    # -- lifecycle ----------------------------------------------------------------

    def show_view(self, view: V) -> None:
        self.clear()
        # Under 1000 px of screen height the gaps shrink (the text and the targets do not):
        # 40 px more for the body, what a one-question screen needs at 1280x800.
        dense = self.compact()
        self._outer.setContentsMargins(48, 16 if dense else 24, 48, 16 if dense else 24)
        self._outer.setSpacing(12 if dense else 20)
        self.body.setSpacing(14 if dense else 20)
        self.build(view)
        self.body.addStretch(1)
        self.view = view

    def build(self, view: V) -> None:
        raise NotImplementedError

    def apply_view(self, view: object) -> bool:
        """Apply a changed view of this screen in place; False asks the window to rebuild.

        Screens whose view changes while the person looks at it (a countdown, the
        time waited, a chat line) override this and touch only those widgets.
        """
        del view
        return False

    def keep_state(self) -> KeptState:
        """What the person did here (named fields and choices), before a rebuild."""
        texts = {
            w.objectName(): (w.text(), w.cursorPosition())
            for w in self.findChildren(QLineEdit)
            if w.objectName()
        }
        checked = {
            b.objectName(): b.isChecked()
            for b in self.findChildren(QAbstractButton)
            if b.objectName() and b.isCheckable()
        }
        focused = QApplication.focusWidget()
        name = focused.objectName() if focused is not None and self.isAncestorOf(focused) else ""
        return KeptState(texts, checked, name or None)

    def restore_state(self, kept: KeptState) -> None:
        """Give back typed text, choices and focus to the widgets of the same name."""
        for w in self.findChildren(QLineEdit):
            old = kept.texts.get(w.objectName())
            if old is not None and old[0] and not w.text():
                w.setText(old[0])
                w.setCursorPosition(old[1])
        for b in self.findChildren(QAbstractButton):
            was = kept.checked.get(b.objectName())
            if was is not None and b.isCheckable() and b.isChecked() != was:
                b.setChecked(was)
        if kept.focus:
            target = self.findChild(QWidget, kept.focus)
            if target is not None:
                target.setFocus(Qt.FocusReason.OtherFocusReason)

    def clear(self) -> None:
        """Forget everything shown (the wipe calls this on every screen)."""
        self.view = None
        self._spoken.clear()
        clear_layout(self._header)
        clear_layout(self.body)
        clear_layout(self.action_row)

    def forget(self) -> None:
        """Drop per-session choices held by the screen (the wipe calls this after `clear`)."""

    def spoken_text(self) -> str:
        return "\n".join(part for part in self._spoken if part)

    # -- helpers for subclasses -----------------------------------------------------

    def compact(self) -> bool:
        """Whether the window is on a screen under 1000 px tall (theme.Look.compact).

        Screens that would not fit there otherwise tighten their layout: smaller gaps,
        the "small" text role (never under the body minimum), no decorative pictogram.
        """
        return self.window().height() < COMPACT_BELOW_PX

    def text(self, message: Msg | str, **params: object) -> str:
        return self.t(message, **params)

    def say(self, text: str) -> str:
        self._spoken.append(text)
        return text

    def title(self, message: Msg | str, **params: object) -> QLabel:
        widget = label(self.say(self.text(message, **params)), "title")
        widget.setObjectName("title")
        self._header.addWidget(widget)
        return widget

    def step(self, index: int, total: int) -> QLabel:
        widget = label(self.say(self.text("common.step", index=index, total=total)), "body")
        widget.setObjectName("step")
        self._header.addWidget(widget)
        return widget

    def paragraph(
        self, message: Msg | str, layout: QBoxLayout | None = None, **params: object
    ) -> QLabel:
        widget = label(self.say(self.text(message, **params)), "body")
        (layout or self.body).addWidget(widget)
        return widget

    def data_line(self, text: str, role: str = "body", layout: QBoxLayout | None = None) -> QLabel:
        """A line of patient or site data (already a value, never a message id)."""
        widget = label(self.say(text), role)
        (layout or self.body).addWidget(widget)
        return widget

    def card(self, role: str = "card") -> tuple[QFrame, QVBoxLayout]:
        frame = QFrame()
        frame.setProperty("role", role)
        inner = QVBoxLayout(frame)
        inner.setContentsMargins(24, 16, 24, 16)
        inner.setSpacing(10)
        self.body.addWidget(frame)
        return frame, inner

    def button(
        self,
        message: Msg | str,
        pictogram: str | None,
        intent: Intent | Callable[[], None],
        kind: str = "secondary",
        layout: QBoxLayout | None = None,
        name: str | None = None,
        raw: bool = False,
        **params: object,
    ) -> BigButton:
        """A button; `raw` when `message` is already words (data), not a message id."""
        words = self.say(
            message if raw and isinstance(message, str) else self.text(message, **params)
        )
        widget = BigButton(words, pictogram, kind)
        if name:
            widget.setObjectName(name)
        if isinstance(intent, Intent):
            widget.clicked.connect(lambda _=False, i=intent: self.intent.emit(i))
        else:
            widget.clicked.connect(lambda _=False, f=intent: f())
        (layout if layout is not None else self.action_row).addWidget(widget)
        return widget

    def action(self, kind: IntentKind, value: str | None = None, **data: str) -> Intent:
        return Intent(kind, value, data)

    def yes_no(self, question_id: str, yes_first: bool = True) -> Sequence[BigButton]:
        yes = self.button(
            "common.yes",
            "yes",
            self.action(IntentKind.ANSWER, "yes", question=question_id),
            name="yes",
        )
        no = self.button(
            "common.no",
            "no",
            self.action(IntentKind.ANSWER, "no", question=question_id),
            name="no",
        )
        return (yes, no) if yes_first else (no, yes)


# The window holds one screen per view type and hands each the view of its own
# type (its registry: app.ui.screens.registry); no static type says "the screen
# whose V is this view's type", so the window's mapping is over any V.
type AnyScreen = Screen[Any]
