"""The doctor's video on a lossy line: retransmissions asked again, and a lost one not waited for.

aiortc 1.16 (pinned) receives video through a `NackGenerator` and a 512-packet
`JitterBuffer`, both in private slots of `RTCRtpReceiver`. Two of their rules
freeze the doctor's picture on a lossy line:

- A missing packet is NACKed once, when the gap is first seen; it is asked
  again only inside the NACK of the *next* loss. When the NACK or its
  retransmission is itself lost, the hole waits for the next loss, and once it
  is 128 packets old (`RTP_HISTORY_SIZE`) it is never asked again.
- The buffer hands frames out in sequence order only, so one hole holds every
  later frame back until it is filled or the buffer spans 512 packets; only
  then does it drop the oldest frames and send a PLI. At the 25-45 packets/s
  the doctor's camera sent through the impairment relay, that is a freeze of
  10-20 s, and the P-frames decoded after the drop reference a frame the
  decoder never had.

`RetryingNackGenerator` asks each missing packet again every `NACK_RETRY_S`
(at most `NACK_RETRIES` times), as libwebrtc's NACK module does; Chromium
ignores a repeat that comes within its own RTT, so an early repeat costs a
few RTCP bytes. `LossTolerantJitterBuffer` hands a frame out at its marker
bit (aiortc waits for the next frame's first packet, a frame interval later),
waits `HOLE_WAIT_S` for a hole, then jumps to the next keyframe it holds or,
without one, drops what it holds, sends a PLI (again every `PLI_REPEAT_S`
while none comes: a PLI can be lost too) and hands out nothing until the
keyframe: a short freeze, never a picture built on a missing reference. Its
keyframe test reads VP8 (RFC 7741), the only video codec the session
negotiates (`_vp8_first`). Both are installed on each new receiver by
`use_video_receive_repair`, before the receiver starts.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from aiortc import RTCRtpReceiver
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtcrtpreceiver import NackGenerator
from aiortc.rtp import RtpPacket
from aiortc.utils import uint16_add, uint16_gt

NACK_RETRY_S = 0.1  # libwebrtc's default before it knows the RTT
NACK_RETRIES = 10
HOLE_WAIT_S = 1.0  # several NACK rounds on a 300 ms RTT; a freeze no longer than this
PLI_REPEAT_S = 0.5
VIDEO_CAPACITY = 512  # aiortc's own for video
STALE = 1000  # further behind than this is a restarted sequence, left to aiortc

Clock = Callable[[], float]


class RetryingNackGenerator(NackGenerator):
    """aiortc's NACK generator, whose holes are asked again until filled or given up.

    The receiver sends ``sorted(self.missing)`` each time `add` returns True,
    so `missing` is kept to the holes due now: new ones and those whose last
    NACK is `NACK_RETRY_S` old.
    """

    def __init__(self, clock: Clock = time.monotonic) -> None:
        super().__init__()
        self._clock = clock
        self._holes: dict[int, tuple[float, int]] = {}  # seq -> (last asked, times asked)

    def add(self, packet: RtpPacket) -> bool:
        seq = packet.sequence_number
        if self.max_seq is None:
            self.max_seq = seq
            return False
        if uint16_gt(seq, self.max_seq):
            hole = uint16_add(self.max_seq, 1)
            while uint16_gt(seq, hole):
                self._holes[hole] = (-math.inf, 0)
                hole = uint16_add(hole, 1)
            self.max_seq = seq
        else:
            self._holes.pop(seq, None)  # a retransmission (or a late packet) filled it
        now = self._clock()
        oldest = uint16_add(self.max_seq, -VIDEO_CAPACITY)
        due: set[int] = set()
        for hole, (asked_at, times) in list(self._holes.items()):
            if times >= NACK_RETRIES or uint16_gt(oldest, hole):
                del self._holes[hole]
            elif now - asked_at >= NACK_RETRY_S:
                self._holes[hole] = (now, times + 1)
                due.add(hole)
        self.missing = due
        return bool(due)


def _starts_keyframe(packet: RtpPacket) -> bool:
    """VP8 (RFC 7741): S=1 and PID=0 start a frame; its first header bit 0 is a keyframe."""
    payload, data = packet.payload, getattr(packet, "_data", b"")
    return bool(payload) and payload[0] & 0x17 == 0x10 and bool(data) and data[0] & 1 == 0


class LossTolerantJitterBuffer(JitterBuffer):
    """aiortc's video jitter buffer, which waits `HOLE_WAIT_S` for a hole and no longer."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        super().__init__(capacity=VIDEO_CAPACITY, is_video=True)
        self._clock = clock
        self._newest: int | None = None
        self._hole_since: float | None = None
        self._want_keyframe = False
        self._pli_at = -math.inf

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        now = self._clock()
        seq = packet.sequence_number
        if self._want_keyframe:
            if not _starts_keyframe(packet):
                return self._pli_due(now), None  # a P-frame whose reference was dropped
            self._want_keyframe = False
            self._origin = self._newest = None  # the buffer is empty: start at the keyframe
        elif self._origin is not None and 0 < uint16_add(self._origin, -seq) < STALE:
            # Behind what was handed out or skipped (a retransmission come too late):
            # aiortc would flush the whole buffer for one 100 packets behind.
            return False, None
        if self._newest is None or uint16_gt(seq, self._newest):
            self._newest = seq
        pli, frame = super().add(packet)
        if pli:
            self._pli_at = now
        if frame is not None:
            self._hole_since = None
        elif self._has_hole():
            if self._hole_since is None:
                self._hole_since = now
            elif now - self._hole_since >= HOLE_WAIT_S:
                self._hole_since = None
                if not self._skip_to_keyframe():
                    return self._pli_due(now), None
        return pli, frame

    def _remove_frame(self, sequence_number: int) -> JitterFrame | None:
        """The oldest frame once whole: ended by its marker bit, or by the next frame's start.

        aiortc waits for the next frame's first packet, a frame interval later,
        and a hole right after a whole keyframe then held it back too.
        """
        assert self._origin is not None
        packets: list[RtpPacket] = []
        for count in range(self.capacity):
            packet = self._packets[uint16_add(self._origin, count) % self.capacity]
            if packet is None:
                return None
            if packets and packet.timestamp != packets[0].timestamp:
                break
            packets.append(packet)
            if packet.marker:
                break
        else:
            return None
        self.remove(len(packets))
        data = b"".join(p._data for p in packets)  # type: ignore[attr-defined]  # depayloaded by the receiver
        return JitterFrame(data=data, timestamp=packets[0].timestamp)

    def _pli_due(self, now: float) -> bool:
        if now - self._pli_at < PLI_REPEAT_S:
            return False
        self._pli_at = now
        return True

    def _span(self) -> int:
        if self._origin is None or self._newest is None:
            return 0
        span = uint16_add(self._newest, -self._origin) + 1
        return span if span <= self.capacity else 0

    def _has_hole(self) -> bool:
        assert self._origin is not None
        return any(
            self._packets[uint16_add(self._origin, i) % self.capacity] is None
            for i in range(self._span())
        )

    def _skip_to_keyframe(self) -> bool:
        """Jump to the first keyframe held after the hole; without one, drop all and want one."""
        assert self._origin is not None
        span = self._span()
        for i in range(1, span):
            packet = self._packets[uint16_add(self._origin, i) % self.capacity]
            if packet is not None and _starts_keyframe(packet):
                self.remove(i)
                return True
        self.remove(span)
        self._want_keyframe = True
        return False


def use_video_receive_repair(receiver: RTCRtpReceiver) -> None:
    """Put the repairing NACK generator and jitter buffer into a new video receiver.

    Before `receive()` (so before the first packet): aiortc makes both in the
    receiver's constructor and only reads the slots afterwards.
    """
    setattr(receiver, "_RTCRtpReceiver__nack_generator", RetryingNackGenerator())  # noqa: B010 - private slot
    setattr(receiver, "_RTCRtpReceiver__jitter_buffer", LossTolerantJitterBuffer())  # noqa: B010 - private slot
