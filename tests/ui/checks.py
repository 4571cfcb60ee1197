"""What "accessible" means, as checks on a rendered widget tree."""

from __future__ import annotations

from PySide6.QtCore import QObject, QRect
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

from app.ui.theme import MIN_BODY_PX, MIN_TOUCH_PX
from app.ui.widgets.buttons import BigButton


def of_type[T](value: object, kind: type[T]) -> T:
    """`value`, which the test knows is a `kind` (the view or screen class it expects)."""
    assert isinstance(value, kind), f"{type(value).__name__} is not a {kind.__name__}"
    return value


def child[T: QObject](root: QObject, kind: type[T], name: str) -> T:
    """The child of that class and name; the test fails at once if there is none."""
    found = root.findChild(kind, name)
    assert found is not None, name
    return found


def visible_widgets[W: QWidget](root: QWidget, kind: type[W]) -> list[W]:
    return [w for w in root.findChildren(kind) if w.isVisibleTo(root) and w.isVisible()]


def clipping_problems(root: QWidget) -> list[str]:
    """Labels whose text does not fit their geometry; buttons whose words are cut."""
    problems: list[str] = []
    for lab in visible_widgets(root, QLabel):
        text = lab.text()
        if not text or lab.pixmap() is not None and not lab.pixmap().isNull():
            continue
        rect = lab.contentsRect()
        metrics = QFontMetrics(lab.font())
        if lab.wordWrap():
            need = metrics.boundingRect(QRect(0, 0, rect.width(), 100000), 0x1000, text)
            longest = max((metrics.horizontalAdvance(w) for w in text.split()), default=0)
            if need.height() > rect.height() + 1 or longest > rect.width() + 1:
                problems.append(
                    f"label {text[:40]!r}: needs {need.width()}x{need.height()}, has {rect.width()}x{rect.height()}"
                )
        elif metrics.horizontalAdvance(text) > rect.width() + 1:
            problems.append(
                f"label {text[:40]!r}: one line of {metrics.horizontalAdvance(text)} px in {rect.width()} px"
            )
    for button in visible_widgets(root, BigButton):
        if not button.text_fits():
            problems.append(
                f"button {button.text()[:40]!r} cuts its words at {button.width()}x{button.height()}"
            )
    return problems


def small_targets(root: QWidget) -> list[str]:
    return [
        f"{b.objectName() or b.text()!r} is {b.width()}x{b.height()}"
        for b in visible_widgets(root, QAbstractButton)
        if b.width() < MIN_TOUCH_PX or b.height() < MIN_TOUCH_PX
    ]


def small_text(root: QWidget) -> list[str]:
    out: list[str] = []
    for lab in visible_widgets(root, QLabel):
        px = lab.font().pixelSize()
        if lab.text() and px < MIN_BODY_PX:
            out.append(f"{lab.text()[:30]!r} at {px} px")
    for b in visible_widgets(root, BigButton):
        if b.font().pixelSize() < MIN_BODY_PX:
            out.append(f"button {b.text()[:30]!r} at {b.font().pixelSize()} px")
    return out


def all_texts(root: QWidget) -> list[str]:
    """Every string a person or an assistive tool could read off the tree."""
    from PySide6.QtWidgets import QLineEdit, QTextEdit

    texts: list[str] = []
    for w in root.findChildren(QWidget):
        texts += [w.accessibleName(), w.toolTip(), w.accessibleDescription(), w.windowTitle()]
        if isinstance(w, QLabel | QAbstractButton):
            texts.append(w.text())
        if isinstance(w, QLineEdit):
            texts += [w.text(), w.placeholderText()]
        if isinstance(w, QTextEdit):
            texts.append(w.toPlainText())
    return [t for t in texts if t]
