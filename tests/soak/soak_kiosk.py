"""Soak: the real windowed kiosk runs back-to-back sessions with calls; nothing dies or swells.

    scripts/soak.sh --minutes 120 --out /tmp/soak-2h          # or:
    .venv/bin/python -m tests.soak.soak_kiosk --minutes 10 --out /tmp/soak-10

Three processes, as in a cabin and its doctor:

- an X server of its own (Xvfb on a free display): the window is a real xcb
  window, painted as on a cabin screen (offscreen hides none of the paint,
  but this is how the cabin runs);
- the kiosk: `kiosk demo` windowed on the simulators and the in-process
  reference platform (`python -m tests.soak.soak_kiosk --child`, which calls
  `app.cli.main(["demo", …])`), with a patient's hands inside it (`Patient`):
  on each screen it presses the button that moves on (`FORWARD`, else the
  screen's one primary button), puts the demo card in the virtual reader
  behind the real pcscd, lets the simulated devices measure, answers the
  doctor in the call's text field, takes the card out at the end, session
  after session. It goes by the screen shown rather than by the headless
  demo's fixed list of taps so that a screen added to the flow does not stop
  a two-hour run. It samples itself (app/runtime.py: None/True/False
  refcounts, RSS, gc objects, the 25 commonest object types now and then)
  every `--sample-every` seconds and after each session into samples.jsonl;
- the doctor, here in the soak's own process: the demo's `ScriptedDoctor`
  (kiosk_demo/doctor.py), a real aiortc peer logged in like the console,
  takes each patient, talks, sends two documents, stays `--call-seconds` and
  hangs up. Apart from the kiosk, so that its decoding and memory are not
  counted as the kiosk's.

A crash is the kiosk process ending before the soak stops it (a Fatal Python
error is SIGABRT); a hang is no sample for 5 periods (the soak then sends
SIGABRT: PYTHONFAULTHANDLER=1 prints where every thread was).

Out (rewritten at every sample, so a run still going can be read):
OUT/soak.json (figures, verdict, samples), OUT/kiosk.log, OUT/samples.jsonl,
and the printed table. Passed when: no crash, no hang, every session
completed, RSS flat over the second half (least-squares slope under
`--rss-limit` MiB per 10 minutes, sampled at the welcome screen between
sessions) and, where None is mortal (CPython 3.11), None's refcount stable.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import gc
import json
import os
import signal
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script too
    sys.path.insert(0, str(ROOT))

from app.runtime import (  # noqa: E402
    RSS_FLAT_MIB_PER_HOUR,
    RuntimeSample,
    pyside_version,
    rss_bytes,
    take_sample,
    verdict,
)
from kiosk_demo.script import DEMO_CARD, DOCTOR_SAYS, DOCUMENTS, PATIENT_WRITES  # noqa: E402

HANG_FACTOR = 5  # no sample for this many periods: the kiosk is hung
MAX_CONSECUTIVE_FAILURES = 5
MAX_SESSION_GAP_S = 600.0  # no session completed for 10 minutes: something is stuck
# The RSS verdict's point of each cycle: SETTLE_S on the welcome screen after a session, when
# the kiosk has let go of the call and trimmed its heap (app/call/session.py TRIM_AGAIN_S = 3):
# the floor of the cycle, which a leak raises and a flat process keeps.
SETTLE_S = 5.0


# ==== the kiosk process: a patient's hands, session after session ===========================


def native_memory() -> dict[str, int]:
    """Where RSS lives (/proc/self/smaps_rollup, kB) and the thread count: native growth shows here."""
    out: dict[str, int] = {}
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/smaps_rollup").read_text("ascii").splitlines()[1:]:
            name, _, rest = line.partition(":")
            if name in ("Anonymous", "Private_Dirty", "Rss", "Pss"):
                out[f"{name.lower()}_kb"] = int(rest.split()[0])
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text("ascii").splitlines():
            if line.startswith("Threads:"):
                out["threads"] = int(line.split()[1])
    return out


# Which button moves a session on, per screen: the first one shown wins. The soak's patient
# goes by what is on the screen, not by a fixed list of taps: a screen added to the flow (the
# visit reason, today) must not stop a two-hour run. A screen not listed gets its one "primary"
# button (the main action), as a person would press the big coloured button.
FORWARD: dict[str, tuple[str, ...]] = {
    "welcome": ("start",),
    "emergency-check": ("no",),
    "information": ("next",),
    "identification": ("method-card",),
    "confirm-identity": ("yes",),
    "consent": ("accept",),
    "orientation": ("option-yes", "option-no", "option-none", "next"),  # as the demo answers
    "measurements": ("measure-start", "next", "skip"),
    "degraded": ("option-skip", "option-continue", "option-retry"),
    "inactivity": ("still-here",),
    "card-removed": ("card-back",),
    "stop-confirm": ("stop-cancel",),
    "error": ("safe-state",),
    "end": ("finish",),
}
PATIENT_SCREENS_WAITING = ("waiting-room", "call")
STALL_S = 120.0
MEASURE_PATIENCE_S = 45.0  # then "skip", as the headless demo does after 30 s


@dataclass
class Driver:
    """Inside the kiosk process: plays sessions by what the screen shows, and samples."""

    out: Path
    sample_every: float
    call_seconds: float
    sessions: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    _samples: Any = None
    _n: int = 0
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    patient: Any = None
    closing: bool = False

    def attached(self, running: Any) -> None:
        """probe.on_attach: the window is up; start the hands and the sampler."""
        self._samples = open(self.out / "samples.jsonl", "a", buffering=1, encoding="utf-8")  # noqa: SIM115
        asyncio.get_running_loop().call_soon(self._hear_the_stop)  # after app.main's own handler
        for coro in (self.sampler(running), self.play(running)):
            task = asyncio.ensure_future(coro)
            self._tasks.add(task)
            task.add_done_callback(self._done)

    def _hear_the_stop(self) -> None:
        """The soak ends by SIGTERM: a session the stop cuts short is not a failed session.

        The kiosk's own handler (app.main) closes its parts in order; the loop then
        stops under the patient's hands, whose next await raises. Wrapped, not replaced.
        """
        kiosk_handler = signal.getsignal(signal.SIGTERM)

        def heard(signum: int, frame: Any) -> None:
            self.closing = True
            if callable(kiosk_handler):
                kiosk_handler(signum, frame)

        signal.signal(signal.SIGTERM, heard)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            self.write({"event": "driver-error", "error": "cancelled"})
        elif task.exception() is not None:
            exc = task.exception()
            self.write({"event": "driver-error", "error": f"{type(exc).__name__}: {exc}"[:300]})

    def write(self, record: dict[str, Any]) -> None:
        if self._samples is not None:
            self._samples.write(json.dumps(record, default=str) + "\n")

    def sample(self, running: Any, kind: str) -> None:
        s = take_sample()
        view = getattr(running.window, "current_view", None)
        record: dict[str, Any] = {
            "event": kind,
            "t": round(time.monotonic() - self.started, 2),
            "sessions": self.sessions,
            "failures": len(self.failures),
            "screen": str(getattr(view, "screen", "")),
            "builds": getattr(running.window, "builds", None),
            "updates": getattr(running.window, "updates", None),
            "phase": getattr(self.patient, "phase", None),
            "driver_alive": any(not t.done() for t in self._tasks),
            **s.as_dict(),
            **native_memory(),
        }
        self._n += 1
        if kind == "session" or self._n % 20 == 1:
            counts = collections.Counter(type(o).__name__ for o in gc.get_objects())
            record["top_types"] = dict(counts.most_common(25))
        self.write(record)

    async def sampler(self, running: Any) -> None:
        while True:
            self.sample(running, "sample")
            await asyncio.sleep(self.sample_every)

    async def play(self, running: Any) -> None:
        await asyncio.sleep(2.0)  # the window shown, the devices settled
        patient = self.patient = Patient(running, self.call_seconds)
        consecutive = 0
        while True:
            began = time.monotonic()
            try:
                await patient.session()
            except Exception as exc:  # a failed session is a figure, not the end of the soak
                if self.closing:  # the soak's end stopped the kiosk under this session
                    self.write({"event": "session-interrupted", "state": patient.state()})
                    return
                consecutive += 1
                self.failures.append(
                    {
                        "t": round(time.monotonic() - self.started, 1),
                        "state": patient.state(),
                        "screens": patient.seen[-12:],
                        "error": f"{type(exc).__name__}: {exc}"[:300],
                    }
                )
                self.write({"event": "session-failed", **self.failures[-1]})
                if consecutive >= MAX_CONSECUTIVE_FAILURES:
                    self.write({"event": "driver-stuck"})
                    self.closing = True
                    os.kill(os.getpid(), signal.SIGTERM)  # close cleanly; the soak reads why
                    return
                await patient.recover()
                continue
            consecutive = 0
            self.sessions += 1
            self.write(
                {
                    "event": "session-done",
                    "n": self.sessions,
                    "seconds": round(time.monotonic() - began, 1),
                    "screens": len(patient.seen),
                    "stale_presses": patient.stale_presses,
                    "skipped": patient.skipped,
                }
            )
            await asyncio.sleep(SETTLE_S)  # the kiosk's trim after the call (TRIM_AGAIN_S) done
            self.sample(running, "session")


class SessionFailed(Exception):
    pass


class Patient:
    """A patient's hands inside the kiosk process: press the button the screen offers.

    A press is `QAbstractButton.click()` on the visible button: the soak is about
    time and memory (the person tests press through X with xdotool). The card goes
    in and out of the virtual reader behind the real pcscd; the answer to the
    doctor is typed into the call's text field and sent.
    """

    def __init__(self, running: Any, call_seconds: float) -> None:
        self.r = running
        self.window = running.window
        self.controller = running.assembly.controller
        self.world = running.demo
        self.reader = self.world.card_reader()
        self.link = running.link
        self.call_seconds = call_seconds
        self.seen: list[str] = []
        self.stale_presses = 0  # a button rebuilt between the look and the press
        self.skipped: list[str] = []  # measurements skipped because the device never answered
        self.phase = (
            "starting"  # what the hands are doing (in every sample: a stuck soak shows where)
        )

    def state(self) -> str:
        return str(self.controller.view.state.value)

    def view_key(self) -> str:
        from app.ui.probe import view_fields

        return json.dumps(view_fields(self.window.current_view), sort_keys=True, default=str)

    def screen(self) -> str:
        return str(self.window.current_view.screen.value)

    def buttons(self) -> dict[str, Any]:
        from PySide6.QtWidgets import QAbstractButton

        out: dict[str, Any] = {}
        for b in self.window.current_screen.findChildren(QAbstractButton):
            if b.objectName() and b.isVisibleTo(self.window) and b.isEnabled():
                out.setdefault(b.objectName(), b)
        return out

    def forward_button(self, screen: str) -> Any:
        shown = self.buttons()
        for name in FORWARD.get(screen, ()):
            if name in shown:
                return shown[name]
        if screen == "beneficiary":
            for name, b in shown.items():
                if name.startswith("beneficiary-"):
                    return b
        primary = [b for b in shown.values() if b.property("kind") == "primary"]
        return primary[0] if len(primary) == 1 else None

    async def until_changed(self, key: str, timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            await asyncio.sleep(0.1)
            if self.view_key() != key:
                return True
        return False

    def _clear_link(self) -> None:
        link = self.link
        link.remote_frames = link.self_frames = 0
        link.chat_from_doctor.clear()
        link.documents.clear()
        link.document_links.clear()
        link.doctor_before_video = None

    async def session(self) -> None:
        """From welcome, through a call, back to welcome; SessionFailed if it cannot."""
        self.seen = []
        self.skipped = []
        self._clear_link()
        loop = asyncio.get_running_loop()
        card_in = called = answered = False
        since, last_key = loop.time(), ""
        while True:
            screen, key = self.screen(), self.view_key()
            self.phase = f"{screen}: looking ({loop.time() - since:.0f} s on this view)"
            if key != last_key:
                since, last_key = loop.time(), key
                self.seen.append(screen)
            if screen == "welcome" and called and not card_in:
                return
            waiting = screen in PATIENT_SCREENS_WAITING
            limit = (300 + self.call_seconds) if waiting else STALL_S
            if loop.time() - since > limit:
                raise SessionFailed(f"stuck {limit:g} s on {screen} ({self.state()})")
            if screen == "call":
                called = True
                if not answered and DOCTOR_SAYS in self.link.chat_from_doctor:
                    answered = await self.answer_doctor()
                await asyncio.sleep(0.5)
                continue
            if waiting:
                await asyncio.sleep(0.5)
                continue
            if screen == "end" and card_in:
                await self.world.sims.remove_card(self.reader)  # "take your card"
                card_in = False
                await asyncio.sleep(1.0)
                continue
            if screen == "measurements" and self.controller.view.context.active_device is not None:
                if loop.time() - since < MEASURE_PATIENCE_S:
                    await asyncio.sleep(0.5)  # measuring: the device speaks, the patient waits
                    continue
                skip = self.buttons().get("skip")  # a device that never answers: skip it
                if skip is not None:
                    self.skipped.append(str(getattr(self.window.current_view, "device", "?")))
                    with contextlib.suppress(RuntimeError):
                        skip.click()
                    await self.until_changed(key, 5.0)
                    continue
            if screen == "welcome" and self.seen[:-1]:
                raise SessionFailed(f"back to welcome without a call after {self.seen[-6:]}")
            button = self.forward_button(screen)
            if button is None:
                await asyncio.sleep(0.5)
                continue
            name = button.objectName()
            await asyncio.sleep(0.3)  # a person's pace between screens, and Qt's layout round
            button = self.buttons().get(name)  # found again: the screen may have been rebuilt
            if self.view_key() != key or button is None:
                continue
            self.phase = f"{screen}: pressing {name}"
            try:
                button.click()
            except RuntimeError:  # deleted between the look and the press (a rebuild)
                self.stale_presses += 1
                continue
            if name == "method-card" and not card_in:
                self.phase = "inserting the card"
                await asyncio.sleep(0.5)
                await self.world.sims.insert_card(self.reader, DEMO_CARD)
                card_in = True
            self.phase = f"{screen}: waiting for the press to show"
            await self.until_changed(key, 5.0)

    async def answer_doctor(self) -> bool:
        """Type the answer in the call's text field and send it (False: not shown yet)."""
        from PySide6.QtWidgets import QLineEdit

        fields = [
            f
            for f in self.window.current_screen.findChildren(QLineEdit, "patient-text")
            if f.isVisibleTo(self.window)
        ]
        send = self.buttons().get("send")
        if not fields or send is None:
            return False
        try:
            fields[0].setText(PATIENT_WRITES)
            await asyncio.sleep(0.3)
            send = self.buttons().get("send")
            if send is None:
                return False
            send.click()
        except RuntimeError:  # rebuilt meanwhile
            self.stale_presses += 1
            return False
        return True

    async def recover(self) -> None:
        """Back to welcome as a person would: card out, Stop and confirm; else inactivity does it."""
        from app.ui.views import Intent, IntentKind

        with contextlib.suppress(Exception):
            await self.world.sims.remove_card(self.reader)
        for kind in (IntentKind.STOP, IntentKind.STOP_CONFIRMED, IntentKind.FINISH):
            if self.screen() == "welcome":
                break
            with contextlib.suppress(Exception):
                self.window.intents.emit(Intent(kind))
            await asyncio.sleep(1.5)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 240
        while self.screen() != "welcome" and loop.time() < deadline:
            await asyncio.sleep(1.0)


