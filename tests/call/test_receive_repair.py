"""The doctor's video on a lossy line: aiortc's NACK generator and jitter buffer, repaired.

Packets are real `RtpPacket`s carrying VP8 payload descriptors, fed to the
real aiortc classes and to ours, with a clock advanced by the test (one
packet every 40 ms, the doctor's camera at ~25 packets/s on a poor line).
"""

from __future__ import annotations

from dataclasses import dataclass

from aiortc import RTCPeerConnection
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtp import RtpPacket
from hypothesis import given
from hypothesis import strategies as st

from app.call.receive import (
    HOLE_WAIT_S,
    NACK_RETRIES,
    NACK_RETRY_S,
    LossTolerantJitterBuffer,
    RetryingNackGenerator,
    use_video_receive_repair,
)

STEP_S = 0.04
PACKETS_PER_FRAME = 2
KEY_EVERY = 25  # frames


@dataclass
class Clock:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now


def packet(seq: int) -> RtpPacket:
    """Packet `seq` of a stream of 2-packet frames, every 25th frame a keyframe."""
    frame, index = divmod(seq, PACKETS_PER_FRAME)
    first = index == 0
    vp8 = bytes([0x00 if frame % KEY_EVERY == 0 else 0x01]) + bytes([frame % 256]) * 20
    p = RtpPacket(
        payload_type=96,
        sequence_number=seq % 65536,
        timestamp=frame * 4500,
        marker=int(index == PACKETS_PER_FRAME - 1),
    )
    p.payload = bytes([0x10 if first else 0x00]) + vp8
    p._data = vp8  # type: ignore[attr-defined]  # what the receiver's depayload sets
    return p


