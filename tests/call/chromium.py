"""Headless Debian Chromium driven over the DevTools protocol with aiohttp.

No Playwright, no npm: Chromium is started with a fresh profile, fake camera
and microphone, and a remote-debugging port; each page is one DevTools
WebSocket on which we call Runtime.evaluate.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import tempfile
from typing import Any

import aiohttp

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
    "about:blank",
)


class PageError(Exception):
    """JavaScript in the page threw, or the page did not reach a state in time."""


class Page:
    def __init__(
        self, ws: aiohttp.ClientWebSocketResponse, target_id: str, browser: Chromium
    ) -> None:
        self._ws = ws
        self.target_id = target_id
        self._browser = browser
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self._ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            future = self._pending.pop(data.get("id", -1), None)
            if future is not None and not future.done():
                future.set_result(data)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(PageError("The page's DevTools connection closed."))

    async def send(self, method: str, timeout: float = 20.0, **params: Any) -> dict[str, Any]:
        msg_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        await self._ws.send_str(json.dumps({"id": msg_id, "method": method, "params": params}))
        data = await asyncio.wait_for(future, timeout)
        if "error" in data:
            raise PageError(f"{method} failed: {data['error']}")
        result: dict[str, Any] = data["result"]
        return result

    async def evaluate(self, expression: str, timeout: float = 20.0) -> Any:
        result = await self.send(
            "Runtime.evaluate",
            timeout=timeout,
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise PageError(f"JavaScript error: {text}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 15.0, interval: float = 0.1) -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise PageError(f"Timed out after {timeout:g} s waiting for: {expression}")
            await asyncio.sleep(interval)

    async def goto(self, url: str) -> None:
        await self.send("Page.enable")
        await self.send("Page.navigate", url=url)
        await self.wait_for("document.readyState === 'complete' && location.href !== 'about:blank'")

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._browser.http.get(f"{self._browser.http_base}/json/close/{self.target_id}")
        with contextlib.suppress(Exception):
            await self._ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


class Chromium:
    def __init__(self, extra_flags: tuple[str, ...] = ()) -> None:
        self._extra = extra_flags
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-")
        self.process: asyncio.subprocess.Process | None = None
        self.http_base = ""
        self.http: aiohttp.ClientSession = None  # type: ignore[assignment]
        self._drain: asyncio.Task[None] | None = None
        self.pages: list[Page] = []

    async def start(self, timeout: float = 20.0) -> Chromium:
        # Its own session (process group): close() kills Chromium's zygote,
        # GPU and renderer children too, not only the browser process.
        self.process = await asyncio.create_subprocess_exec(
            CHROMIUM,
            f"--user-data-dir={self._profile.name}",
            *self._extra,
            *FLAGS,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        try:
            assert self.process.stderr is not None
            async with asyncio.timeout(timeout):
                while True:
                    line = (await self.process.stderr.readline()).decode(errors="replace")
                    if not line:
                        raise PageError("Chromium exited before opening its DevTools port.")
                    found = re.search(r"DevTools listening on ws://([\d.]+:\d+)/", line)
                    if found:
                        self.http_base = f"http://{found.group(1)}"
                        break
            self._drain = asyncio.create_task(self._drain_stderr())
            self.http = aiohttp.ClientSession()
        except BaseException:
            # A timeout, a cancellation or an early exit: no process, no profile left behind.
            await self.close()
            raise
        return self

    async def _drain_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        while await self.process.stderr.readline():
            pass

    async def new_page(self, url: str) -> Page:
        async with self.http.put(f"{self.http_base}/json/new?about:blank") as response:
            target = await response.json()
        ws = await self.http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
        page = Page(ws, target["id"], self)
        self.pages.append(page)
        await page.goto(url)
        return page

    async def close(self) -> None:
        for page in self.pages:
            await page.close()
        self.pages.clear()
        if self.http is not None:
            await self.http.close()
        process = self.process
        if process is not None and process.returncode is None:
            self._signal_group(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                self._signal_group(process.pid, signal.SIGKILL)
                await process.wait()
            # The browser is gone; children that ignored SIGTERM may linger in its group.
            self._signal_group(process.pid, signal.SIGKILL)
        if self._drain is not None:
            self._drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drain
        self._profile.cleanup()

    @staticmethod
    def _signal_group(pgid: int, sig: signal.Signals) -> None:
        # The group id is the browser's pid (start_new_session); it is ours alone.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
