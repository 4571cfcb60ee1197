"""Call quality from WebRTC statistics, as a pure classifier with hysteresis.

Inputs are about what the kiosk sends, as the doctor receives it: round-trip
time and loss from RTCP, and the frame rate the doctor's browser actually
decodes (its `ReceiverReport` each second, app/call/messages.py). Not the
kiosk's own decoding: that is the other direction, and aiortc's receiver
decodes far fewer frames than a browser on the same lossy line. A patient needs a
stable indicator, not one that flickers, so a level changes only after it has
been seen for several samples, and the audio-only fallback (charte §1.2: keep
the exchange going) waits for sustained poor quality and comes back only after
sustained good quality.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class QualityLevel(enum.StrEnum):
    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"


@dataclass(frozen=True)
class QualitySample:
    rtt_ms: float | None
    loss: float  # 0..1 over the last interval, the kiosk → doctor direction
    fps: float | None  # frames the doctor decoded per second; None when not known or not expected
    sent_fps: float | None = None  # the rate the kiosk's current rung sends, when fps is given
    freeze_s: float = 0.0  # seconds the doctor's browser counted frozen in the interval


GOOD_RTT_MS, FAIR_RTT_MS = 300.0, 800.0
GOOD_LOSS, FAIR_LOSS = 0.03, 0.10
FRAMES_SEEN_POOR_LOSS = 0.20
"""With the doctor's decoded frame rate at hand, loss alone makes a sample POOR only above 20 %:
retransmissions (NACK/RTX) and the decoder hide 2–10 % loss (Chromium keeps its full rate at 10 %,
docs/call-network.md), and the frames the doctor really sees already say when they do not."""
GOOD_FPS, FAIR_FPS = 15.0, 8.0
GOOD_FPS_SHARE, FAIR_FPS_SHARE = 0.8, 0.5
"""On a lower rung the doctor cannot see more than the rung sends: the thresholds are the lower of
the absolute ones and these shares of the sent rate (12 and 7.5 fps on a 15 fps rung)."""


FREEZE_POOR_S = 0.3
"""A second in which the doctor's picture froze this long is POOR whatever the average rate says:
a line that cannot carry the rung delivers frames in bursts (a capped, queueing line)."""


def fps_thresholds(sent_fps: float | None) -> tuple[float, float]:
    """(good, fair) frame-rate thresholds for a stream sent at `sent_fps`."""
    if sent_fps is None or sent_fps <= 0:
        return GOOD_FPS, FAIR_FPS
    return min(GOOD_FPS, GOOD_FPS_SHARE * sent_fps), min(FAIR_FPS, FAIR_FPS_SHARE * sent_fps)


def classify(sample: QualitySample) -> QualityLevel:
    rtt = sample.rtt_ms if sample.rtt_ms is not None else 0.0
    fps = sample.fps
    good_fps, fair_fps = fps_thresholds(sample.sent_fps)
    poor_loss = FAIR_LOSS if fps is None else FRAMES_SEEN_POOR_LOSS
    if fps is not None and sample.freeze_s >= FREEZE_POOR_S:
        return QualityLevel.POOR
    if rtt <= GOOD_RTT_MS and sample.loss <= GOOD_LOSS and (fps is None or fps >= good_fps):
        return QualityLevel.GOOD
    if rtt <= FAIR_RTT_MS and sample.loss <= poor_loss and (fps is None or fps >= fair_fps):
        return QualityLevel.FAIR
    return QualityLevel.POOR


def rr_fraction_lost(raw: float) -> float:
    """aiortc's `remote-inbound-rtp.fractionLost` as a fraction, 0..1.

    aiortc 1.16 (pinned) copies the RTCP receiver report's 8-bit fixed-point
    field as it is, 0..255, where the statistic means a fraction (RFC 3550
    §6.4.1: lost / expected × 256). Read as a fraction, 2 % loss (raw 5)
    looked like 500 % and the kiosk gave up its video on any lossy line
    (docs/call-network.md). tests/call/test_receiver_report_rules.py pins
    aiortc's behaviour.
    """
    return min(1.0, max(0.0, raw / 256.0))


def interval_loss(
    previous: tuple[int, int] | None, current: tuple[int, int]
) -> tuple[float, tuple[int, int]]:
    """Loss fraction between two (received, lost) cumulative counters.

    Counters may go backwards when a new peer connection replaces the old one;
    then the interval starts afresh.
    """
    received, lost = current
    if previous is None or received < previous[0] or lost < previous[1]:
        return 0.0, current
    d_received, d_lost = received - previous[0], lost - previous[1]
    expected = d_received + d_lost
    return (d_lost / expected if expected > 0 else 0.0), current


@dataclass(frozen=True)
class QualityDecision:
    level: QualityLevel
    level_changed: bool
    fall_back_to_audio: bool
    restore_video: bool
    step_down: bool = False  # one rung down the video ladder (VIDEO_LADDER), not yet audio-only
    step_up: bool = False  # one rung back up
    raw: QualityLevel | None = None  # this sample's own level, before smoothing (SendRate)


@dataclass(frozen=True)
class VideoRung:
    width: int
    height: int
    fps: int


VIDEO_LADDER: tuple[VideoRung, ...] = (
    VideoRung(640, 480, 30),
    VideoRung(640, 480, 15),
    VideoRung(320, 240, 15),
)
"""What the kiosk's camera track sends, best first; below the last rung: audio only."""


