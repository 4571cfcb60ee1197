"""BerryMed "BCI" pulse-oximeter frames over a BLE transparent UART, sans-I/O. Pure.

Source: BerryMed's own "BCI Protocol V1.2" (github.com/zh2x/BCI_Protocol,
`BCI Protocol V1.2.pdf`), cross-checked with two open readers (Adafruit's
CircuitPython BerryMed library, bgould/berrymed-pulseox-reader). Five-byte
frames at 100 Hz; only the first byte has bit 7 set (sync):

  byte 0  bits 0-3 signal strength (0-8) · bit 4 no signal · bit 5 probe
          unplugged · bit 6 pulse beep · bit 7 sync = 1
  byte 1  bits 0-6 pleth (0-100, 0 = invalid) · bit 7 = 0
  byte 2  bits 0-3 bar graph (0-15, 0 = invalid) · bit 4 no finger · bit 5
          pulse search ("pulse research" in the PDF) · bit 6 bit 7 of the pulse
          rate · bit 7 = 0
  byte 3  bits 0-6 pulse rate bits 0-6 (combined 255 = invalid) · bit 7 = 0
  byte 4  bits 0-6 SpO2 (0-100 %, 127 = invalid) · bit 7 = 0

Byte 0 bit 4 is "no signal" in the PDF; an older reader names it "searching
too long": same bit, same meaning for us (no usable pulse signal).

`BerryMedFramer.receive_data(bytes)` / `next_event()` gives `BciFrame`,
`FrameSkipped` (length and reason, never the bytes) or `NEED_DATA`. A frame is
taken when the byte after it is the next frame's sync byte, so a run of more
than 5 bytes between two sync bytes is seen whole: a single one is noise,
three in a row of the same length are a newer firmware's longer packets, which
the framer refuses with `BerryMedError(LONGER_PACKETS)` rather than misread.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

SERVICE_UUID = "49535343-fe7d-4aa5-8fa9-9fafd205e455"
NOTIFY_UUID = "49535343-1e4d-4bd9-ba61-23c647249616"
FRAME_LENGTH = 5
SAMPLE_RATE_HZ = 100
INVALID_PULSE_RATE = 255
INVALID_SPO2 = 127
LONGER_PACKETS_IN_A_ROW = 3
MAX_RUN = 64  # bytes without a sync byte after a frame start: noise, dropped


class BerryMedReason(enum.StrEnum):
    WRONG_LENGTH = "wrong-length"  # parse(): not 5 bytes
    NO_SYNC = "no-sync"  # byte 0 lacks bit 7
    SYNC_IN_BODY = "sync-in-body"  # bytes 1-4 have bit 7 set
    LONGER_PACKETS = "longer-packets"  # newer firmware's packets: not read
    NOISE = "noise"  # framer: bytes before a sync byte
    CUT_FRAME = "cut-frame"  # framer: a new sync byte came before 5 bytes
    OVERLONG = "overlong"  # framer: one run longer than a frame (noise)


class BerryMedError(Exception):
    """Bytes from the oximeter that are not a BCI frame the kiosk reads (the device's fault)."""

    def __init__(self, reason: BerryMedReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class BciFrame:
    """One 5-byte BCI frame, raw fields kept (so that `bytes(frame)` gives the input back)."""

    signal_strength: int  # 0-15 (0-8 in use)
    no_signal: bool
    probe_unplugged: bool
    pulse_beep: bool
    pleth: int = field(repr=False)  # 0-127 (0-100 in use, 0 = invalid)
    bar_graph: int
    no_finger: bool
    pulse_search: bool
    pulse_rate_raw: int = field(repr=False)  # 0-255, 255 = invalid
    spo2_raw: int = field(repr=False)  # 0-127, 127 = invalid

    @classmethod
    def parse(cls, data: bytes) -> BciFrame:
        return parse_frame(data)

    @property
    def finger_present(self) -> bool:
        return not (self.no_finger or self.probe_unplugged)

    @property
    def pulse_rate(self) -> int | None:
        """Beats per minute, or None when the device marks it invalid (255)."""
        return None if self.pulse_rate_raw == INVALID_PULSE_RATE else self.pulse_rate_raw

    @property
    def spo2(self) -> int | None:
        """SpO2 in %, or None when invalid (127) or above 100."""
        return None if self.spo2_raw > 100 else self.spo2_raw

    @property
    def status_names(self) -> tuple[str, ...]:
        names = (
            ("no-signal", self.no_signal),
            ("probe-unplugged", self.probe_unplugged),
            ("pulse-beep", self.pulse_beep),
            ("no-finger", self.no_finger),
            ("pulse-search", self.pulse_search),
        )
        return tuple(name for name, on in names if on)

    def __bytes__(self) -> bytes:
        b0 = 0x80 | (self.signal_strength & 0x0F)
        b0 |= 0x10 if self.no_signal else 0
        b0 |= 0x20 if self.probe_unplugged else 0
        b0 |= 0x40 if self.pulse_beep else 0
        b2 = self.bar_graph & 0x0F
        b2 |= 0x10 if self.no_finger else 0
        b2 |= 0x20 if self.pulse_search else 0
        b2 |= 0x40 if self.pulse_rate_raw & 0x80 else 0
        return bytes((b0, self.pleth & 0x7F, b2, self.pulse_rate_raw & 0x7F, self.spo2_raw & 0x7F))


def parse_frame(data: bytes) -> BciFrame:
    """Exactly one frame: 5 bytes, sync bit on the first only."""
    data = bytes(data)
    if len(data) != FRAME_LENGTH:
        reason = BerryMedReason.LONGER_PACKETS if len(data) > 5 else BerryMedReason.WRONG_LENGTH
        raise BerryMedError(
            reason, f"A BCI frame is {FRAME_LENGTH} bytes long; these are {len(data)}."
        )
    if not data[0] & 0x80:
        raise BerryMedError(
            BerryMedReason.NO_SYNC, "The first byte of a BCI frame must have its sync bit (7) set."
        )
    for index in range(1, FRAME_LENGTH):
        if data[index] & 0x80:
            raise BerryMedError(
                BerryMedReason.SYNC_IN_BODY,
                f"Byte {index} of a BCI frame has bit 7 set; only the first byte may.",
            )
    b0, b1, b2, b3, b4 = data
    return BciFrame(
        signal_strength=b0 & 0x0F,
        no_signal=bool(b0 & 0x10),
        probe_unplugged=bool(b0 & 0x20),
        pulse_beep=bool(b0 & 0x40),
        pleth=b1,
        bar_graph=b2 & 0x0F,
        no_finger=bool(b2 & 0x10),
        pulse_search=bool(b2 & 0x20),
        pulse_rate_raw=b3 | (b2 & 0x40) << 1,
        spo2_raw=b4,
    )


@dataclass(frozen=True, slots=True)
class FrameSkipped:
    """Bytes dropped from the stream: how many and why (never the bytes themselves)."""

    length: int
    reason: BerryMedReason


class NeedData(enum.Enum):
    NEED_DATA = "need-data"


NEED_DATA = NeedData.NEED_DATA
Event = BciFrame | FrameSkipped


class BerryMedFramer:
    """Stream state: `receive_data(bytes)`, then `next_event()` until NEED_DATA.

    `end_of_stream()` releases a last complete frame that no sync byte follows.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._long_length = 0  # length of the last overlong run, and how many in a row
        self._long_count = 0

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def receive_data(self, data: bytes) -> None:
        self._buf += data

    def end_of_stream(self) -> BciFrame | None:
        buf, self._buf = self._buf, bytearray()
        if len(buf) == FRAME_LENGTH and buf[0] & 0x80 and not any(b & 0x80 for b in buf[1:]):
            return parse_frame(bytes(buf))
        return None

    def _skip(self, length: int, reason: BerryMedReason) -> FrameSkipped:
        del self._buf[:length]
        if reason is not BerryMedReason.OVERLONG:
            self._long_count = 0
        return FrameSkipped(length, reason)

    def next_event(self) -> Event | NeedData:
        buf = self._buf
        if not buf:
            return NEED_DATA
        if not buf[0] & 0x80:
            start = next((i for i, b in enumerate(buf) if b & 0x80), len(buf))
            return self._skip(start, BerryMedReason.NOISE)
        following = next((i for i in range(1, len(buf)) if buf[i] & 0x80), -1)
        if following < 0:
            if len(buf) > MAX_RUN:
                return self._skip(len(buf), BerryMedReason.OVERLONG)
            return NEED_DATA
        if following < FRAME_LENGTH:
            return self._skip(following, BerryMedReason.CUT_FRAME)
        if following > FRAME_LENGTH:
            if following == self._long_length:
                self._long_count += 1
            else:
                self._long_length, self._long_count = following, 1
            if self._long_count >= LONGER_PACKETS_IN_A_ROW:
                self._long_count = 0
                del self._buf[:following]
                raise BerryMedError(
                    BerryMedReason.LONGER_PACKETS,
                    f"The oximeter sends packets of {following} bytes, not the 5-byte BCI frames "
                    f"the kiosk reads: its firmware speaks a newer protocol.",
                )
            return self._skip(following, BerryMedReason.OVERLONG)
        self._long_count = 0
        frame = parse_frame(bytes(buf[:FRAME_LENGTH]))
        del buf[:FRAME_LENGTH]
        return frame

    def frames(self, data: bytes) -> list[Event]:
        """Feed `data` and drain every event (raises like `next_event`)."""
        self.receive_data(data)
        out: list[Event] = []
        while (event := self.next_event()) is not NEED_DATA:
            assert not isinstance(event, NeedData)
            out.append(event)
        return out
