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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


RSS_FLAT_MIB_PER_10MIN = 1.0
NONE_REFS_STABLE_PER_MIN = 100.0  # 3.11 with PySide6 6.12 loses ~10 000 a minute idle


def verdict(
    samples: Sequence[RuntimeSample], *, rss_limit_mib_per_10min: float = RSS_FLAT_MIB_PER_10MIN
) -> LeakVerdict:
    """Slopes over the second half of the run (the first half holds warm-up and caches)."""
    half = samples[len(samples) // 2 :] if len(samples) >= 4 else samples
    t0 = half[0].at if half else 0.0
    rss = slope_per_minute([(s.at - t0, s.rss_bytes / 2**20) for s in half]) * 10
    meaningful = bool(half) and not any(s.immortal for s in half)
    none = slope_per_minute([(s.at - t0, float(s.none_refs)) for s in half]) if meaningful else 0.0
    objects = slope_per_minute([(s.at - t0, float(s.gc_objects)) for s in half])
    return LeakVerdict(
        rss_slope_mib_per_10min=round(rss, 3),
        rss_flat=rss < rss_limit_mib_per_10min,
        none_refs_slope_per_min=round(none, 1),
        none_refs_meaningful=meaningful,
        none_refs_stable=(not meaningful) or abs(none) < NONE_REFS_STABLE_PER_MIN,
        gc_objects_slope_per_min=round(objects, 1),
    )
