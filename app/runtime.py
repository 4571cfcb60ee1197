"""The runtime the kiosk runs on: a start-up check, and a leak detector for the soak.

    problem = runtime_problem()           # None, or a sentence for the technician
    code = refuse_bad_runtime()           # `kiosk run` / `kiosk demo`: exit code or None
    sample = take_sample()                # None/True/False refcounts, RSS, gc objects
    slope = slope_per_minute(points)      # least-squares trend of (seconds, value) points

Why a check at start: on CPython 3.11, PySide6-Essentials 6.12.0 drops one
reference to None (and to True/False) on every void-returning Qt call
(`QPainter.setPen`, `save`, `setEnabled`...): ~170 a second on the idle
welcome screen, ~1 200 a second in a call. When the count reaches zero the
interpreter aborts with `Fatal Python error: none_dealloc` (once
`bool_dealloc`): minutes into a consultation, or 4 min 30 s idle. From 3.12
on, None, True and False are immortal (PEP 683: their count is pinned at
2**32 - 1 and never changes), so that leak cannot kill the process. A cabin
that was installed with an older interpreter must say so plainly at start,
not abort later in front of a patient. See docs/runtime.md.

No Qt import here: the PySide6 version is read from the installed package's
metadata, so the check runs before any Qt module is loaded.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from types import EllipsisType
from typing import Any

MIN_SAFE_PYTHON = (3, 12)  # None/True/False immortal from here on (PEP 683)
REFUSED_EXIT_CODE = 3  # distinct from a configuration error (2) for the technician and systemd
# A refcount at or above this is an immortal object's pinned count (3.12+: 2**32 - 1 on 64 bits).
IMMORTAL_THRESHOLD = 2**31 - 1
_PYSIDE_DISTRIBUTIONS = ("PySide6-Essentials", "PySide6")


@dataclass(frozen=True, slots=True)
class KnownBad:
    """A combination that is known to kill the kiosk, and what was seen."""

    implementation: str  # sys.implementation.name
    python_below: tuple[int, int]
    pyside_prefix: tuple[int, ...]  # (6, 12) matches every 6.12.x
    seen: str


KNOWN_BAD: tuple[KnownBad, ...] = (
    KnownBad(
        "cpython",
        MIN_SAFE_PYTHON,
        (6, 12),
        "PySide6 6.12 loses a reference to None, True and False on every void Qt call; "
        "the kiosk aborts with 'Fatal Python error: none_dealloc' after a few minutes",
    ),
)


def pyside_version() -> tuple[int, ...] | None:
    """The installed PySide6 version from package metadata (no Qt import), or None."""
    for name in _PYSIDE_DISTRIBUTIONS:
        try:
            text = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        return _parse_version(text)
    return None


def _parse_version(text: str) -> tuple[int, ...]:
    parts: list[int] = []
    for piece in text.split("."):
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(piece):
            break
    return tuple(parts)


def _dotted(version: Sequence[int]) -> str:
    return ".".join(str(n) for n in version)


def runtime_problem(
    *,
    python: Sequence[int] | None = None,
    implementation: str | None = None,
    pyside: tuple[int, ...] | None | EllipsisType = ...,
) -> str | None:
    """A plain sentence when this Python + PySide6 is known to kill the kiosk, else None.

    The arguments default to the running interpreter and the installed PySide6;
    tests pass others.
    """
    py = tuple(python if python is not None else sys.version_info[:3])
    impl = implementation if implementation is not None else sys.implementation.name
    qt = pyside_version() if isinstance(pyside, EllipsisType) else pyside
    if qt is None:
        return None  # no PySide6: nothing Qt will run (the check of `kiosk run` is about Qt)
    for bad in KNOWN_BAD:
        if impl != bad.implementation:
            continue
        if tuple(py[:2]) >= bad.python_below:
            continue
        if tuple(qt[: len(bad.pyside_prefix)]) != bad.pyside_prefix:
            continue
        return (
            f"The kiosk cannot start: Python {_dotted(py)} with PySide6 {_dotted(qt)} is known "
            f"to crash ({bad.seen}). Install the kiosk on Python "
            f"{_dotted(bad.python_below)} or newer (the cabin runs Python 3.13, Debian 13): "
            "run scripts/setup.sh, which remakes the .venv with a newer Python, or install the "
            "cabin package. See docs/runtime.md."
        )
    return None


def refuse_bad_runtime(stream: Any = None) -> int | None:
    """At the start of `kiosk run` / `kiosk demo`: None to go on, or the exit code to stop with.

    The sentence goes to stderr (the journal on a cabin); no traceback.
    """
    problem = runtime_problem()
    if problem is None:
        return None
    print(problem, file=stream if stream is not None else sys.stderr, flush=True)
    return REFUSED_EXIT_CODE


# ---- the leak detector --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuntimeSample:
    """One look at the process: what a slow leak or a dying refcount would show."""

    at: float  # time.monotonic()
    none_refs: int
    true_refs: int
    false_refs: int
    immortal: bool  # None's count is pinned (3.12+): the three counts cannot move
    rss_bytes: int
    gc_objects: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size from /proc/<pid>/statm (0 where /proc is not there)."""
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as f:
            fields = f.read().split()
    except OSError:
        return 0
    return int(fields[1]) * os.sysconf("SC_PAGE_SIZE")


