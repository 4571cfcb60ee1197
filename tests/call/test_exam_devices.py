"""The real stethoscope path: an audio input named in the site configuration, read raw.

The "USB stethoscope" is ALSA's ``file`` plugin under the name the site gives
it (``pcm.stethoscope`` in an ``.asoundrc`` of a temporary HOME), playing the
simulator's heartbeat; `stethoscope_for(config)` opens it by that name through
sounddevice (PortAudio), as a cabin would open its USB input. What it reads
must still be a heartbeat: the 40–120 Hz sounds, nothing much above.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.call.audio import SoundDeviceMicrophone
from app.call.exam import OTOSCOPE_FPS, heartbeat, otoscope_for, spectrum_db, stethoscope_for
from app.call.video import OpenCVFrameSource
from kiosk_config.loader import load_config
from kiosk_config.schema import KioskConfig, Otoscope, Stethoscope

DEMO = Path(__file__).resolve().parents[2] / "kiosk_config" / "examples" / "demo.toml"
ASOUNDRC = """
pcm.stethoscope {{
  type file
  slave.pcm "null"
  file "/dev/null"
  infile "{infile}"
  format "raw"
}}
"""


@pytest.fixture
def named_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    import sounddevice as sd

    home = tmp_path / "alsa-home"
    home.mkdir()
    (home / "heart.raw").write_bytes(heartbeat(20.0, bpm=60).astype("<i2").tobytes())
    (home / ".asoundrc").write_text(ASOUNDRC.format(infile=home / "heart.raw"))
    monkeypatch.setenv("HOME", str(home))
    sd._terminate()
    sd._initialize()
    yield "stethoscope"
    monkeypatch.undo()
    sd._terminate()
    sd._initialize()


def site(**sections: object) -> KioskConfig:
    return load_config(DEMO).model_copy(update=sections)


async def test_the_named_stethoscope_is_read_raw_and_keeps_the_heart_sounds(
    named_input: str,
) -> None:
    source = stethoscope_for(site(stethoscope=Stethoscope(device=named_input)))
    assert isinstance(source, SoundDeviceMicrophone)
    await source.open()
    try:
        blocks = [await source.read() for _ in range(150)]  # 3 s
    finally:
        await source.close()
    pcm = np.concatenate(blocks)
    hz, db = spectrum_db(pcm)
    heart = db[(hz >= 35) & (hz <= 130)].max()
    above = db[(hz >= 300) & (hz <= 4000)].max()
    assert heart - above > 40, (heart, above)
    assert np.abs(pcm).max() > 8000  # the sound itself, not silence


def test_without_sections_there_are_no_examination_devices() -> None:
    bare = site(stethoscope=None, otoscope=None)
    assert stethoscope_for(bare) is None and otoscope_for(bare) is None


def test_the_otoscope_is_opened_by_its_stable_path_or_its_index() -> None:
    by_path = otoscope_for(site(otoscope=Otoscope(device="/dev/v4l/by-id/usb-oto-video-index0")))
    assert isinstance(by_path, OpenCVFrameSource)
    assert (by_path.index, by_path.fps) == ("/dev/v4l/by-id/usb-oto-video-index0", OTOSCOPE_FPS)
    by_index = otoscope_for(site(otoscope=Otoscope(device="2")))
    assert isinstance(by_index, OpenCVFrameSource) and by_index.index == 2
