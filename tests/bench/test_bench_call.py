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
import contextlib
import fractions
import json
import os
import sys
import time
from typing import Any

import pytest

from app.call.audio import EnergyMeterSink, ToneMicrophone
from app.call.events import RemoteMediaStarted
from app.call.session import CallSettings
from app.call.video import TestPatternSource
from devtools.netimpair import PROFILES, Drop, ImpairmentRelay
from devtools.turn import TURNSERVER, TurnServer
from tests.call.chromium import Chromium
from tests.call.conftest import (
    doctor_console,
    require_program,
    start_platform,
    take_first_patient,
)
from tests.call.netimpair_helpers import (
    SAMPLER_JS,
    Sample,
    first_progress_after,
    relayed_kiosk,
    summarise,
)
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


# --- Issue 17: the same call through the impairment relay, kiosk row beside a Chromium row ---
#
# Media path: relay-only ICE on both peers; the sending side (the kiosk, or
# Chromium peer B) reaches coturn through devtools.netimpair's relay, the
# receiving Chromium (the doctor's console, or peer A) reaches coturn directly.
# Both directions of the media cross the relay once. Figures are read on the
# Chromium receiver in both rows (tests/call/netimpair_helpers.py says how).

SETTLE_S = 3.0
NET_WINDOW_S = float(os.environ.get("BENCH_WINDOW_S", "12"))
CUT_S = 5.0
AFTER_CUT_S = 12.0
NET_PROFILES = [*PROFILES, "cut-5s"]

REFERENCE_RELAY_JS = """
(async () => {
  const [direct, relayed] = %s;
  const constraints = { audio: true, video: { width: 640, height: 480, frameRate: 30 } };
  const a = new RTCPeerConnection({ iceServers: [direct], iceTransportPolicy: "relay" });
  const b = new RTCPeerConnection({ iceServers: [relayed], iceTransportPolicy: "relay" });
  window.ref = { a, b };
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  // A's received media are played, as the console plays the kiosk's (an unplayed
  // audio track is never pulled: no samples, no concealment to count).
  const received = new MediaStream();
  a.ontrack = (e) => {
    received.addTrack(e.track);
    const v = document.getElementById("bench-video") || document.body.appendChild(
      Object.assign(document.createElement("video"), { id: "bench-video", autoplay: true }));
    v.srcObject = received; v.play().catch(() => null);
  };
  for (const t of (await navigator.mediaDevices.getUserMedia(constraints)).getTracks()) a.addTrack(t);
  for (const t of (await navigator.mediaDevices.getUserMedia(constraints)).getTracks()) b.addTrack(t);
  for (const pc of [a, b]) for (const tr of pc.getTransceivers())
    if (tr.receiver.track.kind === "video") tr.setCodecPreferences(
      RTCRtpReceiver.getCapabilities("video").codecs.filter((c) => /VP8|rtx/.test(c.mimeType)));
  await a.setLocalDescription(); await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(); await a.setRemoteDescription(b.localDescription);
  return true;
})()
"""


async def _measure(page: Any, relay: Any, profile: str) -> dict[str, Any]:
    """Run one window on a page whose `window.S` sampler runs; the row for it."""
    await asyncio.sleep(SETTLE_S)
    t0 = await page.evaluate("S.mark('start')")
    row: dict[str, Any] = {}
    if profile == "cut-5s":
        await asyncio.sleep(3.0)
        cut_at = await page.evaluate("S.mark('cut')")
        relay.cut(CUT_S)
        await asyncio.sleep(CUT_S + AFTER_CUT_S)
    else:
        await asyncio.sleep(NET_WINDOW_S)
    t1 = await page.evaluate("S.mark('end')")
    raw = await page.evaluate("S.samples")
    samples = [Sample.from_js(s) for s in raw if t0 <= s["t"] <= t1]
    row.update(summarise(samples))
    if profile == "cut-5s":
        back = (cut_at / 1000) + CUT_S
        row["video back after cut (s)"] = first_progress_after(samples, back, "frames")
        row["audio back after cut (s)"] = first_progress_after(samples, back, "audio")
    return row