class QualityMonitor:
    """Smooths levels, walks the video ladder down and up, decides the audio-only fallback.

    Rules (hypothesis-tested in tests/call/test_quality_rules.py):
    - `feed(None)` is an interval in which no packet arrived: a cut or a stall,
      not a bad line. It changes nothing (the session's stall detection and
      reconnection deal with it), and it does not break the runs either.
    - `poor_for_step` POOR samples in a row move one rung down the ladder
      (`VIDEO_LADDER`); on its last rung, `poor_for_fallback` more POOR samples
      in a row give audio-only.
    - In audio-only, `good_for_restore` samples in a row that are not POOR bring
      the video back, on the last rung (a long line, RTT above GOOD_RTT_MS but
      sound, must not keep the video off for ever).
    - On a lower rung, `good_for_restore` GOOD samples in a row move one rung up.
    """

    def __init__(
        self,
        *,
        settle_samples: int = 2,
        poor_for_fallback: int = 3,
        good_for_restore: int = 10,
        poor_for_step: int = 2,
        ladder: tuple[VideoRung, ...] = VIDEO_LADDER,
    ) -> None:
        self._settle = settle_samples
        self._poor_for_fallback = poor_for_fallback
        self._good_for_restore = good_for_restore
        self._poor_for_step = poor_for_step
        self.ladder = ladder
        self.rung = 0
        self.level = QualityLevel.GOOD
        self.audio_only = False
        self._candidate = QualityLevel.GOOD
        self._candidate_count = 0
        self._poor_run = 0
        self._good_run = 0
        self._not_poor_run = 0

    @property
    def video_rung(self) -> VideoRung:
        return self.ladder[self.rung]

    def feed(self, sample: QualitySample | None) -> QualityDecision:
        if sample is None:  # no packet in the interval: a cut, not a bad line
            return QualityDecision(self.level, False, False, False)
        if self.audio_only:
            sample = QualitySample(rtt_ms=sample.rtt_ms, loss=sample.loss, fps=None)
        elif sample.fps is not None and sample.sent_fps is None:
            rung_fps = self.video_rung.fps
            sample = QualitySample(
                sample.rtt_ms, sample.loss, sample.fps, rung_fps, sample.freeze_s
            )
        raw = classify(sample)
        self._poor_run = self._poor_run + 1 if raw is QualityLevel.POOR else 0
        self._good_run = self._good_run + 1 if raw is QualityLevel.GOOD else 0
        self._not_poor_run = self._not_poor_run + 1 if raw is not QualityLevel.POOR else 0
        if raw is self._candidate:
            self._candidate_count += 1
        else:
            self._candidate, self._candidate_count = raw, 1
        changed = False
        if raw is not self.level and self._candidate_count >= self._settle:
            self.level, changed = raw, True
        last = len(self.ladder) - 1
        step_down = step_up = fall_back = restore = False
        if self.audio_only:
            if self._not_poor_run >= self._good_for_restore:
                restore, self.audio_only = True, False
                self.rung = last
                self._good_run = self._not_poor_run = 0
        elif self.rung < last and self._poor_run >= self._poor_for_step:
            step_down, self.rung, self._poor_run = True, self.rung + 1, 0
        elif self.rung == last and self._poor_run >= self._poor_for_fallback:
            fall_back, self.audio_only = True, True
            self._not_poor_run = 0
        elif self.rung > 0 and self._good_run >= self._good_for_restore:
            step_up, self.rung, self._good_run = True, self.rung - 1, 0
        return QualityDecision(self.level, changed, fall_back, restore, step_down, step_up, raw)


