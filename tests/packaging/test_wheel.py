"""The cabin's install carries no demo, no reference platform and no demo key.

`pip install .` at the repository root installs the cabin's project: app/,
drivers/ and kiosk_config/. The demo (its fictional patients, its TEST signing
key, its scripted patient and doctor) and the reference platform (devtools/)
are another project, kiosk_demo/pyproject.toml, which adds `kiosk demo`
through an entry point (docs/architecture.md, "Two installs").

Both wheels are built here, offline, from a copy of their sources (the build
writes its egg-info and build/ beside the sources); then the cabin's wheel is
installed alone, and `kiosk demo` there says in one sentence how to install the
demo, with exit code 2.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRIVATE_SEED_HEX = "26616586d3891b8cc6f55d565d2f4e553f1ffeb7e34f8a6fc74c03db2da2cde6"

pytest.importorskip("setuptools", reason="the dev extra installs setuptools to build wheels")

_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules", "*.egg-info", "build")


def _wheel(project: Path, out: Path) -> Path:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(out),
            str(project),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = out.glob("*.whl")
    return wheel


@pytest.fixture(scope="module")
def cabin_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("cabin-src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("app", "drivers", "kiosk_config", "vocabulary", "kiosk_demo", "devtools", "tests"):
        # everything a careless package list could pick up is there to be left out
        shutil.copytree(ROOT / name, src / name, ignore=_IGNORE)
    return _wheel(src, tmp_path_factory.mktemp("cabin-wheel"))


def test_the_cabin_wheel_has_the_kiosk_and_nothing_of_the_demo(cabin_wheel: Path) -> None:
    with zipfile.ZipFile(cabin_wheel) as wheel:
        names = wheel.namelist()
        texts = [wheel.read(n) for n in names if not n.endswith(".png")]
    tops = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    assert tops == {"app", "drivers", "kiosk_config", "vocabulary"}
    for needed in ("app/main.py", "app/assembly.py", "drivers/simulators.py", "app/cli/run_cmd.py"):
        assert needed in names
    stems = [Path(n).name for n in names if n.endswith(".py")]
    assert [s for s in stems if s.startswith("test_") or "demo" in s] == []
    assert not any(PRIVATE_SEED_HEX.encode() in text for text in texts)  # no demo key
    assert not any(b"LAVIOLETTE" in text or b"HOARAU" in text for text in texts)  # no demo patient
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    with zipfile.ZipFile(cabin_wheel) as wheel:
        assert "telecabine.kiosk.commands" not in wheel.read(entry_points).decode()


def test_the_demo_project_carries_the_demo_and_the_reference_platform(
    tmp_path: Path,
) -> None:
    src = tmp_path / "src"
    shutil.copytree(ROOT / "kiosk_demo", src / "kiosk_demo", ignore=_IGNORE)
    shutil.copytree(ROOT / "devtools", src / "devtools", ignore=_IGNORE)
    wheel = _wheel(src / "kiosk_demo", tmp_path / "out")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        assert "demo = kiosk_demo.command:register" in archive.read(entry_points).decode()
    for needed in (
        "kiosk_demo/cards.py",
        "kiosk_demo/keys.py",
        "kiosk_demo/command.py",
        "devtools/platform/app.py",
        "devtools/platform/console/index.html",
        "devtools/platform/codesystems.json",
    ):
        assert needed in names, needed
    assert not any(n.startswith(("app/", "drivers/")) for n in names)


def test_kiosk_demo_on_the_cabin_install_says_how_to_install_it(
    cabin_wheel: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(cabin_wheel) as wheel:
        wheel.extractall(site)
    # -S: no .pth files, so none of this checkout's editable installs; the cabin's
    # files first, then the third-party libraries of this environment.
    code = (
        "import sys\n"
        f"sys.path[:0] = [{str(site)!r}, {sysconfig.get_paths()['purelib']!r}]\n"
        "import app, importlib.util\n"
        f"assert app.__file__.startswith({str(site)!r}), app.__file__\n"
        "assert importlib.util.find_spec('kiosk_demo') is None\n"
        "assert importlib.util.find_spec('devtools') is None\n"
        "from app.cli import main\n"
        "sys.exit(main(['demo', '--headless', '--out', 'x']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert result.stderr == (
        "The demo is not installed with this kiosk: run ./scripts/setup.sh from a clone of "
        "the repository (it installs it), or `pip install -e ./kiosk_demo` there, then try "
        "again.\n"
    )