def immortal_singletons() -> bool:
    return sys.getrefcount(None) >= IMMORTAL_THRESHOLD


def take_sample(*, count_objects: bool = True) -> RuntimeSample:
    """Sample this process. `gc.get_objects()` walks every tracked object: ~10-50 ms."""
    none_refs = sys.getrefcount(None)
    true_refs = sys.getrefcount(True)
    false_refs = sys.getrefcount(False)
    objects = len(gc.get_objects()) if count_objects else 0
    return RuntimeSample(
        at=time.monotonic(),
        none_refs=none_refs,
        true_refs=true_refs,
        false_refs=false_refs,
        immortal=none_refs >= IMMORTAL_THRESHOLD,
        rss_bytes=rss_bytes(),
        gc_objects=objects,
    )


def slope_per_minute(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) points, in value per minute (0 below 2 points)."""
    n = len(points)
    if n < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var == 0:
        return 0.0
    cov = sum((t - mean_t) * (v - mean_v) for t, v in points)
    return cov / var * 60.0


@dataclass(frozen=True, slots=True)
class LeakVerdict:
    """What a series of samples says about the three ways this process could die or swell."""

    rss_slope_mib_per_10min: float  # over the second half (after warm-up)
    rss_flat: bool
    none_refs_slope_per_min: float  # 0 on 3.12+ (immortal)
    none_refs_meaningful: bool  # False on 3.12+: the count is pinned
    none_refs_stable: bool
    gc_objects_slope_per_min: float
    rss_slope_mib_per_hour: float = 0.0  # the same slope, in the unit of the limit
    rss_limit_mib_per_hour: float = 0.0
    points: int = 0  # samples in the fitted half

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# RSS is flat when its least-squares slope over the second half of the run stays under this.
# The leak this detector was made for grew 32 MiB an hour (+5.3 MiB per 10 minutes, the
# 2-hour soak before malloc_trim). 12 MiB/h is ~100 MiB over an 8-hour day. Meant for runs of
# 30 minutes or more: over a short run's second half the session-to-session noise (+-7 MiB)
# gives hundreds of MiB/h either way (docs/runtime.md has the figures).
RSS_FLAT_MIB_PER_HOUR = 12.0
RSS_FLAT_MIB_PER_10MIN = RSS_FLAT_MIB_PER_HOUR / 6  # the older unit (soak.json still shows it)
NONE_REFS_STABLE_PER_MIN = 100.0  # 3.11 with PySide6 6.12 loses ~10 000 a minute idle


def verdict(
    samples: Sequence[RuntimeSample],
    *,
    rss_limit_mib_per_hour: float = RSS_FLAT_MIB_PER_HOUR,
    rss_limit_mib_per_10min: float | None = None,
) -> LeakVerdict:
    """Slopes over the second half of the run (the first half holds warm-up and caches).

    RSS: the least-squares slope of (time, RSS) over the second half of the samples,
    flat when under `rss_limit_mib_per_hour` (`rss_limit_mib_per_10min`, the older
    unit, wins when given).
    """
    limit_h = rss_limit_mib_per_10min * 6 if rss_limit_mib_per_10min is not None else None
    limit_h = limit_h if limit_h is not None else rss_limit_mib_per_hour
    half = samples[len(samples) // 2 :] if len(samples) >= 4 else samples
    t0 = half[0].at if half else 0.0
    per_min = slope_per_minute([(s.at - t0, s.rss_bytes / 2**20) for s in half])
    meaningful = bool(half) and not any(s.immortal for s in half)
    none = slope_per_minute([(s.at - t0, float(s.none_refs)) for s in half]) if meaningful else 0.0
    objects = slope_per_minute([(s.at - t0, float(s.gc_objects)) for s in half])
    return LeakVerdict(
        rss_slope_mib_per_10min=round(per_min * 10, 3),
        rss_flat=per_min * 60 < limit_h,
        none_refs_slope_per_min=round(none, 1),
        none_refs_meaningful=meaningful,
        none_refs_stable=(not meaningful) or abs(none) < NONE_REFS_STABLE_PER_MIN,
        gc_objects_slope_per_min=round(objects, 1),
        rss_slope_mib_per_hour=round(per_min * 60, 2),
        rss_limit_mib_per_hour=limit_h,
        points=len(half),
    )


# ---- native memory: glibc's heap after a call ----------------------------------------------

_libc: Any = None
_libc_looked = False


def _glibc() -> Any:
    """glibc through ctypes, or None (musl, macOS, no ctypes): looked up once."""
    global _libc, _libc_looked
    if not _libc_looked:
        _libc_looked = True
        try:
            import ctypes

            libc = ctypes.CDLL("libc.so.6")
            libc.malloc_trim.argtypes = [ctypes.c_size_t]
            libc.malloc_trim.restype = ctypes.c_int
            _libc = libc
        except (OSError, AttributeError):
            _libc = None
    return _libc


def trim_native_heap(*, collect: bool = True) -> int:
    """Collect cycles, then give the freed pages of every glibc malloc arena back to the system; bytes of RSS freed.

    Called when a call ends (app/call/session.py). A call decodes and encodes
    video in aiortc's threads (one decoder thread per received track, the
    encoder in the loop's executor): each thread allocates its 640x480 frames
    (~0.9 MiB each, 30 a second) from a glibc arena of its own, and glibc's
    dynamic mmap threshold soon takes such blocks from the arena heap rather
    than mmap. When the call's threads end, those arenas keep their freed
    pages; a new call's threads land in other arenas, so the process kept
    ~5 MiB more per 10 minutes of back-to-back sessions (the 2-hour soak, with
    Python objects flat). aiortc's peer connection, transports and tracks
    also form reference cycles, freed (with their buffers) only by a full
    collection: `gc.collect()` first (`collect=True`, ~0.1 s), then
    `malloc_trim(0)` walks every arena and returns its free pages (madvise).
    Between calls, never during one. 0 where the C library is not glibc.
    See docs/runtime.md.
    """
    libc = _glibc()
    if libc is None:
        return 0
    before = rss_bytes()
    if collect:
        gc.collect()  # the call's objects in reference cycles (aiortc's) hold frames until then
    libc.malloc_trim(0)
    return max(0, before - rss_bytes())