async def kiosk_rows(turn: TurnServer, profiles: list[str]) -> dict[str, dict[str, Any]]:
    platform = await start_platform(ice_servers=(turn.browser_ice_server(),), relay_only=True)
    browser = await Chromium().start()
    rows: dict[str, dict[str, Any]] = {}
    try:
        for n, name in enumerate(profiles):
            relay = await ImpairmentRelay(
                turn.port, PROFILES.get(name, PROFILES["clean"]), seed=17
            ).start()
            settings = CallSettings(
                ice_servers=(turn.ice_server(port=relay.port),), relay_only=True, reconnect_s=20.0
            )
            session, log = relayed_kiosk(platform.base, settings, f"DEMO-CAB-01-net{n}")
            page = await doctor_console(browser, platform.base)
            try:
                await session.start()
                await take_first_patient(page)
                await log.wait_for(
                    lambda e: isinstance(e, RemoteMediaStarted) and e.kind == "video", 30
                )
                await page.evaluate(SAMPLER_JS)
                await page.evaluate(
                    "window.S = benchSampler(() => window.telecabine.pc, 100); true"
                )
                k0 = session.remote_video.total
                w0 = time.monotonic()
                row = await _measure(page, relay, name)
                row["kiosk received fps"] = round(
                    (session.remote_video.total - k0) / (time.monotonic() - w0), 1
                )
                row["kiosk audio-only"] = session.audio_only
                row["kiosk incidents"] = ",".join(code.value for code in log.incidents())
                row["relay drops"] = {r.value: relay.dropped(r) for r in Drop}
                row["call state"] = session.state.value
                rows[name] = row
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(session.hang_up(), 10)
                await page.close()
                relay.close()
    finally:
        await browser.close()
        await platform.runner.cleanup()
    return rows


async def chromium_rows(turn: TurnServer, profiles: list[str]) -> dict[str, dict[str, Any]]:
    platform = await start_platform()  # a secure (loopback) origin for getUserMedia
    browser = await Chromium().start()
    rows: dict[str, dict[str, Any]] = {}
    try:
        for name in profiles:
            relay = await ImpairmentRelay(
                turn.port, PROFILES.get(name, PROFILES["clean"]), seed=17
            ).start()
            relayed = {
                **turn.browser_ice_server(),
                "urls": [turn.ice_server(port=relay.port).urls[0]],
            }
            page = await browser.new_page(platform.base + "/console/")
            try:
                await page.evaluate(
                    REFERENCE_RELAY_JS % json.dumps([turn.browser_ice_server(), relayed])
                )
                await page.evaluate(SAMPLER_JS)
                await page.evaluate("window.S = benchSampler(() => window.ref.a, 100); true")
                await page.wait_for("S.last && S.last.frames > 0", 30)
                row = await _measure(page, relay, name)
                row["relay drops"] = {r.value: relay.dropped(r) for r in Drop}
                rows[name] = row
            finally:
                await page.evaluate("window.ref.a.close(); window.ref.b.close(); true")
                await page.close()
                relay.close()
    finally:
        await browser.close()
        await platform.runner.cleanup()
    return rows


def _print_table(kiosk: dict[str, dict[str, Any]], chromium: dict[str, dict[str, Any]]) -> None:
    cols = ["fps", "freezes", "freeze_s", "chromium_freezes", "chromium_freeze_s",
            "audio_continuity_pct", "height"]  # fmt: skip
    print("\nprofile | row | " + " | ".join(cols) + " | recovery video/audio (s) | notes")
    for name in [*kiosk, *(n for n in chromium if n not in kiosk)]:
        for label, rows in (("kiosk->Chromium", kiosk), ("Chromium->Chromium", chromium)):
            row = rows.get(name)
            if row is None:
                continue
            cells = " | ".join(str(row.get(c)) for c in cols)
            recovery = (
                f"{row.get('video back after cut (s)')}/{row.get('audio back after cut (s)')}"
            )
            notes = {k: v for k, v in row.items() if k not in cols and "after cut" not in k}
            print(f"{name} | {label} | {cells} | {recovery} | {notes}")


@pytest.mark.timeout(900)  # ~5 min at rest, more on a busy machine
def test_bench_call_network(request: pytest.FixtureRequest) -> None:
    """Issue 17's rows; BENCH_PROFILES=loss-5,cut-5s picks some, BENCH_WINDOW_S the window."""
    config = request.config
    if config.getoption("benchmark_disable") and not config.getoption("benchmark_enable"):
        pytest.skip("benchmarks are disabled; run with --benchmark-enable -s")
    require_program(TURNSERVER, "coturn")
    wanted = os.environ.get("BENCH_PROFILES")
    profiles = wanted.split(",") if wanted else NET_PROFILES
    with TurnServer() as turn:
        kiosk = asyncio.run(kiosk_rows(turn, profiles))
        chromium = asyncio.run(chromium_rows(turn, profiles))
    _print_table(kiosk, chromium)
    for name in profiles:
        assert chromium[name]["fps"] > 0, name  # the reference row must measure something
        assert name in kiosk


# --- Issue 17 "Resources": the kiosk's call alone in its own process, beside Chromium ---


def _proc_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _proc_mib(pid: int, key: str) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


