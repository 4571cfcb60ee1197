"""The runtime check refuses the combination that aborts the kiosk; the leak detector reads."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from app import runtime
from app.runtime import RuntimeSample, runtime_problem, slope_per_minute, take_sample, verdict

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("python", "pyside"),
    [((3, 11, 7), (6, 12, 0)), ((3, 11, 9), (6, 12, 3)), ((3, 10, 13), (6, 12))],
)
def test_refuses_cpython_before_312_with_pyside_612(
    python: tuple[int, ...], pyside: tuple[int, ...]
) -> None:
    problem = runtime_problem(python=python, implementation="cpython", pyside=pyside)
    assert problem is not None
    assert "cannot start" in problem and "3.12 or newer" in problem
    assert "docs/runtime.md" in problem
    assert "Traceback" not in problem


@pytest.mark.parametrize(
    ("python", "implementation", "pyside"),
    [
        ((3, 12, 1), "cpython", (6, 12, 0)),
        ((3, 13, 0), "cpython", (6, 12, 0)),
        ((3, 11, 7), "cpython", (6, 11, 3)),  # measured: 6.11.3 on 3.11 does not leak
        ((3, 11, 7), "cpython", None),  # no Qt installed: nothing to refuse
        ((3, 11, 7), "pypy", (6, 12, 0)),
    ],
)
def test_accepts_the_rest(
    python: tuple[int, ...], implementation: str, pyside: tuple[int, ...] | None
) -> None:
    assert runtime_problem(python=python, implementation=implementation, pyside=pyside) is None


def test_this_venv_is_accepted() -> None:
    assert runtime_problem() is None
    assert runtime.pyside_version() is not None


def test_refusal_writes_one_sentence_and_an_exit_code(monkeypatch: pytest.MonkeyPatch) -> None:
    # app.runtime reads the interpreter's own `sys` module: patch that one.
    monkeypatch.setattr(sys, "version_info", (3, 11, 7, "final", 0))
    monkeypatch.setattr(runtime, "pyside_version", lambda: (6, 12, 0))
    out = io.StringIO()
    assert runtime.refuse_bad_runtime(out) == runtime.REFUSED_EXIT_CODE
    text = out.getvalue()
    assert text.count("\n") == 1 and "Python 3.11.7 with PySide6 6.12.0" in text


def test_kiosk_run_refuses_before_any_qt(tmp_path: Path) -> None:
    """`kiosk run` on a known-bad runtime: the sentence on stderr, exit 3, no traceback."""
    code = (
        "import sys; from app import runtime\n"
        "runtime.pyside_version = lambda: (6, 12, 0)\n"
        "from types import SimpleNamespace as N\n"
        "runtime.sys = N(version_info=(3, 11, 7), implementation=sys.implementation, stderr=sys.stderr)\n"
        "from app.cli import main\n"
        "sys.exit(main(['run', '--config', 'kiosk_config/examples/demo.toml']))\n"
    )
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == runtime.REFUSED_EXIT_CODE, out.stderr
    assert "The kiosk cannot start" in out.stderr
    assert "Traceback" not in out.stderr


def test_version_parsing() -> None:
    assert runtime._parse_version("6.12.0") == (6, 12, 0)
    assert runtime._parse_version("6.12.0rc1") == (6, 12, 0)
    assert runtime._parse_version("6.12.dev3") == (6, 12)


def test_sample_on_this_python() -> None:
    s = take_sample()
    assert s.rss_bytes > 10 * 2**20
    assert s.gc_objects > 1000
    assert s.immortal and s.none_refs >= runtime.IMMORTAL_THRESHOLD  # 3.12+ only (requires-python)


def _samples(
    rss_mib: Sequence[float],
    none_refs: Sequence[int],
    *,
    immortal: bool = False,
    step: float = 60.0,
) -> list[RuntimeSample]:
    return [
        RuntimeSample(i * step, n, n, n, immortal, int(r * 2**20), 100_000)
        for i, (r, n) in enumerate(zip(rss_mib, none_refs, strict=True))
    ]


def test_slope() -> None:
    assert slope_per_minute([(0, 0), (60, 1), (120, 2)]) == pytest.approx(1.0)
    assert slope_per_minute([(0, 5)]) == 0.0


def test_verdict_flat_and_growing() -> None:
    flat = verdict(_samples([200, 230, 231, 231.2, 231.1, 231.3], [10**6] * 6))
    assert flat.rss_flat and flat.none_refs_stable and flat.none_refs_meaningful
    growing = verdict(_samples([200, 210, 220, 230, 240, 250], [10**6] * 6))
    assert not growing.rss_flat and growing.rss_slope_mib_per_10min == pytest.approx(100.0)


def test_verdict_sees_the_311_none_leak() -> None:
    dying = verdict(_samples([200] * 6, [10**6 - 10_000 * i for i in range(6)]))
    assert dying.none_refs_meaningful and not dying.none_refs_stable
    assert dying.none_refs_slope_per_min == pytest.approx(-10_000)


def test_verdict_on_immortal_none_says_so() -> None:
    v = verdict(_samples([200] * 6, [2**32 - 1] * 6, immortal=True))
    assert not v.none_refs_meaningful and v.none_refs_stable and v.none_refs_slope_per_min == 0
