"""Call quality from WebRTC statistics, as a pure classifier with hysteresis.

Inputs are what both peers can measure: round-trip time (RTCP), packet loss
over the last interval, and the frame rate actually decoded. A patient needs a
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
    loss: float  # 0..1 over the last interval, worst of both directions
    fps: float | None  # decoded remote frames per second; None when no video is expected


GOOD_RTT_MS, FAIR_RTT_MS = 300.0, 800.0
GOOD_LOSS, FAIR_LOSS = 0.03, 0.10
GOOD_FPS, FAIR_FPS = 15.0, 8.0


def classify(sample: QualitySample) -> QualityLevel:
    rtt = sample.rtt_ms if sample.rtt_ms is not None else 0.0
    fps = sample.fps
    if rtt <= GOOD_RTT_MS and sample.loss <= GOOD_LOSS and (fps is None or fps >= GOOD_FPS):
        return QualityLevel.GOOD
    if rtt <= FAIR_RTT_MS and sample.loss <= FAIR_LOSS and (fps is None or fps >= FAIR_FPS):
        return QualityLevel.FAIR
    return QualityLevel.POOR


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
        return QualityDecision(self.level, changed, fall_back, restore, step_down, step_up)