def run(
    buffer: JitterBuffer, lost: set[int], late: dict[int, int], packets: int, clock: Clock
) -> tuple[list[tuple[float, int]], int]:
    """(time, frame) handed out, and the PLIs asked; `late[seq]` is when seq comes again."""
    out: list[tuple[float, int]] = []
    plis = 0
    again: dict[int, list[int]] = {}
    for seq, when in late.items():
        again.setdefault(when, []).append(seq)
    for seq in range(packets):
        clock.now += STEP_S
        for s in [*again.get(seq, []), *([] if seq in lost else [seq])]:
            pli, frame = buffer.add(packet(s))
            plis += pli
            if frame is not None:
                out.append((clock.now, frame.timestamp // 4500))
    return out, plis


def decodable(frames: list[int]) -> bool:
    """Each frame follows the one before it, or is a keyframe: no lost reference."""
    return all(b == a + 1 or b % KEY_EVERY == 0 for a, b in zip(frames, frames[1:], strict=False))


@given(st.data())
def test_holes_filled_in_time_give_every_frame_once_in_order(data: st.DataObject) -> None:
    packets = 400
    lost = data.draw(st.sets(st.integers(1, packets - 40), max_size=20))
    delay = st.integers(1, int(HOLE_WAIT_S / STEP_S) - 2)
    late = {seq: seq + data.draw(delay) for seq in lost}
    clock = Clock()
    out, _ = run(LossTolerantJitterBuffer(clock=clock), lost, late, packets, clock)
    frames = [f for _, f in out]
    assert frames == list(range(len(frames)))
    assert len(frames) >= packets // PACKETS_PER_FRAME - 1 - 20  # the backlog may still drain


p_frame_packets = st.integers(1, 700).filter(lambda s: (s // PACKETS_PER_FRAME) % KEY_EVERY)


@given(st.sets(p_frame_packets, min_size=1, max_size=30))
def test_a_hole_never_filled_costs_a_short_freeze_and_no_broken_picture(lost: set[int]) -> None:
    """Lost P-frame packets, never sent again: frames resume at the next keyframe."""
    clock = Clock()
    out, plis = run(LossTolerantJitterBuffer(clock=clock), lost, {}, 800, clock)
    frames = [f for _, f in out]
    assert decodable(frames)
    assert frames[-1] >= 800 // PACKETS_PER_FRAME - 1 - KEY_EVERY  # still moving at the end
    # No gap between frames handed out longer than the wait, a keyframe interval and a
    # PLI's worth: the stream's next keyframe comes by itself every KEY_EVERY frames.
    longest = max(b - a for (a, _), (b, _) in zip(out, out[1:], strict=False))
    assert longest <= HOLE_WAIT_S + KEY_EVERY * PACKETS_PER_FRAME * STEP_S + 2 * STEP_S


def test_aiortc_own_buffer_freezes_until_it_spans_512_packets() -> None:
    """Why the repair exists (aiortc 1.16): one lost packet, never retransmitted."""
    clock = Clock()
    out, plis = run(JitterBuffer(capacity=512, is_video=True), {21}, {}, 800, clock)
    times = [t for t, _ in out]
    longest = max(b - a for a, b in zip(times, times[1:], strict=False))
    assert longest > 490 * STEP_S and plis >= 1
    clock = Clock()
    out, plis = run(LossTolerantJitterBuffer(clock=clock), {21}, {}, 800, clock)
    times = [t for t, _ in out]
    assert max(b - a for a, b in zip(times, times[1:], strict=False)) < 2 * HOLE_WAIT_S


def test_a_packet_behind_the_buffer_is_dropped_not_a_flush() -> None:
    """aiortc flushes all it holds and asks a keyframe for a packet 100 behind its origin."""
    clock = Clock()
    buffer = LossTolerantJitterBuffer(clock=clock)
    out, _ = run(buffer, set(), {}, 300, clock)
    pli, frame = buffer.add(packet(150))  # a retransmission come far too late
    assert (pli, frame) == (False, None)
    assert buffer.add(packet(300)) == (False, None)
    pli, frame = buffer.add(packet(301))
    assert frame is not None and frame.timestamp // 4500 == out[-1][1] + 1


@given(st.sets(st.integers(1, 300), max_size=15), st.integers(1, 30))
def test_a_hole_is_asked_again_until_filled_and_at_most_so_often(
    lost: set[int], answered_after: int
) -> None:
    """Each hole's retransmission comes `answered_after` packets after it was first asked."""
    clock = Clock()
    nacks = RetryingNackGenerator(clock=clock)
    asked: dict[int, list[float]] = {}
    back: dict[int, list[int]] = {}
    filled_at: dict[int, float] = {}
    arrived: list[float] = []
    for i in range(340):
        clock.now += STEP_S
        for s in [*([] if i in lost else [i]), *back.pop(i, [])]:
            arrived.append(clock.now)
            if s in lost:
                filled_at[s] = clock.now
            if nacks.add(packet(s)):
                for hole in nacks.missing:
                    if hole not in asked:
                        back.setdefault(i + answered_after, []).append(hole)
                    asked.setdefault(hole, []).append(clock.now)
    assert set(asked) == lost
    for seq, times in asked.items():
        assert len(times) <= NACK_RETRIES
        assert all(b - a >= NACK_RETRY_S for a, b in zip(times, times[1:], strict=False))
        assert times[-1] <= filled_at[seq] + 1e-9  # never asked once filled
        if len(times) < NACK_RETRIES:
            # Asked again at the first packet to arrive once NACK_RETRY_S has passed.
            marks = [*times, filled_at[seq]]
            for a, b in zip(marks, marks[1:], strict=False):
                assert not [t for t in arrived if a + NACK_RETRY_S + 1e-9 < t < b - 1e-9]


async def test_the_repair_goes_into_a_new_receivers_slots() -> None:
    pc = RTCPeerConnection()
    try:
        receiver = pc.addTransceiver("video", direction="sendrecv").receiver
        use_video_receive_repair(receiver)
        slots = vars(receiver)  # private slots: what aiortc reads on each packet
        assert isinstance(slots["_RTCRtpReceiver__jitter_buffer"], LossTolerantJitterBuffer)
        assert isinstance(slots["_RTCRtpReceiver__nack_generator"], RetryingNackGenerator)
    finally:
        await pc.close()
