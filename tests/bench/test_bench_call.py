"""Call benchmark: kiosk (aiortc) ↔ doctor (Chromium), and Chromium ↔ Chromium as reference.

Figures, printed (run with -s):
- time from "doctor joins" (the take click in the console) to the first
  decoded remote frame, at the kiosk and in the page;
- received frame rate at each end over a 10 s window;
- kiosk CPU over that window: this process's CPU time / wall time (the
  in-process reference platform is idle during a call and adds little);
- the same call between two Chromium peers (two RTCPeerConnections in one
  page, each with its own fake camera), with Chromium's CPU from /proc.

Run: .venv/bin/python -m pytest tests/bench/test_bench_call.py --benchmark-enable -s
Skipped in the normal run (--benchmark-disable is in addopts).
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import pytest

from app.call.audio import EnergyMeterSink, ToneMicrophone
from app.call.events import RemoteMediaStarted
from tests.call.chromium import Chromium
from tests.call.conftest import doctor_console, start_platform, take_first_patient
from tests.call.test_call_e2e import make_kiosk

WINDOW_S = 10.0

REFERENCE_JS = """
(async () => {
  const constraints = { audio: true, video: { width: 640, height: 480, frameRate: 30 } };
  const a = new RTCPeerConnection(), b = new RTCPeerConnection();
  window.ref = { a, b };
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  for (const t of (await navigator.mediaDevices.getUserMedia(constraints)).getTracks()) a.addTrack(t);
  for (const t of (await navigator.mediaDevices.getUserMedia(constraints)).getTracks()) b.addTrack(t);
  for (const pc of [a, b]) for (const tr of pc.getTransceivers())
    if (tr.receiver.track.kind === "video") tr.setCodecPreferences(
      RTCRtpReceiver.getCapabilities("video").codecs.filter((c) => /VP8|rtx/.test(c.mimeType)));
  const start = performance.now();
  await a.setLocalDescription(); await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(); await a.setRemoteDescription(b.localDescription);
  window.ref.start = start;
  return true;
})()
"""

FRAMES_JS = """
(async () => {
  const out = {};
  for (const [name, pc] of Object.entries({ a: window.ref.a, b: window.ref.b })) {
    (await pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") out[name] = s.framesDecoded || 0;
    });
  }
  return out;
})()
"""


def chromium_cpu_s(root_pid: int) -> float:
    """utime+stime of the Chromium browser process and all its descendants."""
    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry)] = fields
            children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0.0, [root_pid]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += (int(stats[pid][11]) + int(stats[pid][12])) / ticks
        todo.extend(children.get(pid, []))
    return total


async def kiosk_to_chromium() -> dict[str, Any]:
    platform = await start_platform()
    browser = await Chromium().start()
    try:
        session, log = make_kiosk(platform.base, ToneMicrophone(), EnergyMeterSink())
        page = await doctor_console(browser, platform.base)
        await session.start()
        await take_first_patient(page)
        started = await log.wait_for(
            lambda e: isinstance(e, RemoteMediaStarted) and e.kind == "video", 15
        )
        assert isinstance(started, RemoteMediaStarted)
        page_first = await page.wait_for(
            "window.telecabine.firstFrameAt !== null && (window.telecabine.firstFrameAt - window.telecabine.takeAt)"
        )
        await asyncio.sleep(2.0)  # let the encoders settle
        k0, b0 = (
            session.remote_video.total,
            (await page.evaluate("window.telecabine.stats()"))["framesDecoded"],
        )
        cpu0, wall0 = time.process_time(), time.monotonic()
        await asyncio.sleep(WINDOW_S)
        cpu1, wall1 = time.process_time(), time.monotonic()
        k1, b1 = (
            session.remote_video.total,
            (await page.evaluate("window.telecabine.stats()"))["framesDecoded"],
        )
        await session.hang_up()
        wall = wall1 - wall0
        return {
            "kiosk first frame after doctor joins (s)": round(
                started.seconds_since_doctor_joined, 3
            ),
            "page first frame after take click (s)": round(page_first / 1000, 3),
            "kiosk received fps": round((k1 - k0) / wall, 1),
            "page received fps": round((b1 - b0) / wall, 1),
            "kiosk CPU (% of one core)": round(100 * (cpu1 - cpu0) / wall, 1),
            "frames sent by kiosk": session.frames_sent,
        }
    finally:
        await browser.close()
        await platform.runner.cleanup()


async def chromium_to_chromium() -> dict[str, Any]:
    platform = await start_platform()  # a secure (loopback) origin for getUserMedia
    browser = await Chromium().start()
    try:
        page = await browser.new_page(platform.base + "/console/")
        await page.evaluate(REFERENCE_JS)
        await page.wait_for(
            "(async () => { const f = await ("
            + FRAMES_JS.strip()
            + "); return f.a > 0 && f.b > 0; })()",
            15,
            0.01,
        )
        first = await page.evaluate("performance.now() - window.ref.start")
        await asyncio.sleep(2.0)
        assert browser.process is not None
        f0, c0, w0 = (
            await page.evaluate(FRAMES_JS),
            chromium_cpu_s(browser.process.pid),
            time.monotonic(),
        )
        await asyncio.sleep(WINDOW_S)
        f1, c1, w1 = (
            await page.evaluate(FRAMES_JS),
            chromium_cpu_s(browser.process.pid),
            time.monotonic(),
        )
        wall = w1 - w0
        return {
            "first frame on both sides after offer (s, upper bound, 10 ms polling)": round(
                first / 1000, 3
            ),
            "peer A received fps": round((f1["a"] - f0["a"]) / wall, 1),
            "peer B received fps": round((f1["b"] - f0["b"]) / wall, 1),
            "Chromium CPU for both peers (% of one core)": round(100 * (c1 - c0) / wall, 1),
        }
    finally:
        await browser.close()
        await platform.runner.cleanup()


def test_bench_call(request: pytest.FixtureRequest) -> None:
    config = request.config
    if config.getoption("benchmark_disable") and not config.getoption("benchmark_enable"):
        pytest.skip("benchmarks are disabled; run with --benchmark-enable -s")
    kiosk = asyncio.run(kiosk_to_chromium())
    reference = asyncio.run(chromium_to_chromium())
    print("\nkiosk (aiortc, 640x480 VP8) <-> doctor (Chromium):")
    for key, value in kiosk.items():
        print(f"  {key}: {value}")
    print("reference Chromium <-> Chromium on the same machine:")
    for key, value in reference.items():
        print(f"  {key}: {value}")
    assert kiosk["kiosk received fps"] > 0 and reference["peer A received fps"] > 0