async def kiosk_alone_resources(width: int, height: int) -> dict[str, Any]:
    platform = await start_platform()
    browser = await Chromium().start()
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "devtools.netimpair.kiosk_alone",
        "--base",
        platform.base,
        "--width",
        str(width),
        "--height",
        str(height),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        assert (await asyncio.wait_for(child.stdout.readline(), 30)).strip() == b"waiting"
        idle_rss = _proc_mib(child.pid, "VmRSS")
        page = await doctor_console(browser, platform.base)
        await take_first_patient(page)
        await page.wait_for("window.telecabine.firstFrameAt !== null", 30)
        await asyncio.sleep(3.0)
        assert browser.process is not None
        k0, c0, f0, w0 = (
            _proc_cpu_s(child.pid),
            chromium_cpu_s(browser.process.pid),
            (await page.evaluate("window.telecabine.stats()"))["framesDecoded"],
            time.monotonic(),
        )
        rss: list[float] = []
        while time.monotonic() < w0 + WINDOW_S * 1.5:
            await asyncio.sleep(1.0)
            rss.append(_proc_mib(child.pid, "VmRSS"))
        k1, c1, f1, w1 = (
            _proc_cpu_s(child.pid),
            chromium_cpu_s(browser.process.pid),
            (await page.evaluate("window.telecabine.stats()"))["framesDecoded"],
            time.monotonic(),
        )
        stats = await page.evaluate("window.telecabine.stats()")
        await page.evaluate("document.getElementById('hangup').click(); true")
        ended = (await asyncio.wait_for(child.stdout.readline(), 15)).decode().strip()
        wall = w1 - w0
        return {
            "resolution": f"{width}x{height}",
            "kiosk RSS waiting (MiB)": round(idle_rss, 1),
            "kiosk RSS in call, max sampled (MiB)": round(max(rss), 1),
            "kiosk VmHWM (MiB)": round(_proc_mib(child.pid, "VmHWM"), 1),
            "kiosk CPU (% of one core)": round(100 * (k1 - k0) / wall, 1),
            "Chromium CPU, whole browser (% of one core)": round(100 * (c1 - c0) / wall, 1),
            "doctor received fps": round((f1 - f0) / wall, 1),
            "doctor received width": stats["frameWidth"],
            "kiosk ended": ended,
        }
    finally:
        if child.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                child.terminate()
            await child.wait()
        await browser.close()
        await platform.runner.cleanup()


def encode_cpu(width: int, height: int, frames: int = 150) -> dict[str, Any]:
    """aiortc's VP8 encoder alone on the moving test pattern: CPU per frame, at 30 fps."""
    from aiortc.codecs.vpx import Vp8Encoder
    from av import VideoFrame

    source = TestPatternSource(width=width, height=height)
    asyncio.run(source.open())
    source.fps = 10_000  # no pacing: frames as fast as they are asked
    images = [asyncio.run(source.read()) for _ in range(60)]
    encoder = Vp8Encoder()
    cpu = 0.0
    sent = 0
    for i in range(frames):
        frame = VideoFrame.from_ndarray(images[i % len(images)], format="bgr24")
        frame.pts, frame.time_base = i * 3000, fractions.Fraction(1, 90_000)
        c0 = time.process_time()
        payloads, _ = encoder.encode(frame)
        cpu += time.process_time() - c0
        sent += sum(len(p) for p in payloads)
    per_frame = cpu / frames
    return {
        "resolution": f"{width}x{height}",
        "encode CPU per frame (ms)": round(1000 * per_frame, 2),
        "encode CPU at 30 fps (% of one core)": round(100 * per_frame * 30, 1),
        "bitrate at 30 fps (kbit/s)": round(sent * 8 * 30 / frames / 1000),
    }


@pytest.mark.timeout(300)
def test_bench_call_resources(request: pytest.FixtureRequest) -> None:
    config = request.config
    if config.getoption("benchmark_disable") and not config.getoption("benchmark_enable"):
        pytest.skip("benchmarks are disabled; run with --benchmark-enable -s")
    print(f"\nload average before: {os.getloadavg()}")
    rows = [asyncio.run(kiosk_alone_resources(640, 480))]
    rows.append(asyncio.run(kiosk_alone_resources(1280, 720)))  # the same call, sent at 720p
    encodes = [encode_cpu(640, 480), encode_cpu(1280, 720)]
    print(f"load average after: {os.getloadavg()}")
    for row in rows + encodes:
        print("  " + "; ".join(f"{k}: {v}" for k, v in row.items()))
    assert rows[0]["doctor received fps"] > 0
    assert encodes[1]["encode CPU per frame (ms)"] > encodes[0]["encode CPU per frame (ms)"] * 0.5
