"""Rules of the house that a machine can check.

The import graph is read with `ast` from every module of the tree, imports
inside functions included (`import x`, `from x import y`, relative imports
resolved, and `importlib.import_module("x")` with a literal name):

1. product code (app/, drivers/, kiosk_config/, vocabulary/) never imports the demo
   (kiosk_demo), devtools, tests, or a module named like a test or a demo,
   and has no module so named itself;
2. app/ui never imports the entry point (app.main): arrows point down;
3. drivers/ never imports app/;
4. Qt (PySide6, shiboken6, qasync) is imported only under app/ui/, by the
   entry point app/main.py, and by the demo's home kiosk_demo/ (its headless
   patient drives the real window offscreen). The demo's operator panel is a
   screen like the others, in app/ui/operator_panel.py: its captions are in the
   product's catalogues, and it knows the demo only as the object it is handed;
5. vocabulary/ (the words drivers/ and app/ share) imports only itself and the
   standard library: nothing of app/, drivers/, kiosk_config/, nor a third-party library.

Each rule is shown to fail on a deliberately bad file in a throwaway tree.
docs/architecture.md gives the map these rules keep.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PRODUCT = ("app", "drivers", "kiosk_config", "vocabulary")
SCANNED = (*PRODUCT, "devtools", "kiosk_demo")
QT_MODULES = frozenset({"PySide6", "shiboken6", "qasync"})
QT_ALLOWED = ("app/ui/", "app/main.py", "kiosk_demo/")
APART = frozenset({"kiosk_demo", "devtools", "tests"})  # never imported by product code
_VOCABULARY_MAY_IMPORT = frozenset({"vocabulary", "__future__", *sys.stdlib_module_names})


@dataclass(frozen=True, slots=True)
class Violation:
    path: str  # relative to the tree's root, with "/"
    line: int
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: imports {self.imported} ({self.rule})"


def _test_or_demo_named(part: str) -> bool:
    part = part.lower()
    return (
        part in {"test", "tests", "testing", "conftest", "demo"}
        or part.startswith(("test_", "demo_"))
        or part.endswith(("_test", "_tests", "_demo"))
    )


def _module_of(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted module) of every import in `path`, at any depth."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    package = _module_of(path, root)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join([*base, node.module] if node.module else base)
            else:
                stem = node.module or ""
            yield node.lineno, stem
            for alias in node.names:  # `from app import main` imports app.main
                yield node.lineno, f"{stem}.{alias.name}"
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (isinstance(node.func, ast.Name) and node.func.id == "__import__")
            )
        ):
            yield node.lineno, node.args[0].value


def check_tree(root: Path) -> list[Violation]:
    """Every breach of the five rules in the tree at `root`."""
    out: list[Violation] = []
    for top in SCANNED:
        if not (root / top).is_dir():
            continue
        for path in sorted((root / top).rglob("*.py")):
            if "node_modules" in path.parts:
                continue
            rel = path.relative_to(root).as_posix()
            module = _module_of(path, root)
            product = top in PRODUCT
            if product and any(_test_or_demo_named(p) for p in module.split(".")):
                out.append(Violation(rel, 1, module, "a product module named like a test or demo"))
            for line, name in imports_of(path, root):
                parts = name.split(".")
                if product and (parts[0] in APART or any(_test_or_demo_named(p) for p in parts)):
                    out.append(
                        Violation(rel, line, name, "product code imports demo/devtools/tests")
                    )
                if rel.startswith("app/ui/") and (
                    name == "app.main" or name.startswith("app.main.")
                ):
                    out.append(Violation(rel, line, name, "app/ui imports the entry point"))
                if top == "drivers" and parts[0] == "app":
                    out.append(Violation(rel, line, name, "drivers import app"))
                if top == "vocabulary" and parts[0] not in _VOCABULARY_MAY_IMPORT:
                    out.append(
                        Violation(rel, line, name, "vocabulary imports beyond the standard library")
                    )
                if parts[0] in QT_MODULES and not rel.startswith(QT_ALLOWED):
                    out.append(
                        Violation(rel, line, name, "Qt outside app/ui, app/main.py, kiosk_demo")
                    )
    return sorted(set(out), key=lambda v: (v.path, v.line, v.imported))


def test_the_tree_keeps_the_import_rules() -> None:
    assert [str(v) for v in check_tree(ROOT)] == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("rel", "text", "imported", "rule"),
    [
        (
            "drivers/card/driver.py",
            "def f():\n    from kiosk_demo.cards import FAMILY\n",
            "kiosk_demo.cards",
            "product code imports demo/devtools/tests",
        ),
        (
            "app/controller/x.py",
            "import devtools.platform\n",
            "devtools.platform",
            "product code imports demo/devtools/tests",
        ),
        (
            "kiosk_config/x.py",
            "import importlib\nM = importlib.import_module('drivers.card.test_patients')\n",
            "drivers.card.test_patients",
            "product code imports demo/devtools/tests",
        ),
        (
            "app/ui/screens/x.py",
            "def f():\n    from app.main import run\n",
            "app.main",
            "app/ui imports the entry point",
        ),
        (
            "app/ui/x.py",
            "from .. import main\n",
            "app.main",
            "app/ui imports the entry point",
        ),
        (
            "drivers/ble/x.py",
            "from app.domain.trace import IncidentCode\n",
            "app.domain.trace",
            "drivers import app",
        ),
        (
            "vocabulary/x.py",
            "from drivers.events import DeviceKind\n",
            "drivers.events",
            "vocabulary imports beyond the standard library",
        ),
        (
            "vocabulary/x.py",
            "def f():\n    import pydantic\n",
            "pydantic",
            "vocabulary imports beyond the standard library",
        ),
        (
            "app/controller/x.py",
            "def f():\n    from PySide6.QtCore import QTimer\n",
            "PySide6.QtCore",
            "Qt outside app/ui, app/main.py, kiosk_demo",
        ),
        (
            "devtools/platform/x.py",
            "import qasync\n",
            "qasync",
            "Qt outside app/ui, app/main.py, kiosk_demo",
        ),
    ],
)
def test_each_rule_catches_a_bad_import(
    tmp_path: Path, rel: str, text: str, imported: str, rule: str
) -> None:
    root = _tree(tmp_path, {rel: text, "app/ui/ok.py": "from PySide6.QtCore import Qt\n"})
    found = [(v.path, v.imported, v.rule) for v in check_tree(root)]
    assert (rel, imported, rule) in found
    assert all(path == rel for path, _, _ in found), found  # the good file passes


def test_a_product_module_named_like_a_test_or_demo_is_refused(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "drivers/card/test_patients.py": "X = 1\n",
            "app/cli/demo_world.py": "X = 1\n",
            "kiosk_demo/cards.py": "X = 1\n",  # the demo's home may be named so
        },
    )
    assert [(v.path, v.rule) for v in check_tree(root)] == [
        ("app/cli/demo_world.py", "a product module named like a test or demo"),
        ("drivers/card/test_patients.py", "a product module named like a test or demo"),
    ]


def test_the_demo_may_import_the_product_and_qt(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "kiosk_demo/script.py": (
                "from PySide6.QtWidgets import QApplication\n"
                "from app.assembly import assemble\nimport devtools.platform\n"
            ),
            "app/main.py": "import qasync\nfrom app.ui.call_bridge import bind_window\n",
        },
    )
    assert check_tree(root) == []


def test_qt_is_confined_to_ui_and_main() -> None:
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "check_qt_imports.sh")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
