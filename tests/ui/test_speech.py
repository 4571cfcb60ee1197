"""Reading aloud: real espeak-ng renders each language; no sound card is handled quietly."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from app.ui.speech import Speaker
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