START_BPS = 350_000
"""Where the kiosk's video starts: below a 500 kbit/s line with the voice, as a browser's
congestion control starts low and climbs (docs/call-network.md, the 500 kbit/s row)."""
RATE_FLOOR_BPS, RATE_CEILING_BPS = 100_000, 1_500_000
RATE_UP, RATE_DOWN, RATE_EASE = 1.25, 0.7, 0.85
GOOD_FOR_UP = 3
"""GOOD samples in a row before each climb: aiortc's VP8 encoder restarts (a keyframe) on each
change of more than 10 %, so the rate climbs in few, larger steps."""
QUEUE_RTT_MS, QUEUE_GROWTH_MS = 100.0, 40.0
"""The line's queue is filling: RTT this far above the lowest of the last `RTT_WINDOW` samples
and still growing (this much over the last two samples). Growth is asked too, so a line that
is simply long (or became longer, a 4G hand-over) is not taken for a full queue."""
RTT_WINDOW = 30


class SendRate:
    """The video's send rate from the doctor's reports: climb while good, back off when poor.

    Why: the rung caps what a size and rate need, but not what the line can
    carry; aiortc's only estimate is the far end's REMB, which Chromium does
    not always send. Rules (tests/call/test_send_rate.py): `GOOD_FOR_UP` GOOD
    samples in a row with no queueing raise the rate by `RATE_UP`; a POOR one
    lowers it by `RATE_DOWN`; a filling queue (RTT above the window's lowest
    and growing) by `RATE_EASE`, before anything is lost; FAIR holds; the rate
    stays within [RATE_FLOOR_BPS, RATE_CEILING_BPS].
    """

    def __init__(self, start_bps: int = START_BPS) -> None:
        self.bps = max(RATE_FLOOR_BPS, min(RATE_CEILING_BPS, start_bps))
        self._rtts: list[float] = []
        self._good = 0

    def queueing(self) -> bool:
        rtts = self._rtts
        if len(rtts) < 3:
            return False
        return rtts[-1] - min(rtts) > QUEUE_RTT_MS and rtts[-1] - rtts[-3] > QUEUE_GROWTH_MS

    def feed(self, level: QualityLevel, rtt_ms: float | None) -> int:
        if rtt_ms is not None:
            self._rtts = [*self._rtts[-(RTT_WINDOW - 1) :], rtt_ms]
        queueing = self.queueing()
        self._good = self._good + 1 if level is QualityLevel.GOOD and not queueing else 0
        if level is QualityLevel.POOR:
            self.bps = max(RATE_FLOOR_BPS, int(self.bps * RATE_DOWN))
        elif queueing:
            self.bps = max(RATE_FLOOR_BPS, int(self.bps * RATE_EASE))
        elif self._good >= GOOD_FOR_UP:
            self.bps = min(RATE_CEILING_BPS, int(self.bps * RATE_UP))
            self._good = 0
        return self.bps
