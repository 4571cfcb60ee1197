"""The doctor, in headless Chromium on the reference platform's console, beside a person test.

The person test is synchronous (a hand sleeps between presses); Chromium is
driven over DevTools with asyncio. So the doctor lives in an event loop of its
own thread, and each step is one call that waits for its result:

    with Doctor(kiosk.base_url) as doctor:
        doctor.log_in()
        doctor.take_first_patient()
        doctor.drop()             # the page closes (a browser crash, a cut)
        doctor.log_in(); doctor.take_first_patient()
        doctor.hang_up()
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

from tests.call.chromium import CHROMIUM, Chromium, Page

T = TypeVar("T")


def chromium_missing() -> bool:
    return shutil.which(CHROMIUM) is None and not CHROMIUM.startswith("/")


class Doctor:
    def __init__(self, base_url: str, login: str = "dr-martin") -> None:
        self.base = base_url
        self.login = login
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.browser: Chromium | None = None
        self.page: Page | None = None

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def __enter__(self) -> Doctor:
        self.thread.start()
        self.browser = self.run(Chromium().start())
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self.browser is not None:
                self.run(self.browser.close(), 40)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()

    def _page(self) -> Page:
        if self.page is None:
            raise AssertionError("the doctor has no console page open")
        return self.page

    def log_in(self) -> None:
        """Open the console and log in, as the doctor does in a browser tab."""
        assert self.browser is not None

        async def go() -> Page:
            assert self.browser is not None
            page = await self.browser.new_page(self.base + "/console/")
            await page.evaluate(
                f"document.getElementById('login').value = {self.login!r};"
                "document.getElementById('password').value = 'password';"
                "document.getElementById('login-button').click(); true"
            )
            await page.wait_for("!!(window.telecabine.ws && window.telecabine.ws.readyState === 1)")
            return page

        self.page = self.run(go())

    def take_first_patient(self, timeout: float = 120.0) -> None:
        page = self._page()

        async def go() -> None:
            await page.wait_for("!!document.querySelector('button.take')", timeout)
            await page.evaluate("document.querySelector('button.take').click(); true")
            await page.wait_for(
                "window.telecabine.pc && window.telecabine.pc.connectionState === 'connected'",
                60,
            )

        self.run(go(), timeout + 70)

    def frames_decoded(self) -> int:
        """The patient's video frames the doctor's page has decoded so far."""
        page = self._page()
        value = self.run(
            page.evaluate("window.telecabine.stats().then((s) => s.framesDecoded || 0)")
        )
        return int(value or 0)

    def say(self, text: str) -> None:
        page = self._page()
        self.run(
            page.evaluate(
                f"document.getElementById('chat-input').value = {text!r};"
                "document.getElementById('chat-send').click(); true"
            )
        )

    def switch(self, button: str) -> None:
        """The doctor presses her own microphone ("mute") or camera ("camera") switch."""
        page = self._page()
        self.run(page.evaluate(f"document.getElementById({button!r}).click(); true"))

    def drop(self) -> None:
        """The doctor's page goes away without a goodbye (the tab is closed)."""
        page = self._page()
        self.page = None
        assert self.browser is not None
        self.browser.pages.remove(page)
        self.run(page.close())

    def hang_up(self) -> None:
        page = self._page()
        self.run(
            page.evaluate("document.getElementById('hangup').click(); true"),
        )
        self.run(page.wait_for("window.telecabine.ended === true", 10), 20)
