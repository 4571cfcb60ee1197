"""The sentence the call screen shows about the doctor's connection (CallView.quality)."""

from __future__ import annotations

from app.call import events as call
from app.call.state import CallState
from app.controller.call_events import (
    CALL_STATUS_AUDIO_ONLY,
    CALL_STATUS_DOCTOR_BACK,
    CALL_STATUS_DOCTOR_LOST,
    DOCTOR_BACK_SHOWN_S,
    CallStatusBoard,
    translate_call_event,
)

LOST = call.ConnectionStatusChanged(call.ConnectionStatus.DOCTOR_LOST, 30.0)
BACK = call.ConnectionStatusChanged(call.ConnectionStatus.DOCTOR_BACK)


def test_lost_then_back_then_nothing_after_a_few_seconds() -> None:
    board = CallStatusBoard()
    assert board.message_id(0.0) is None
    assert board.feed(LOST, 10.0)
    assert board.message_id(11.0) == CALL_STATUS_DOCTOR_LOST
    assert board.message_id(1000.0) == CALL_STATUS_DOCTOR_LOST  # until the doctor is back
    assert board.feed(BACK, 20.0)
    assert board.message_id(20.0) == CALL_STATUS_DOCTOR_BACK
    assert board.message_id(20.0 + DOCTOR_BACK_SHOWN_S - 0.1) == CALL_STATUS_DOCTOR_BACK
    assert board.message_id(20.0 + DOCTOR_BACK_SHOWN_S) is None


def test_the_lost_doctor_outranks_audio_only_and_the_end_clears_all() -> None:
    board = CallStatusBoard()
    assert board.feed(call.Incident(call.IncidentCode.AUDIO_ONLY_FALLBACK), 0.0)
    assert board.message_id(0.0) == CALL_STATUS_AUDIO_ONLY
    board.feed(LOST, 1.0)
    assert board.message_id(1.0) == CALL_STATUS_DOCTOR_LOST
    assert board.feed(call.CallEnded(call.EndReason.RECONNECT_TIMEOUT), 2.0)
    assert board.message_id(2.0) is None


def test_other_events_change_nothing() -> None:
    board = CallStatusBoard()
    assert not board.feed(call.Incident(call.IncidentCode.SIGNALLING_LOST), 0.0)
    assert not board.feed(call.StateChanged(CallState.IN_CALL), 0.0)


def test_status_events_are_not_flow_events() -> None:
    from datetime import UTC, datetime

    assert translate_call_event(LOST, datetime.now(UTC)) == []


def test_the_sentences_exist_in_every_catalogue() -> None:
    from pathlib import Path

    import app.ui.translations as translations

    folder = Path(translations.__file__).parent
    for lang in ("fr", "en", "ar"):
        text = (folder / f"{lang}.po").read_text(encoding="utf-8")
        for msgid in (CALL_STATUS_DOCTOR_LOST, CALL_STATUS_DOCTOR_BACK, CALL_STATUS_AUDIO_ONLY):
            assert f'msgid "{msgid}"' in text, (lang, msgid)
    fr = (folder / "fr.po").read_text(encoding="utf-8")
    assert "Restez assis, nous essayons de la rétablir." in fr
