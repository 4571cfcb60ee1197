"""The call benchmark's measuring side: a sampler in the Chromium page and its arithmetic.

`SAMPLER_JS` installs ``window.benchSampler(getPc, periodMs)``: every
`periodMs` it reads the receiving RTCPeerConnection's getStats() (video
inbound-rtp framesDecoded, freezeCount, totalFreezesDuration; audio
inbound-rtp concealedSamples, totalSamplesReceived) into ``S.samples``. When
the page's connection is replaced (the kiosk reconnects with a new one) the
counters go on from where the old connection left them, so a window spans
reconnections. ``S.mark(name)`` notes an instant (the cut) in page time.

`summarise` turns a window of samples into the benchmark's row. Our freeze:
no new decoded frame for more than 500 ms, seen by polling every 100 ms (so a
freeze is measured to ±0.1 s and a gap just over 0.5 s may be missed); the
duration counted is the whole gap between the last frame before it and the
first after. Chromium's own freezeCount / totalFreezesDuration (its
definition: an inter-frame gap above max(3 × the mean, mean + 150 ms)) are
reported beside it.

`relayed_kiosk` is the kiosk whose TURN server is the relay: the platform's
per-call ICE answer (`/cabin/ice/{session}`, which names coturn itself and
which `CallSession` prefers to its settings) is ignored, as a site
configuration pointing at a different TURN address would want.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.call.audio import EnergyMeterSink, ToneMicrophone
from app.call.session import CallSession, CallSettings
from app.call.signalling import WebSocketSignalling
from app.call.video import TestPatternSource
from kiosk_config.schema import IceServer
from tests.call.conftest import EventLog

FREEZE_S = 0.5

SAMPLER_JS = """
window.benchSampler = function (getPc, periodMs) {
  const keys = ["frames", "freezes", "freezeDur", "concealed", "total"];
  const S = { samples: [], marks: {}, base: {}, last: null, lastPc: null, stopped: false };
  for (const k of keys) S.base[k] = 0;
  S.mark = (name) => { S.marks[name] = performance.now(); return S.marks[name]; };
  const tick = async () => {
    const pc = getPc();
    if (pc && pc.connectionState !== "closed") {
      if (pc !== S.lastPc && S.last) for (const k of keys) S.base[k] = S.last[k];
      S.lastPc = pc;
      let v = null, a = null;
      try {
        (await pc.getStats()).forEach((s) => {
          if (s.type === "inbound-rtp" && s.kind === "video") v = s;
          if (s.type === "inbound-rtp" && s.kind === "audio") a = s;
        });
      } catch (e) { /* closed under us */ }
      const cur = {
        t: performance.now(),
        frames: S.base.frames + ((v && v.framesDecoded) || 0),
        freezes: S.base.freezes + ((v && v.freezeCount) || 0),
        freezeDur: S.base.freezeDur + ((v && v.totalFreezesDuration) || 0),
        concealed: S.base.concealed + ((a && a.concealedSamples) || 0),
        total: S.base.total + ((a && a.totalSamplesReceived) || 0),
        height: (v && v.frameHeight) || 0,
      };
      S.samples.push(cur); S.last = cur;
    }
    if (!S.stopped) setTimeout(tick, periodMs);
  };
  tick();
  return S;
};
true
"""


@dataclass(frozen=True)
class Sample:
    t: float  # page time, s
    frames: float
    freezes: float
    freeze_s: float
    concealed: float
    total: float
    height: float

    @classmethod
    def from_js(cls, d: dict[str, Any]) -> Sample:
        return cls(
            d["t"] / 1000,
            d["frames"],
            d["freezes"],
            d["freezeDur"],
            d["concealed"],
            d["total"],
            d["height"],
        )


def freezes(samples: list[Sample], threshold_s: float = FREEZE_S) -> tuple[int, float]:
    """(count, total seconds) of gaps with no new frame longer than `threshold_s`.

    A gap runs from the sample that first saw a frame count to the sample that
    first saw a higher one; the window's edges count as frames (a window
    that starts or ends frozen counts that part).
    """
    if len(samples) < 2:
        return 0, 0.0
    news = [samples[0].t]
    news += [b.t for a, b in zip(samples, samples[1:], strict=False) if b.frames > a.frames]
    news.append(samples[-1].t)
    gaps = [b - a for a, b in zip(news, news[1:], strict=False) if b - a > threshold_s]
    return len(gaps), sum(gaps)


def first_progress_after(samples: list[Sample], t: float, field: str) -> float | None:
    """Seconds after page time `t` until `field` (frames, or heard audio) first grows."""

    def value(s: Sample) -> float:
        return s.frames if field == "frames" else s.total - s.concealed

    after = [s for s in samples if s.t >= t]
    for a, b in zip(after, after[1:], strict=False):
        if value(b) > value(a):
            return round(b.t - t, 2)
    return None


def summarise(samples: list[Sample]) -> dict[str, float]:
    """The row for one window of samples (the first and last bound it)."""
    first, last = samples[0], samples[-1]
    wall = last.t - first.t
    count, total = freezes(samples)
    audio = last.total - first.total
    return {
        "fps": round((last.frames - first.frames) / wall, 1),
        "freezes": count,
        "freeze_s": round(total, 1),
        "chromium_freezes": int(last.freezes - first.freezes),
        "chromium_freeze_s": round(last.freeze_s - first.freeze_s, 1),
        "audio_continuity_pct": round(
            100 * (1 - (last.concealed - first.concealed) / audio) if audio else 0.0, 1
        ),
        "height": last.height,
    }


class SiteIceSignalling(WebSocketSignalling):
    """The kiosk's ICE servers from its site configuration (the relay in front of
    coturn), not the platform's per-call answer, which names coturn itself."""

    async def call_ice_servers(self) -> tuple[IceServer, ...] | None:
        return None


def relayed_kiosk(
    base: str, settings: CallSettings, session_id: str
) -> tuple[CallSession, EventLog]:
    session = CallSession(
        signalling=SiteIceSignalling(base),
        session_id=session_id,
        cabin_id="DEMO-CAB-01",
        camera=TestPatternSource(),
        microphone=ToneMicrophone(),
        speaker=EnergyMeterSink(),
        settings=settings,
        summary=_summary(),
    )
    log = EventLog()
    session.add_listener(log)
    return session, log


def _summary() -> dict[str, Any]:
    from tests.call.test_call_e2e import SUMMARY

    return dict(SUMMARY)
