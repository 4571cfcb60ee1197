"""The waiting-room checks: camera, microphone and speaker, before the doctor joins.

Each check opens the device, proves it works, closes it, and returns a
CheckResult with a typed reason on failure; the UI maps the reason to a plain
sentence and the controller to the degraded path (no camera: audio call is
still offered; no microphone or speaker: the assisting professional is asked,
or the patient is sent to a nearby place). Bounded in time: the whole set
takes about two seconds.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from app.call.audio import SILENCE_DBFS, AudioSink, AudioSource, rms_dbfs
from app.call.errors import CheckFailureReason, DeviceUnavailable
from app.call.events import Incident, IncidentCode
from app.call.video import FrameSource

MICROPHONE_FLOOR_DBFS = -70.0
"""A live microphone in a quiet cabin still hears more than this; a dead one gives zeros."""


@dataclass(frozen=True)
class CheckResult:
    device: str  # "camera", "microphone", "speaker"
    failure: CheckFailureReason | None = None
    message: str = ""
    value: float | None = None  # frames per second, or peak level in dBFS

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclass(frozen=True)
class WaitingRoomReport:
    camera: CheckResult
    microphone: CheckResult
    speaker: CheckResult

    @property
    def ok(self) -> bool:
        return self.camera.ok and self.microphone.ok and self.speaker.ok

    @property
    def failures(self) -> tuple[CheckFailureReason, ...]:
        return tuple(
            r.failure for r in (self.camera, self.microphone, self.speaker) if r.failure is not None
        )


async def check_camera(
    source: FrameSource, *, frames: int = 5, timeout_s: float = 3.0
) -> CheckResult:
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(source.open(), timeout_s)
        start = 0.0
        async with asyncio.timeout(timeout_s):
            for n in range(frames + 1):
                image = await source.read()
                if n == 0:
                    start = loop.time()  # the rate counts intervals after the first picture
                if image.shape[:2] != (source.height, source.width):
                    raise DeviceUnavailable(
                        CheckFailureReason.CAMERA_NO_FRAMES,
                        f"The camera gives {image.shape[1]}×{image.shape[0]} pictures, "
                        f"not {source.width}×{source.height}.",
                    )
        elapsed = loop.time() - start
    except DeviceUnavailable as exc:
        return CheckResult("camera", exc.reason, str(exc))
    except TimeoutError:
        return CheckResult(
            "camera",
            CheckFailureReason.CAMERA_NO_FRAMES,
            f"The camera gave fewer than {frames} pictures in {timeout_s:g} seconds.",
        )
    finally:
        await source.close()
    return CheckResult("camera", value=frames / elapsed if elapsed > 0 else None)


async def check_microphone(
    source: AudioSource,
    *,
    seconds: float = 1.0,
    floor_dbfs: float = MICROPHONE_FLOOR_DBFS,
    timeout_s: float = 3.0,
) -> CheckResult:
    peak = SILENCE_DBFS
    try:
        await asyncio.wait_for(source.open(), timeout_s)
        async with asyncio.timeout(timeout_s):
            for _ in range(max(1, int(seconds / 0.02))):
                peak = max(peak, rms_dbfs(await source.read()))
    except DeviceUnavailable as exc:
        return CheckResult("microphone", exc.reason, str(exc))
    except TimeoutError:
        return CheckResult(
            "microphone",
            CheckFailureReason.MICROPHONE_UNAVAILABLE,
            f"The microphone gave no sound for {timeout_s:g} seconds.",
        )
    finally:
        await source.close()
    if peak < floor_dbfs:
        return CheckResult(
            "microphone",
            CheckFailureReason.MICROPHONE_SILENT,
            f"The microphone hears nothing (peak {peak:.0f} dBFS, floor {floor_dbfs:.0f} dBFS).",
            peak,
        )
    return CheckResult("microphone", value=peak)


async def check_speaker(sink: AudioSink, *, timeout_s: float = 3.0) -> CheckResult:
    """Opening the output stream is what can be checked without a listener in the cabin."""
    try:
        await asyncio.wait_for(sink.open(), timeout_s)
    except DeviceUnavailable as exc:
        return CheckResult("speaker", exc.reason, str(exc))
    except TimeoutError:
        return CheckResult(
            "speaker",
            CheckFailureReason.SPEAKER_UNAVAILABLE,
            f"The speaker did not open in {timeout_s:g} seconds.",
        )
    finally:
        await sink.close()
    return CheckResult("speaker")


async def run_checks(
    camera: FrameSource, microphone: AudioSource, speaker: AudioSink
) -> WaitingRoomReport:
    """Camera and microphone together (they are independent), then the speaker."""
    cam, mic = await asyncio.gather(check_camera(camera), check_microphone(microphone))
    return WaitingRoomReport(cam, mic, await check_speaker(speaker))


_INCIDENT_OF: dict[CheckFailureReason, IncidentCode] = {
    CheckFailureReason.CAMERA_UNAVAILABLE: IncidentCode.CAMERA_UNAVAILABLE,
    CheckFailureReason.CAMERA_NO_FRAMES: IncidentCode.CAMERA_UNAVAILABLE,
    CheckFailureReason.MICROPHONE_UNAVAILABLE: IncidentCode.MICROPHONE_UNAVAILABLE,
    CheckFailureReason.MICROPHONE_SILENT: IncidentCode.MICROPHONE_SILENT,
    CheckFailureReason.SPEAKER_UNAVAILABLE: IncidentCode.SPEAKER_UNAVAILABLE,
}


def incidents(report: WaitingRoomReport) -> list[Incident]:
    """The trace entries of a waiting-room report (reason codes only, no levels of the patient)."""
    return [
        Incident(_INCIDENT_OF[r.failure], {"device": r.device, "reason": r.failure.value})
        for r in (report.camera, report.microphone, report.speaker)
        if r.failure is not None
    ]
