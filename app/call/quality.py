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


class QualityMonitor:
    """Smooths levels and decides the audio-only fallback."""

    def __init__(
        self, *, settle_samples: int = 2, poor_for_fallback: int = 3, good_for_restore: int = 10
    ) -> None:
        self._settle = settle_samples
        self._poor_for_fallback = poor_for_fallback
        self._good_for_restore = good_for_restore
        self.level = QualityLevel.GOOD
        self.audio_only = False
        self._candidate = QualityLevel.GOOD
        self._candidate_count = 0
        self._poor_run = 0
        self._good_run = 0

    def feed(self, sample: QualitySample) -> QualityDecision:
        if self.audio_only:
            sample = QualitySample(rtt_ms=sample.rtt_ms, loss=sample.loss, fps=None)
        raw = classify(sample)
        self._poor_run = self._poor_run + 1 if raw is QualityLevel.POOR else 0
        self._good_run = self._good_run + 1 if raw is QualityLevel.GOOD else 0
        if raw is self._candidate:
            self._candidate_count += 1
        else:
            self._candidate, self._candidate_count = raw, 1
        changed = False
        if raw is not self.level and self._candidate_count >= self._settle:
            self.level, changed = raw, True
        fall_back = not self.audio_only and self._poor_run >= self._poor_for_fallback
        restore = self.audio_only and self._good_run >= self._good_for_restore
        if fall_back:
            self.audio_only = True
        if restore:
            self.audio_only = False
            self._good_run = 0
        return QualityDecision(self.level, changed, fall_back, restore)
