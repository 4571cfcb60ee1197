"""A simulated BerryMed BM1000 pulse oximeter: BCI frames over the BLE transparent UART.

It streams 5-byte frames at `frame_rate_hz` (100, as the device), `frames_per_notification`
(4: 20-byte notifications) at a time, once a client subscribes. The pleth is a
pulse-shaped wave; the numbers are invalid (SpO2 127, pulse 255) for the first
`settling_frames`, as a real sensor searching for the pulse, then steady.

Behaviours (`behaviour`): normal; probe-unplugged; no-finger; garbage-bytes (noise
and cut frames between good ones: the framer must resynchronise); disconnect-mid-
measure (the link drops after `settling_frames`); longer-packets (a newer
firmware's 20-byte packets, which the kiosk must refuse). The link-level faults
of every simulated BLE device stay on `fault`.
"""

from __future__ import annotations

import asyncio
import enum
import math
import random

from drivers.ble import berrymed
from drivers.ble.berrymed import BciFrame
from drivers.ble.sim_air import BleFault, CharacteristicSpec, ServiceSpec, SimulatedPeripheral

_WRITE_UUID = "49535343-8841-43f4-a8d4-ecbe34729bb3"  # the UART's other direction (unused)


class BerryMedBehaviour(enum.StrEnum):
    NORMAL = "normal"
    PROBE_UNPLUGGED = "probe-unplugged"
    NO_FINGER = "no-finger"
    GARBAGE_BYTES = "garbage-bytes"
    DISCONNECT_MID_MEASURE = "disconnect-mid-measure"
    LONGER_PACKETS = "longer-packets"


class SimulatedBerryMed(SimulatedPeripheral):
    BEHAVIOURS = BerryMedBehaviour

    def __init__(
        self,
        address: str,
        name: str = "BerryMed",
        *,
        frame_rate_hz: float = berrymed.SAMPLE_RATE_HZ,
        frames_per_notification: int = 4,
        settling_frames: int = 50,
        measure_delay_s: float = 0.02,
        seed: int = 7,
        **kwargs: float,
    ) -> None:
        super().__init__(
            address,
            name,
            [
                ServiceSpec(
                    berrymed.SERVICE_UUID,
                    (
                        CharacteristicSpec(berrymed.NOTIFY_UUID, ("notify",)),
                        CharacteristicSpec(_WRITE_UUID, ("write-without-response",)),
                    ),
                )
            ],
            **kwargs,
        )
        self.behaviour = BerryMedBehaviour.NORMAL
        self.frame_rate_hz = frame_rate_hz
        self.frames_per_notification = max(1, frames_per_notification)
        self.settling_frames = settling_frames
        self.measure_delay_s = measure_delay_s
        self.next_spo2 = 97
        self.next_pulse_rate = 72
        self._rng = random.Random(seed)  # noqa: S311 - simulated noise, not a secret
        self.frames_sent = 0

    def on_subscribed(self, char_uuid: str) -> None:
        if char_uuid == berrymed.NOTIFY_UUID:
            self.spawn(self._stream)

    def frame(self, index: int) -> BciFrame:
        """Frame number `index` of the stream, under the current behaviour."""
        unplugged = self.behaviour is BerryMedBehaviour.PROBE_UNPLUGGED
        no_finger = self.behaviour is BerryMedBehaviour.NO_FINGER or unplugged
        settling = index < self.settling_frames or no_finger
        beat = 60.0 / max(int(self.next_pulse_rate), 1) * berrymed.SAMPLE_RATE_HZ
        phase = (index % beat) / beat
        pleth = 0 if no_finger else int(50 + 45 * math.sin(2 * math.pi * phase) ** 3)
        pulse = berrymed.INVALID_PULSE_RATE if settling else int(self.next_pulse_rate)
        return BciFrame(
            signal_strength=0 if no_finger else 6,
            no_signal=no_finger,
            probe_unplugged=unplugged,
            pulse_beep=not settling and phase < 1 / beat,
            pleth=max(0, min(pleth, 100)),
            bar_graph=0 if no_finger else max(1, pleth // 8),
            no_finger=no_finger,
            pulse_search=settling and not no_finger,
            pulse_rate_raw=pulse,
            spo2_raw=berrymed.INVALID_SPO2 if settling else int(self.next_spo2),
        )

    def _chunk(self, start: int) -> bytes:
        frames = [bytes(self.frame(start + i)) for i in range(self.frames_per_notification)]
        if self.behaviour is BerryMedBehaviour.LONGER_PACKETS:
            # A 20-byte packet with one header byte: what the kiosk must not misread.
            body = b"".join(f[1:] for f in frames).ljust(19, b"\x00")[:19]
            return bytes((0xFF,)) + body
        if self.behaviour is BerryMedBehaviour.GARBAGE_BYTES and start // len(frames) % 3 == 1:
            noise = bytes(self._rng.randrange(0, 0x80) for _ in range(self._rng.randrange(1, 6)))
            cut = frames[0][: self._rng.randrange(1, 5)]
            return noise + cut + b"".join(frames)
        return b"".join(frames)

    async def _stream(self) -> None:
        delay = self.measure_delay_s + (self.slow_delay_s if self.fault is BleFault.SLOW else 0)
        await asyncio.sleep(delay)
        index = 0
        period = self.frames_per_notification / self.frame_rate_hz
        while self.subscribed(berrymed.NOTIFY_UUID):
            mid = self.behaviour is BerryMedBehaviour.DISCONNECT_MID_MEASURE or (
                self.fault is BleFault.DISCONNECT_MID_MEASUREMENT
            )
            if mid and index >= self.settling_frames:
                self.drop_links()
                return
            self.notify(berrymed.NOTIFY_UUID, self._chunk(index))
            index += self.frames_per_notification
            self.frames_sent = index
            await asyncio.sleep(period)
