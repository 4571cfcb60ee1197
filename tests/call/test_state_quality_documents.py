"""Pure cores: the call state table, the quality classifier, document checks."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.call.documents import DocumentKind, ReceivedDocument, accept
from app.call.errors import DocumentError, DocumentErrorReason, IllegalTransition
from app.call.messages import DocumentMessage
from app.call.quality import QualityLevel, QualityMonitor, QualitySample, classify, interval_loss
from app.call.state import TRANSITIONS, CallState, CallStateMachine, Trigger


def test_normal_life() -> None:
    machine = CallStateMachine()
    for trigger, state in [
        (Trigger.ANNOUNCE, CallState.WAITING),
        (Trigger.DOCTOR_JOINED, CallState.CONNECTING),
        (Trigger.MEDIA_UP, CallState.IN_CALL),
        (Trigger.DROP, CallState.RECONNECTING),
        (Trigger.DOCTOR_JOINED, CallState.RECONNECTING),
        (Trigger.MEDIA_UP, CallState.IN_CALL),
        (Trigger.END, CallState.ENDED),
    ]:
        assert machine.fire(trigger) is state


def test_illegal_transition_raises_and_changes_nothing() -> None:
    machine = CallStateMachine()
    with pytest.raises(IllegalTransition) as caught:
        machine.fire(Trigger.MEDIA_UP)
    assert str(caught.value) == "The call cannot go through 'media-up' while it is 'idle'."
    assert machine.state is CallState.IDLE


@given(st.lists(st.sampled_from(list(Trigger)), max_size=30))
def test_state_machine_follows_the_table(triggers: list[Trigger]) -> None:
    machine = CallStateMachine()
    for trigger in triggers:
        before = machine.state
        if (before, trigger) in TRANSITIONS:
            assert machine.fire(trigger) is TRANSITIONS[(before, trigger)]
        else:
            with pytest.raises(IllegalTransition):
                machine.fire(trigger)
            assert machine.state is before
        if before is CallState.ENDED:
            assert machine.state is CallState.ENDED


@pytest.mark.parametrize(
    ("sample", "level"),
    [
        (QualitySample(rtt_ms=20, loss=0.0, fps=30), QualityLevel.GOOD),
        (QualitySample(rtt_ms=None, loss=0.0, fps=None), QualityLevel.GOOD),
        (QualitySample(rtt_ms=400, loss=0.0, fps=30), QualityLevel.FAIR),
        (QualitySample(rtt_ms=20, loss=0.05, fps=30), QualityLevel.FAIR),
        (QualitySample(rtt_ms=20, loss=0.0, fps=12), QualityLevel.FAIR),
        (QualitySample(rtt_ms=900, loss=0.0, fps=30), QualityLevel.POOR),
        (QualitySample(rtt_ms=20, loss=0.25, fps=30), QualityLevel.POOR),
        (QualitySample(rtt_ms=20, loss=0.12, fps=None), QualityLevel.POOR),
        # the doctor sees the frames: 12 % loss that retransmission hides is only fair
        (QualitySample(rtt_ms=20, loss=0.12, fps=30), QualityLevel.FAIR),
        (QualitySample(rtt_ms=20, loss=0.0, fps=5), QualityLevel.POOR),
        # on a 15 fps rung, 13 fps received is good and 7 is poor
        (QualitySample(rtt_ms=20, loss=0.0, fps=13, sent_fps=15), QualityLevel.GOOD),
        (QualitySample(rtt_ms=20, loss=0.0, fps=7, sent_fps=15), QualityLevel.POOR),
    ],
)
def test_classify(sample: QualitySample, level: QualityLevel) -> None:
    assert classify(sample) is level


def test_fallback_after_the_ladder_and_three_poor_samples_and_restore_after_ten_not_poor() -> None:
    monitor = QualityMonitor()
    poor, good = QualitySample(50, 0.3, 30), QualitySample(50, 0.0, None)
    decisions = [monitor.feed(poor) for _ in range(7)]
    assert [d.level_changed for d in decisions] == [False, True] + [False] * 5
    # 640x480@30 -> @15 -> 320x240@15 (two POOR each), then three POOR: audio only.
    assert [d.step_down for d in decisions] == [False, True, False, True, False, False, False]
    assert [d.fall_back_to_audio for d in decisions] == [False] * 6 + [True]
    assert monitor.audio_only
    # In audio-only no video is expected, so a missing frame rate is not "poor".
    decisions = [monitor.feed(QualitySample(50, 0.0, 0.0)) for _ in range(9)]
    assert not any(d.restore_video for d in decisions)
    assert monitor.feed(good).restore_video
    assert not monitor.audio_only


def test_one_bad_sample_does_not_flicker_the_indicator() -> None:
    monitor = QualityMonitor()
    assert not monitor.feed(QualitySample(50, 0.3, 30)).level_changed
    assert not monitor.feed(QualitySample(50, 0.0, 30)).level_changed
    assert monitor.level is QualityLevel.GOOD


def test_interval_loss() -> None:
    assert interval_loss(None, (100, 0)) == (0.0, (100, 0))
    assert interval_loss((100, 0), (190, 10)) == (0.1, (190, 10))
    assert interval_loss((190, 10), (20, 0)) == (0.0, (20, 0))  # a new connection: counters restart


PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def test_accept_text_and_pdf_documents() -> None:
    assert accept(
        DocumentMessage("report", " Compte rendu ", text="RAS"), fallback_id="doc-1"
    ) == ReceivedDocument("doc-1", DocumentKind.REPORT, "Compte rendu", "RAS", None)
    doc = accept(
        DocumentMessage(
            "prescription",
            "Ordonnance",
            pdf_base64=base64.b64encode(PDF).decode(),
            document_id="p1",
        ),
        fallback_id="doc-2",
    )
    assert (doc.document_id, doc.kind, doc.pdf, doc.is_pdf) == (
        "p1",
        DocumentKind.PRESCRIPTION,
        PDF,
        True,
    )


@pytest.mark.parametrize(
    ("message", "reason", "text"),
    [
        (
            DocumentMessage("invoice", "x", text="y"),
            DocumentErrorReason.BAD_KIND,
            "A document must be a report or a prescription, not 'invoice'.",
        ),
        (
            DocumentMessage("report", "x", text="  "),
            DocumentErrorReason.NO_CONTENT,
            "The document has neither text nor a PDF.",
        ),
        (
            DocumentMessage("report", "x", pdf_base64="%%%"),
            DocumentErrorReason.BAD_BASE64,
            "The PDF document is not valid base64.",
        ),
        (
            DocumentMessage("report", "x", pdf_base64=base64.b64encode(b"<html>").decode()),
            DocumentErrorReason.NOT_A_PDF,
            "The document sent as a PDF does not start as one.",
        ),
    ],
)
def test_document_errors(message: DocumentMessage, reason: DocumentErrorReason, text: str) -> None:
    with pytest.raises(DocumentError) as caught:
        accept(message, fallback_id="d")
    assert (caught.value.reason, str(caught.value)) == (reason, text)


@given(
    st.text(max_size=50),
    st.text(max_size=50),
    st.one_of(st.none(), st.text(max_size=50)),
    st.one_of(st.none(), st.text(max_size=60)),
)
def test_accept_raises_only_document_error(
    kind: str, title: str, text: str | None, pdf: str | None
) -> None:
    try:
        accept(DocumentMessage(kind, title, text=text, pdf_base64=pdf), fallback_id="d")
    except DocumentError:
        pass
