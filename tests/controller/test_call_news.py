"""The call's news has one path: the controller hears it, publishes it, and drops it at the wipe.

The chat both ways, the documents and their patient links live in the
controller's `SessionView` only; the end of a session is one explicit event
(`controller.on_wipe`, the flow's `Wipe`), told once with the session's id.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from app.call.documents import DocumentKind
from app.controller.assisted import Credentials
from app.controller.view import AssistAct, AssistNews, ChatLine, SessionDocument
from app.domain import session_events as ev
from app.domain.measurements import MeasurementKind, Quantity
from app.domain.session_context import State
from app.domain.trace import IncidentCode, TraceKind
from drivers import events as dev
from tests.controller.conftest import Kiosk
from tests.controller.test_sessions import to_measurements

PAGE = "http://platform.test/patient/documents/"


async def _in_call(k: Kiosk) -> str:
    session_id = await to_measurements(k)
    assert (await k.controller.submit(ev.MeasurementsDone)).accepted
    k.call.doctor_joins()
    await k.until(lambda v: v.state is State.CALL)
    return session_id


async def test_chat_documents_and_links_reach_the_view_and_go_at_the_wipe(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller
    sent: list[str] = []
    asked: list[tuple[str, str]] = []

    async def send_text(text: str) -> None:
        sent.append(text)

    async def fetch_link(session_id: str, document_id: str) -> str | None:
        asked.append((session_id, document_id))
        return None if document_id == "doc-2" else PAGE + "token-" + document_id

    c.connect_call(send_text=send_text, fetch_link=fetch_link)
    wiped: list[str] = []
    c.on_wipe(wiped.append)
    session_id = await _in_call(k)
    k.call.says("Bonjour, je suis le docteur.")
    k.call.says("an echo of the patient's own line", sender="patient")  # not the doctor's news
    await k.until(lambda v: len(v.chat) == 1)
    assert await c.send_chat("Bonjour docteur")
    assert sent == ["Bonjour docteur"]
    k.call.sends_document("doc-1", DocumentKind.PRESCRIPTION, "Ordonnance")
    k.call.sends_document("doc-2", DocumentKind.REPORT, "Compte rendu")
    view = await k.until(
        lambda v: len(v.context.documents) == 2 and v.documents[0].link is not None
    )
    assert view.chat == (
        ChatLine(True, "Bonjour, je suis le docteur."),
        ChatLine(False, "Bonjour docteur"),
    )
    assert view.documents == (
        SessionDocument("doc-1", DocumentKind.PRESCRIPTION, "Ordonnance", PAGE + "token-doc-1"),
        SessionDocument("doc-2", DocumentKind.REPORT, "Compte rendu"),  # no link: no QR code
    )
    assert asked == [(session_id, "doc-1"), (session_id, "doc-2")]
    assert view.context.documents == ("doc-1", "doc-2")
    k.call.doctor_hangs_up()
    await k.until(lambda v: v.state is State.END)
    assert wiped == []  # the end screen still shows the documents
    assert len(k.view.documents) == 2
    assert (await c.submit(ev.Finish)).accepted
    assert k.state() is State.TAKE_CARD and wiped == []
    await c.device_event(dev.CardRemoved("reader-1"))
    assert wiped == [session_id]  # the end of the session, told once, with its id
    after = c.view
    assert (after.chat, after.documents) == ((), ())


async def test_a_chat_line_that_cannot_leave_is_traced_and_stays_shown(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller

    async def broken(text: str) -> None:
        raise ConnectionError("data channel closed")

    c.connect_call(send_text=broken)
    session_id = await _in_call(k)
    assert not await c.send_chat("Vous m'entendez ?")
    assert k.view.chat == (ChatLine(False, "Vous m'entendez ?"),)
    assert k.state() is State.CALL  # the call goes on
    record = await k.store.session_bundle_source(session_id)
    incidents = [(t.incident, t.subject) for t in record.trace if t.kind is TraceKind.INCIDENT]
    assert incidents == [(IncidentCode.CHAT_SEND_FAILED, "chat")]
    assert not await c.send_chat("")  # nothing typed: nothing shown, nothing sent


async def test_a_link_that_comes_after_the_wipe_is_not_kept(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller
    release = asyncio.Event()

    async def slow_link(session_id: str, document_id: str) -> str | None:
        await release.wait()
        return PAGE + "late"

    c.connect_call(fetch_link=slow_link)
    wiped: list[str] = []
    c.on_wipe(wiped.append)
    session_id = await _in_call(k)
    k.call.sends_document("doc-1", DocumentKind.REPORT, "Compte rendu")
    await k.until(lambda v: len(v.documents) == 1)
    assert (await c.submit(ev.StopRequested)).accepted
    assert (await c.submit(ev.StopConfirmed)).accepted
    await c.device_event(dev.CardRemoved("reader-1"))
    assert wiped == [session_id]
    release.set()
    await asyncio.sleep(0.05)
    assert k.view.documents == ()
    assert k.view.chat == ()


async def test_a_fault_ends_the_session_with_the_same_event(kiosk: Kiosk) -> None:
    k, c = kiosk, kiosk.controller

    def failing(session_id: str) -> None:
        raise RuntimeError(session_id)

    c.on_wipe(failing)  # a failing listener does not stop the ones after it
    wiped: list[str] = []
    unsubscribe = c.on_wipe(wiped.append)
    session_id = await _in_call(k)
    k.call.says("Bonjour")
    await k.until(lambda v: len(v.chat) == 1)
    await c.close_safely("ui-error")
    assert wiped == [session_id]
    assert k.view.chat == ()
    assert k.state() is State.WELCOME
    unsubscribe()
    unsubscribe()  # twice is harmless
    assert (await c.submit(ev.Begin)).accepted
    assert (await c.submit(ev.StopRequested)).accepted
    assert (await c.submit(ev.StopConfirmed)).accepted
    assert wiped == [session_id]  # no longer listening


async def test_the_professional_s_results_come_in_the_view_and_go_at_the_wipe(
    kiosk: Kiosk,
) -> None:
    """Sign-in and acts are told to the screen through the view, numbered, never poked."""
    k, c = kiosk, kiosk.controller
    assert c.assist is not None
    await to_measurements(k)
    assert k.view.assist_news is None
    refused = await c.assist.sign_in(Credentials("nobody", "wrong password", "000000"))
    assert not refused.ok
    first = k.view.assist_news
    assert first == AssistNews(first.number if first else 0, AssistAct.SIGN_IN, False)
    not_signed = await c.assist.enter_measurement(
        MeasurementKind.BODY_TEMPERATURE, {Quantity.BODY_TEMPERATURE: Decimal("37.2")}
    )
    assert not not_signed.ok
    second = k.view.assist_news
    assert second is not None and first is not None
    assert (second.number, second.act, second.ok) == (
        first.number + 1,
        AssistAct.MEASUREMENT,
        False,
    )
    assert (await c.submit(ev.StopRequested)).accepted
    assert (await c.submit(ev.StopConfirmed)).accepted
    await c.device_event(dev.CardRemoved("reader-1"))
    assert k.view.assist_news is None  # nothing of the last session's acts stays