def child_main(args: argparse.Namespace) -> int:
    from app.cli import main as kiosk_main
    from app.ui import probe

    driver = Driver(Path(args.out), args.sample_every, args.call_seconds)
    probe.on_attach(driver.attached)
    return kiosk_main(["demo", "--config", args.config, "--port", str(args.port)])


# ==== the doctor: in the soak's process ======================================================


async def doctor_call(doctor: Any, call_seconds: float, stats: dict[str, Any]) -> None:
    """One patient: take, see the video, talk, read the answer, send documents, hang up."""
    stats["stage"] = "waiting for a patient"
    await doctor.take_first_waiting(timeout=3600)
    stats["stage"] = "data channel"
    await doctor.until(lambda: doctor.channel_open, 60, "channel")
    stats["stage"] = "patient video"
    await doctor.until(lambda: doctor.frames >= 10, 60, "patient video")
    await doctor.say(DOCTOR_SAYS)
    stats["stage"] = "patient text"
    await doctor.until(lambda: PATIENT_WRITES in doctor.texts, 90, "patient text")
    # A platform mints a new id for every document; the store keys documents by it.
    for kind, title, text in DOCUMENTS:
        await doctor.send_document(kind, title, text, document_id=f"soak-doc-{uuid.uuid4().hex}")
    stats["stage"] = "talking"
    await asyncio.sleep(call_seconds)
    await doctor.hang_up()
    stats["stage"] = "hung up"
    await asyncio.sleep(1.0)  # the bye leaves before the console closes
    stats["calls"] += 1
    stats["frames_from_kiosk"] += doctor.frames


