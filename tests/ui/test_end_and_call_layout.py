"""The end screen names each document and gives its QR code; the call screen fits at 1920x1080."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from app.call.documents import DocumentKind
from app.controller.view import PrintStatus, SessionDocument, SessionView
from app.domain.session_context import State
from app.ui.main_window import KioskWindow
from app.ui.presenter import Presenter, PrintDocuments, Site
from app.ui.views import EndView, Intent, IntentKind, Presentation
from tests.controller.conftest import Kiosk
from tests.ui.checks import child
from tests.ui.sample_views import sample_views

URL = "http://127.0.0.1:8780/cabin/documents/{session}/{id}"
PAGE = "http://127.0.0.1:8780/patient/documents/"


def _decode(label: QLabel) -> str:
    image = label.pixmap().toImage().convertToFormat(QImage.Format.Format_Grayscale8)
    raw = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(np.ascontiguousarray(raw[:, : image.width()]))
    return str(text)


def _end_view(presenter: Presenter, sv: SessionView) -> EndView:
    """The presenter's view of an END state, which is an EndView."""
    view = presenter.view_for(sv)
    assert isinstance(view, EndView)
    return view


def test_the_end_view_names_each_document_and_where_to_fetch_it(kiosk: Kiosk) -> None:
    """The documents come in the controller's view (kind, title, the platform's link)."""
    presenter = Presenter(Site(document_url=URL), kiosk.clock)
    ctx = replace(
        kiosk.view.context,
        session_id="s1",
        documents=("doc-7", "doc-8", "doc-9"),
        call_started_at=kiosk.clock.now(),
        call_ended_at=kiosk.clock.now(),
        card_present=True,
    )
    delivered = (
        SessionDocument("doc-7", DocumentKind.PRESCRIPTION, "Paracétamol 1 g", PAGE + "t-7"),
        SessionDocument("doc-8", DocumentKind.REPORT, "Compte rendu de téléconsultation"),
    )
    sv = replace(kiosk.view, context=ctx, state=State.END, documents=delivered)
    view = presenter.view_for(sv)
    assert isinstance(view, EndView)
    assert [(d.kind.id, d.title, d.url) for d in view.documents] == [
        ("end.document.prescription", "Paracétamol 1 g", PAGE + "t-7"),
        ("end.document.report", "Compte rendu de téléconsultation", None),  # no link came back
        ("end.document.other", "", None),  # the call never described it
    ]
    assert (view.payment.id, view.card_inserted, view.print_note) == (
        "end.payment.after",
        True,
        None,
    )
    assert presenter.actions_for(Intent(IntentKind.PRINT), sv) == [PrintDocuments()]
    note = _end_view(presenter, sv).print_note
    assert note is not None
    assert note.id == "end.print.none"
    unlinked = Presenter(Site(document_url=URL), kiosk.clock)  # no link came back: no QR
    no_links = replace(sv, documents=tuple(replace(d, link=None) for d in delivered))
    assert [d.url for d in _end_view(unlinked, no_links).documents] == [None, None, None]
    without = Presenter(Site(), kiosk.clock)  # no platform page: no QR, and Print says so
    without.actions_for(Intent(IntentKind.PRINT), sv)
    view = _end_view(without, sv)
    assert [d.url for d in view.documents] == [None, None, None]
    assert view.print_note is not None
    assert view.print_note.id == "end.print.none_no_qr"


def test_the_print_note_follows_the_controller_s_print_status(kiosk: Kiosk) -> None:
    """Printing, printed, or why not — with the QR codes as the way when they are there."""
    ctx = replace(kiosk.view.context, session_id="s1", documents=("doc-7",))
    linked = (SessionDocument("doc-7", DocumentKind.PRESCRIPTION, "Ordonnance", PAGE + "t-7"),)
    expected = {
        PrintStatus.NO_PRINTER: ("end.print.none", "end.print.none_no_qr"),
        PrintStatus.PRINTING: ("end.print.printing", "end.print.printing"),
        PrintStatus.PRINTED: ("end.print.printed", "end.print.printed"),
        PrintStatus.OUT_OF_PAPER: ("end.print.out_of_paper", "end.print.out_of_paper_no_qr"),
        PrintStatus.OFFLINE: ("end.print.offline", "end.print.offline_no_qr"),
        PrintStatus.FAILED: ("end.print.failed", "end.print.failed_no_qr"),
    }
    assert set(expected) == set(PrintStatus)
    for status, (with_qr, without_qr) in expected.items():
        for site, words in ((Site(document_url=URL), with_qr), (Site(), without_qr)):
            sv = replace(
                kiosk.view, context=ctx, state=State.END, documents=linked, printing=status
            )
            note = _end_view(Presenter(site, kiosk.clock), sv).print_note
            assert note is not None and note.id == words


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_the_end_screen_shows_kind_title_and_a_qr_that_scans(
    window: KioskWindow, lang: str
) -> None:
    window.present(sample_views()["end"], Presentation(lang))
    QApplication.processEvents()
    screen = window.current_screen
    kinds = [w.text() for w in screen.findChildren(QLabel, "document-kind")]
    titles = [w.text() for w in screen.findChildren(QLabel, "document-title")]
    expected = {"fr": ["Ordonnance", "Compte rendu"], "ar": ["وصفة طبية", "تقرير طبي"]}[lang]
    assert kinds == expected
    assert titles == ["Ordonnance : paracétamol et repos", "Compte rendu de téléconsultation"]
    codes = screen.findChildren(QLabel, "document-qr")
    assert [_decode(c) for c in codes] == [
        "http://127.0.0.1:8780/patient/documents/doc-0001",
        "http://127.0.0.1:8780/patient/documents/doc-0002",
    ]
    note = child(screen, QLabel, "print-note").text()
    assert note == window.t("end.print.none")
    assert child(screen, QLabel, "take-card").isVisible()
    assert screen._scroll.verticalScrollBar().maximum() == 0  # nothing below the fold


def _inside(window: QWidget, widget: QWidget) -> bool:
    top_left = widget.mapTo(window, QPoint(0, 0))
    return window.rect().contains(QRect(top_left, widget.size()))


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
@pytest.mark.parametrize("large", [False, True])
def test_the_call_fits_without_scrolling(window: KioskWindow, lang: str, large: bool) -> None:
    window.present(sample_views()["call"], Presentation(lang, large, large))
    QApplication.processEvents()
    screen = window.current_screen
    assert screen._scroll.verticalScrollBar().maximum() == 0
    for name in ("remote-video", "self-view", "doctor-name", "doctor-rpps", "patient-text", "send"):
        found = screen.findChild(QWidget, name)
        assert found is not None and found.isVisible(), name
        assert _inside(window, found), name
    video, me = child(screen, QWidget, "remote-video"), child(screen, QWidget, "self-view")
    assert (video.width(), video.height()) == (800, 450)
    assert video.rect().contains(me.geometry())  # the self view sits inside the video's frame
    lines = screen.findChildren(QLabel, "chat-line")
    assert len(lines) == 2 and all(line.isVisible() for line in lines)
