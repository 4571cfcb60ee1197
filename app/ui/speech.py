"""Reading a screen aloud, offline: espeak-ng renders a WAV, sounddevice plays it.

Why offline: the cabin may have no network, and the text of a screen may
contain the patient's name, which must not leave the kiosk. Why a
subprocess through asyncio: rendering takes a few hundred milliseconds and
must never freeze the screen. Playback runs in an executor (sounddevice
blocks). A failure (no espeak-ng, no sound card) is reported as a
`UiIncident` for the trace and otherwise stays quiet: the words are on the
screen anyway. The WAV files are deleted after playing and at the wipe,
because they may hold a name; they live in a private 0700 directory on
tmpfs ($XDG_RUNTIME_DIR) when there is one (`speech_directory`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import tempfile
import wave
from collections.abc import Callable
from pathlib import Path

from app.ui.i18n import espeak_voice
from app.ui.views import UiIncident

Player = Callable[[Path], None]
_RENDER_TIMEOUT_S = 20.0


class SpeechError(Exception):
    """Speech could not be rendered or played; `code` is the incident code."""

    def __init__(self, code: str, sentence: str) -> None:
        super().__init__(sentence)
        self.code = code
        self.sentence = sentence


def play_with_sounddevice(path: Path) -> None:
    """Play a 16-bit PCM WAV on the default output; blocks until done."""
    import numpy as np
    import sounddevice as sd

    with wave.open(str(path), "rb") as wav:
        rate = wav.getframerate()
        channels = wav.getnchannels()
        frames = wav.readframes(wav.getnframes())
    data = np.frombuffer(frames, dtype=np.int16)
    if channels > 1:
        data = data.reshape(-1, channels)
    sd.play(data, rate, blocking=True)


class Speaker:
    def __init__(
        self,
        workdir: Path,
        on_incident: Callable[[UiIncident], None],
        player: Player = play_with_sounddevice,
        espeak: str = "espeak-ng",
    ) -> None:
        self._workdir = workdir
        self.on_incident = on_incident  # the window points it at its `incidents` signal
        self._player = player
        self._espeak = espeak
        self._counter = itertools.count(1)
        self._current: asyncio.Task[bool] | None = None

    @property
    def workdir(self) -> Path:
        return self._workdir

    async def render(self, text: str, lang: str) -> Path:
        """Render `text` in `lang` to a new WAV file and return its path.

        Cancelled or failing half-way (the patient touched the next screen,
        the wipe came), nothing is left behind: espeak-ng is killed and
        reaped, and the half-written file, which may hold a name, is removed.
        """
        exe = shutil.which(self._espeak)
        if exe is None:
            raise SpeechError("speech-failed", "The speech synthesiser espeak-ng is not installed.")
        self._workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
        out = self._workdir / f"speech-{next(self._counter)}.wav"
        proc: asyncio.subprocess.Process | None = None
        try:
            proc = await asyncio.create_subprocess_exec(
                exe,
                "-v",
                espeak_voice(lang),
                "-s",
                "140",  # a little slower than the default 175 words per minute
                "-w",
                str(out),
                "--stdin",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                _, err = await asyncio.wait_for(
                    proc.communicate(text.encode("utf-8")), timeout=_RENDER_TIMEOUT_S
                )
            except TimeoutError:
                raise SpeechError(
                    "speech-failed", "The speech synthesiser took too long."
                ) from None
            if proc.returncode != 0 or not out.exists() or out.stat().st_size <= 44:
                raise SpeechError(
                    "speech-failed",
                    f"The speech synthesiser failed with status {proc.returncode} "
                    f"({len(err)} bytes of error output).",
                )
            return out
        except BaseException:
            if proc is not None and proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                with contextlib.suppress(BaseException):
                    await asyncio.shield(proc.wait())
            with contextlib.suppress(OSError):
                out.unlink()
            raise

    async def _say(self, text: str, lang: str) -> bool:
        path: Path | None = None
        try:
            path = await self.render(text, lang)
            loop = asyncio.get_running_loop()
            try:
                await loop.run_in_executor(None, self._player, path)
            except Exception as exc:  # any audio back-end failure: quiet, traced
                raise SpeechError(
                    "audio-failed", f"The sound could not be played ({type(exc).__name__})."
                ) from exc
            return True
        except SpeechError as exc:
            self.on_incident(UiIncident(exc.code, exc.sentence))
            return False
        finally:
            if path is not None:
                with contextlib.suppress(OSError):
                    path.unlink()

    def say(self, text: str, lang: str) -> asyncio.Task[bool]:
        """Start reading `text`; a new call replaces the one under way."""
        self.cancel()
        self._current = asyncio.ensure_future(self._say(text, lang))
        return self._current

    def cancel(self) -> None:
        if self._current is not None and not self._current.done():
            self._current.cancel()
        self._current = None

    def wipe(self) -> None:
        """Stop speaking and delete every rendered file (they may hold a name)."""
        self.cancel()
        if self._workdir.exists():
            for leftover in self._workdir.iterdir():
                with contextlib.suppress(OSError):
                    leftover.unlink()


def speech_directory() -> Path:
    """A private (0700) directory for the rendered words, in memory when the system allows.

    Why not the data directory: a WAV may hold the patient's name, and the
    disk keeps what a crash leaves. $XDG_RUNTIME_DIR is a per-user tmpfs
    (gone at power off, never on disk); without it, a fresh 0700 directory
    in the system's temporary directory. The window's wipe empties it at
    every session's end; `run` removes it at exit.
    """
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    parent = runtime if runtime and Path(runtime).is_dir() else None
    return Path(tempfile.mkdtemp(prefix="telecabine-speech-", dir=parent))