async def doctor_loop(base_url: str, call_seconds: float, stats: dict[str, Any]) -> None:
    """For each patient who waits, a doctor logs in to the console, takes the call and leaves.

    A fresh console session per call, as a doctor's browser tab: nothing of the last
    call (peer connection, data channel) carries over into the next.
    """
    from kiosk_demo.doctor import ScriptedDoctor

    while True:
        doctor = ScriptedDoctor(base_url)
        try:
            await doctor.connect()
            await doctor_call(doctor, call_seconds, stats)
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            stats["doctor_timeouts"] += 1
            stats["last_doctor_problem"] = f"timeout at: {stats.get('stage')}"
            with contextlib.suppress(Exception):
                await doctor.hang_up()
        except Exception as exc:  # the platform not up yet, a refused login: try again
            stats["doctor_reconnects"] += 1
            stats["last_doctor_problem"] = f"{type(exc).__name__}: {exc}"[:200]
            await asyncio.sleep(5)
        finally:
            with contextlib.suppress(Exception):
                await doctor.close()


# ==== the soak: X server, kiosk process, doctor, figures ======================================


def read_samples(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text("utf-8").splitlines():
        with contextlib.suppress(ValueError):
            out.append(json.loads(line))
    return out


def _as_sample(r: dict[str, Any]) -> RuntimeSample:
    return RuntimeSample(
        r["at"],
        r["none_refs"],
        r["true_refs"],
        r["false_refs"],
        r["immortal"],
        r["rss_bytes"],
        r["gc_objects"],
    )


def summarize(
    records: list[dict[str, Any]],
    *,
    meta: dict[str, Any],
    rss_limit: float,
    outer: list[dict[str, Any]],
) -> dict[str, Any]:
    samples = [r for r in records if r.get("event") in ("sample", "session")]
    at_welcome = [r for r in records if r.get("event") == "session"]
    failed = [r for r in records if r.get("event") == "session-failed"]
    done = [r for r in records if r.get("event") == "session-done"]
    basis = at_welcome if len(at_welcome) >= 4 else samples
    v = verdict([_as_sample(r) for r in basis], rss_limit_mib_per_hour=rss_limit) if basis else None
    v_all = (
        verdict([_as_sample(r) for r in samples], rss_limit_mib_per_hour=rss_limit)
        if samples
        else None
    )
    first, last = (samples[0], samples[-1]) if samples else ({}, {})
    mib = 2**20
    figures: dict[str, Any] = {
        **meta,
        "sessions_completed": len(done),
        "sessions_failed": len(failed),
        "measurements_skipped": sum(len(d.get("skipped", [])) for d in done),
        "measurements_skipped_by_device": dict(
            collections.Counter(x for d in done for x in d.get("skipped", []))
        ),
        "stale_presses": sum(d.get("stale_presses", 0) for d in done),
        "session_seconds_median": sorted(d["seconds"] for d in done)[len(done) // 2]
        if done
        else None,
        "failures": [{k: r.get(k) for k in ("t", "state", "error")} for r in failed][-20:],
        "rss_mib_first": round(first.get("rss_bytes", 0) / mib, 1),
        "rss_mib_last": round(last.get("rss_bytes", 0) / mib, 1),
        "rss_mib_max": round(max((r["rss_bytes"] for r in samples), default=0) / mib, 1),
        "none_refs_first": first.get("none_refs"),
        "none_refs_last": last.get("none_refs"),
        "none_immortal": bool(first.get("immortal")),
        "gc_objects_first": first.get("gc_objects"),
        "gc_objects_last": last.get("gc_objects"),
        "screens_built_last": last.get("builds"),
        "verdict_basis": (
            "session ends (welcome screen, settled), second half"
            if basis is at_welcome
            else "all samples, second half"
        ),
        "verdict": v.as_dict() if v else None,
        "verdict_all_samples": v_all.as_dict() if v_all else None,
        "outer_rss": outer[-200:],
        "top_types_first": next((r["top_types"] for r in samples if "top_types" in r), None),
        "top_types_last": next(
            (r["top_types"] for r in reversed(samples) if "top_types" in r), None
        ),
        "samples": [
            {
                k: r.get(k)
                for k in (
                    "event",
                    "t",
                    "sessions",
                    "failures",
                    "screen",
                    "builds",
                    "rss_bytes",
                    "none_refs",
                    "gc_objects",
                )
            }
            for r in samples
        ],
    }
    # The longest time the sessions did not move on (a kiosk frozen on one screen is not "flat").
    gap, mark, count = 0.0, 0.0, 0
    for r in samples:
        if r.get("sessions", 0) != count:
            count, mark = r["sessions"], r["t"]
        gap = max(gap, r["t"] - mark)
    figures["longest_without_a_session_s"] = round(gap, 1)
    figures["last_phase"] = samples[-1].get("phase") if samples else None
    crashed = meta.get("crash") is not None
    figures["passed"] = bool(
        not crashed
        and not meta.get("hung")
        and not meta.get("stuck")
        and len(done) >= 1
        and not failed
        and gap <= MAX_SESSION_GAP_S
        and v is not None
        and v.rss_flat
        and v.none_refs_stable
    )
    return figures


def table(figures: dict[str, Any]) -> str:
    rows = [
        ("minutes run", f"{figures['elapsed_s'] / 60:.1f} of {figures['minutes_planned']}"),
        ("kiosk exit", figures["kiosk_exit"]),
        ("crash", figures.get("crash") or "none"),
        ("hang", "yes" if figures.get("hung") else "none"),
        ("driver stuck", figures.get("stuck") or "no"),
        ("sessions completed", figures["sessions_completed"]),
        ("sessions failed", figures["sessions_failed"]),
        ("longest without a session (s)", figures["longest_without_a_session_s"]),
        ("median session (s)", figures["session_seconds_median"]),
        ("measurements skipped (device silent)", figures["measurements_skipped"]),
        ("doctor calls", figures["doctor"]["calls"]),
        (
            "RSS MiB first/last/max",
            f"{figures['rss_mib_first']} / {figures['rss_mib_last']} / {figures['rss_mib_max']}",
        ),
        (
            "None refcount first/last",
            f"{figures['none_refs_first']} / {figures['none_refs_last']}"
            + (" (immortal)" if figures["none_immortal"] else ""),
        ),
        ("gc objects first/last", f"{figures['gc_objects_first']} / {figures['gc_objects_last']}"),
    ]
    v = figures.get("verdict")
    if v:
        rows += [
            (
                f"RSS slope MiB/h, second half ({figures['verdict_basis']})",
                f"{v.get('rss_slope_mib_per_hour')} over {v.get('points')} points "
                f"(limit {v.get('rss_limit_mib_per_hour')}; flat: {v['rss_flat']})",
            ),
            (
                "None refs slope /min",
                f"{v['none_refs_slope_per_min']}"
                + ("" if v["none_refs_meaningful"] else " (immortal: not meaningful)"),
            ),
            ("gc objects slope /min", v["gc_objects_slope_per_min"]),
        ]
    rows.append(("PASSED", figures["passed"]))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {val}" for k, val in rows)


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    from tests.person.xserver import KioskProcess, Xvfb, demo_config, describe_exit

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("samples.jsonl", "soak.json"):
        (out / stale).unlink(missing_ok=True)
    config = demo_config(out)
    meta: dict[str, Any] = {
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "minutes_planned": args.minutes,
        "python": sys.version.split()[0],
        "pyside": ".".join(map(str, pyside_version() or ())),
        "sample_every_s": args.sample_every,
        "call_seconds": args.call_seconds,
        "rss_limit_mib_per_hour": args.rss_limit,
        "out": str(out),
        # The cabin's unit sets it (packaging/systemd/telecabine-kiosk.service): the soak says
        # under which allocator setting its RSS was measured.
        "malloc_arena_max": os.environ.get("MALLOC_ARENA_MAX"),
    }
    stats: dict[str, Any] = {
        "calls": 0,
        "frames_from_kiosk": 0,
        "doctor_timeouts": 0,
        "doctor_reconnects": 0,
        "last_doctor_problem": None,
    }
    outer: list[dict[str, Any]] = []
    started = time.monotonic()
    figures: dict[str, Any] = {}

    def write(kiosk: KioskProcess) -> dict[str, Any]:
        meta["elapsed_s"] = round(time.monotonic() - started, 1)
        meta["kiosk_exit"] = describe_exit(kiosk.proc.poll() if kiosk.proc else None)
        meta["doctor"] = dict(stats)
        result = summarize(
            read_samples(out / "samples.jsonl"), meta=meta, rss_limit=args.rss_limit, outer=outer
        )
        tmp = out / "soak.json.tmp"
        tmp.write_text(json.dumps(result, indent=2, default=str), "utf-8")
        tmp.replace(out / "soak.json")
        return result

    with Xvfb((1920, 1080), log=out / "xvfb.log") as x:
        meta["display"] = x.display
        kiosk = KioskProcess(
            x.display,
            out,
            config=config,
            argv=[],
            startup_s=120,
        )
        kiosk.argv = [
            sys.executable,
            "-m",
            "tests.soak.soak_kiosk",
            "--child",
            "--out",
            str(out),
            "--config",
            str(config),
            "--port",
            str(kiosk.port),
            "--sample-every",
            str(args.sample_every),
            "--call-seconds",
            str(args.call_seconds),
        ]
        kiosk.start()
        kiosk.probe.close()  # the probe proved the window is up; the soak reads samples.jsonl
        meta["kiosk_pid"] = kiosk.proc.pid if kiosk.proc else None
        doctor = asyncio.create_task(doctor_loop(kiosk.base_url, args.call_seconds, stats))
        deadline = started + args.minutes * 60
        last_count, last_change = 0, time.monotonic()
        try:
            while time.monotonic() < deadline:
                await asyncio.sleep(min(args.sample_every, max(0.5, deadline - time.monotonic())))
                code = kiosk.proc.poll() if kiosk.proc else None
                if code is not None and any(
                    r.get("event") == "driver-stuck" for r in read_samples(out / "samples.jsonl")
                ):
                    meta["stuck"] = (
                        f"{MAX_CONSECUTIVE_FAILURES} sessions failed in a row: the soak stopped the kiosk"
                    )
                    break
                if code is not None:
                    meta["crash"] = (
                        f"the kiosk ended by itself ({describe_exit(code)}) after {time.monotonic() - started:.0f} s"
                    )
                    break
                pid = kiosk.proc.pid if kiosk.proc else 0
                outer.append(
                    {
                        "t": round(time.monotonic() - started, 1),
                        "rss_mib": round(rss_bytes(pid) / 2**20, 1),
                    }
                )
                count = len(read_samples(out / "samples.jsonl"))
                if count != last_count:
                    last_count, last_change = count, time.monotonic()
                elif time.monotonic() - last_change > HANG_FACTOR * args.sample_every + 30:
                    meta["hung"] = True
                    if kiosk.proc is not None:
                        kiosk.proc.send_signal(signal.SIGABRT)  # faulthandler prints every thread
                    break
                figures = write(kiosk)
                if args.verbose:
                    print(
                        f"soak: {meta['elapsed_s'] / 60:5.1f} min, {figures['sessions_completed']} sessions, "
                        f"{figures['sessions_failed']} failed, RSS {figures['rss_mib_last']} MiB",
                        flush=True,
                    )
        finally:
            doctor.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await doctor
            code = kiosk.stop(timeout=60)
            if meta.get("crash") is None and code not in (0, None):
                meta["crash"] = (
                    f"the kiosk did not close cleanly when asked ({describe_exit(code)})"
                )
            figures = write(kiosk)
            meta["kiosk_exit"] = describe_exit(code)
            figures = write(kiosk)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--minutes", type=float, default=120.0)
    parser.add_argument("--out", default=None, help="output folder (default /tmp/soak-<time>)")
    parser.add_argument("--sample-every", type=float, default=30.0, help="seconds between samples")
    parser.add_argument(
        "--call-seconds", type=float, default=60.0, help="how long the doctor talks"
    )
    parser.add_argument(
        "--rss-limit",
        type=float,
        default=RSS_FLAT_MIB_PER_HOUR,
        help="RSS slope limit over the second half, MiB per hour",
    )
    parser.add_argument("--verbose", "-v", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main(args)
    if args.out is None:
        args.out = f"/tmp/soak-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}"
    figures = asyncio.run(soak(args))
    print(table(figures))
    print(
        f"soak: figures in {Path(args.out) / 'soak.json'}, the kiosk's log in {Path(args.out) / 'kiosk.log'}"
    )
    return 0 if figures["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
