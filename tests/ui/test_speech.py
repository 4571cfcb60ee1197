"""Reading aloud: real espeak-ng renders each language; no sound card is handled quietly."""

from __future__ import annotations

import asyncio
import os
import stat
import wave
from pathlib import Path

import pytest

from app.ui.speech import Speaker, speech_directory
from app.ui.views import UiIncident


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("fr", "Bienvenue. Touchez Commencer."),
        ("en", "Welcome. Touch Start."),
        ("ar", "أهلاً وسهلاً"),
    ],
)
async def test_speech_is_rendered_offline_in_each_language(
    tmp_path: Path, lang: str, text: str
) -> None:
    speaker = Speaker(tmp_path, lambda i: None)
    path = await speaker.render(text, lang)
    with wave.open(str(path), "rb") as wav:
        assert wav.getsampwidth() == 2
        assert wav.getnframes() / wav.getframerate() > 0.5  # at least half a second of speech
    speaker.wipe()
    assert list(tmp_path.glob("*.wav")) == []


async def test_no_sound_card_is_traced_and_quiet(tmp_path: Path) -> None:
    import sounddevice as sd

    if len(sd.query_devices()) > 0:
        pytest.skip("this machine has a sound device: playback would succeed")
    seen: list[UiIncident] = []
    speaker = Speaker(tmp_path / "speech", seen.append)
    ok = await speaker.say("Bonjour", "fr")
    assert ok is False
    assert [i.code for i in seen] == ["audio-failed"]
    assert seen[0].message.startswith("The sound could not be played (")
    assert list((tmp_path / "speech").glob("*.wav")) == []


async def test_a_missing_synthesiser_is_traced_with_a_sentence(tmp_path: Path) -> None:
    seen: list[UiIncident] = []
    speaker = Speaker(tmp_path, seen.append, espeak="no-such-espeak")
    assert await speaker.say("Bonjour", "fr") is False
    assert seen == [
        UiIncident("speech-failed", "The speech synthesiser espeak-ng is not installed.")
    ]


def _espeak_children() -> list[int]:
    """espeak-ng processes whose parent is this test process (read from /proc)."""
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        if name.startswith("espeak") and int(rest.split()[1]) == me:
            found.append(int(entry.name))
    return found


async def test_a_reading_cancelled_mid_render_leaves_no_process_and_no_file(
    tmp_path: Path,
) -> None:
    speaker = Speaker(tmp_path / "speech", lambda i: None)
    long_text = "Bonjour ZQXCANARY, vous êtes dans la cabine. " * 400
    task = asyncio.ensure_future(speaker.render(long_text, "fr"))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not list((tmp_path / "speech").glob("*.wav")) and loop.time() < deadline:
        await asyncio.sleep(0.01)  # espeak-ng has started writing the name to disk
    children = _espeak_children()
    assert children, "espeak-ng should be rendering now"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    print(f"\nespeak-ng pid(s) while rendering: {children}")
    assert _espeak_children() == []
    assert list((tmp_path / "speech").iterdir()) == []


def test_the_speech_directory_is_private_and_in_memory_when_possible(tmp_path: Path) -> None:
    os.environ["XDG_RUNTIME_DIR"], before = str(tmp_path), os.environ.get("XDG_RUNTIME_DIR")
    try:
        directory = speech_directory()
    finally:
        if before is None:
            del os.environ["XDG_RUNTIME_DIR"]
        else:
            os.environ["XDG_RUNTIME_DIR"] = before
    assert directory.parent == tmp_path
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
