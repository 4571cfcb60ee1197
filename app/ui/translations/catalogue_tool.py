"""Keep the catalogues complete: every message id the domain or the UI uses, in every language.

    python -m app.ui.translations.catalogue_tool check    # exit 1 and list what is missing
    python -m app.ui.translations.catalogue_tool update   # add missing ids (French filled in,
                                                          # other languages left empty to translate)

Why from the domain's objects rather than a grep: the domain's `Message`
objects carry both the id and the French source text, so the French
catalogue is filled from the one place that wording is decided. An
easy-to-read variant is catalogued under ``<id>.easy``.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import sys
from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from app.domain.messages import Message

CATALOGUE_DIR = Path(__file__).parent
EASY_SUFFIX = ".easy"


def _messages_in(value: object, depth: int = 0) -> Iterator[Message]:
    if depth > 4:
        return
    if isinstance(value, Message):
        yield value
    elif isinstance(value, tuple | list | frozenset | set):
        for item in value:
            yield from _messages_in(item, depth + 1)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _messages_in(item, depth + 1)
    elif is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            yield from _messages_in(getattr(value, f.name), depth + 1)


def domain_messages() -> dict[str, str]:
    """id -> French text of every message defined in `app.domain` (easy variants as id.easy)."""
    import app.domain as domain

    out: dict[str, str] = {}
    for info in pkgutil.iter_modules(domain.__path__):
        module = importlib.import_module(f"app.domain.{info.name}")
        for value in vars(module).values():
            for message in _messages_in(value):
                out[message.id] = message.fr
                if message.easy_read:
                    out[message.id + EASY_SUFFIX] = message.easy_read
    return out


UI_DIR = CATALOGUE_DIR.parent
_ID = re.compile(r"^[a-z_]+(?:\.[A-Za-z0-9_-]+)+$")


def ui_message_ids(namespaces: set[str], root: Path = UI_DIR) -> dict[str, str]:
    """id -> file of every literal message id written in `app/ui` (a string like
    ``"end.print"`` whose first part is a catalogue namespace), so a caption added
    in code without its catalogue entry is caught by `check`, not by a patient."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"), str(path))
        pieces = {  # the fixed parts of f-strings are not ids on their own
            id(part)
            for node in ast.walk(tree)
            if isinstance(node, ast.JoinedStr)
            for part in node.values
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in pieces
            ):
                value = node.value
                if _ID.match(value) and value.split(".", 1)[0] in namespaces:
                    out.setdefault(value, path.name)
    return out


def read_catalogue(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=path.stem)


def write_catalogue(path: Path, catalog: Catalog) -> None:
    with path.open("wb") as handle:
        write_po(handle, catalog, width=0, sort_output=True, omit_header=False)


def missing(directory: Path = CATALOGUE_DIR) -> dict[str, list[str]]:
    """Per language, the ids present in French or in the domain but untranslated there."""
    french = read_catalogue(directory / "fr.po")
    known = {str(m.id) for m in french if m.id}
    namespaces = {i.split(".", 1)[0] for i in known}
    wanted = known | set(domain_messages()) | set(ui_message_ids(namespaces))
    out: dict[str, list[str]] = {}
    for po in sorted(directory.glob("*.po")):
        catalog = read_catalogue(po)
        have = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
        gaps = sorted(str(i) for i in wanted - have)
        if gaps:
            out[po.stem] = gaps
    return out


def update(directory: Path = CATALOGUE_DIR) -> None:
    domain = domain_messages()
    for po in sorted(directory.glob("*.po")):
        catalog = read_catalogue(po)
        for msgid, french in domain.items():
            if msgid not in catalog:
                catalog.add(msgid, french if po.stem == "fr" else "", auto_comments=[french])
            elif po.stem == "fr":
                catalog[msgid].string = french  # the domain is the source of the French text
        write_catalogue(po, catalog)


def main(argv: list[str]) -> int:
    if argv[:1] == ["update"]:
        update()
        return 0
    gaps = missing()
    for lang, ids in gaps.items():
        print(f"{lang}: {len(ids)} missing: {', '.join(ids)}")
    return 1 if gaps else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
