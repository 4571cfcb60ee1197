"""Keep the catalogues complete: every message id the domain or the UI uses, in every language.

    python -m app.ui.translations.catalogue_tool check    # exit 1 and list what is missing
    python -m app.ui.translations.catalogue_tool update   # add missing ids (French filled in,
                                                          # other languages left empty to translate)

Why from the domain's objects rather than a grep: the domain's `Message`
objects carry both the id and the French source text, so the French
catalogue is filled from the one place that wording is decided. An
easy-to-read variant is catalogued under ``<id>.easy``.

Ids built at run time (``f"measure.q.{q.value}"``) are the hole a patient saw
("measure.q.mean" on screen): a literal scan cannot see them, and the render
test only meets the values its sample screens happen to show. So every
f-string in `app/ui` shaped like an id is a *template* (``measure.q.{}``) that
must be declared in `DYNAMIC_IDS` with the values it takes (usually the
domain's enum); `check` expands each template and reports an undeclared one.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import sys
from collections.abc import Callable, Iterable, Iterator
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


def _enum_values(module: str, name: str) -> Callable[[], Iterable[str]]:
    def values() -> Iterable[str]:
        return [str(member.value) for member in getattr(importlib.import_module(module), name)]

    return values


def _attr(module: str, name: str, keys: bool = False) -> Callable[[], Iterable[str]]:
    def values() -> Iterable[str]:
        value = getattr(importlib.import_module(module), name)
        if keys:
            return [str(k) for k in value]
        if isinstance(value, dict) or hasattr(value, "values") and not isinstance(value, tuple):
            return sorted({str(v) for vs in value.values() for v in vs})
        return [str(v) for v in value]

    return values


def _fixed(*values: str) -> Callable[[], Iterable[str]]:
    return lambda: values


def _product(*parts: Callable[[], Iterable[str]]) -> Callable[[], Iterable[tuple[str, ...]]]:
    def values() -> Iterable[tuple[str, ...]]:
        import itertools

        return itertools.product(*(list(p()) for p in parts))

    return values


_PRESENTER = "app.ui.presenter"
DYNAMIC_IDS: dict[str, Callable[[], Iterable[str | tuple[str, ...]]]] = {
    # template (each {} is one run-time value) -> the values it takes
    "measure.q.{}": _enum_values("app.domain.measurements", "Quantity"),
    "measure.{}.title": _attr("vocabulary.devices", "PATIENT_DEVICES"),
    "measure.{}.how{}": _product(
        _attr("vocabulary.devices", "PATIENT_DEVICES"), _fixed("1", "2", "3")
    ),
    "identity.status.{}": _enum_values("app.domain.identity", "IdentityStatus"),
    "identity_form.nir.{}": _enum_values("app.domain.nir", "NirErrorReason"),
    "identity_form.error.{}": _enum_values("app.domain.manual_identity", "FieldProblem"),
    "identity_form.error.choose-{}": _fixed("sex", "document"),  # the two fields with choices
    "identity_form.document.{}": _attr("app.ui.screens.manual_identity", "DOCUMENTS"),
    "identity_form.{}.{}": lambda: [
        *(("sex", s) for s in _attr("app.ui.screens.manual_identity", "SEXES")()),
        *(("document", d) for d in _attr("app.ui.screens.manual_identity", "DOCUMENTS")()),
    ],
    "identification.problem.{}": _enum_values("app.domain.session_events", "IdentificationProblem"),
    "degraded.what.{}": _enum_values("app.domain.session_effects", "DegradedReason"),
    "degraded.next.{}": _enum_values("app.domain.session_effects", "DegradedReason"),
    "orientation.q.{}": _enum_values("app.domain.orientation", "OrientationQuestion"),
    "orientation.a.{}": _enum_values("app.domain.orientation", "OrientationOption"),
    "end.document.{}": _attr(_PRESENTER, "DOCUMENT_KINDS"),
    # the professional's sub-tasks the presenter sets `professional_for` to
    "login.purpose.{}": _enum_values("app.controller.assisted", "AssistTask"),
    "notice.{}": _enum_values("app.controller.view", "Notice"),
    "reason.choice.{}": _enum_values("app.domain.visit_reason", "VisitReason"),
    "operator.card.{}": lambda: [i.split(".", 2)[2] for i in _operator_ids("operator.card.")],
    "operator.qr.{}": lambda: [i.split(".", 2)[2] for i in _operator_ids("operator.qr.")],
    # why a Bluetooth device did not bond (the technician's pairing page)
    "maint.bond.{}": _enum_values("app.maintenance.pairing", "BondFailure"),
}
"""Every id template of `app/ui` and its values; `check` expands them all."""

NOT_IDS: frozenset[str] = frozenset({"operator.fail.{}"})
"""Templates that name a widget (objectName), not a catalogue entry."""


def _operator_ids(prefix: str) -> list[str]:
    from app.ui.operator_panel import caption_ids

    return [i for i in caption_ids() if i.startswith(prefix)]


def ui_id_templates(namespaces: set[str], root: Path = UI_DIR) -> dict[str, str]:
    """template -> file of every f-string in `app/ui` shaped like a message id."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.JoinedStr):
                continue
            template = "".join(
                str(v.value) if isinstance(v, ast.Constant) else "{}" for v in node.values
            )
            sample = template.replace("{}", "x")
            if _ID.match(sample) and sample.split(".", 1)[0] in namespaces:
                out.setdefault(template, path.name)
    return out


def dynamic_ids(namespaces: set[str]) -> tuple[set[str], list[str]]:
    """(every id the templates of `app/ui` expand to, templates not declared in DYNAMIC_IDS)."""
    ids: set[str] = set()
    undeclared: list[str] = []
    for template in sorted(ui_id_templates(namespaces)):
        if template in NOT_IDS:
            continue
        values = DYNAMIC_IDS.get(template)
        if values is None:
            undeclared.append(template)
            continue
        for value in values():
            ids.add(template.format(*((value,) if isinstance(value, str) else value)))
    return ids, undeclared


def read_catalogue(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=path.stem)


def write_catalogue(path: Path, catalog: Catalog) -> None:
    with path.open("wb") as handle:
        write_po(handle, catalog, width=0, sort_output=True, omit_header=False)


def missing(directory: Path = CATALOGUE_DIR) -> dict[str, list[str]]:
    """Per language, the ids present in French or in the domain but untranslated there."""
    french = read_catalogue(directory / "fr.po")
    known = {_msgid(m.id) for m in french if m.id}
    namespaces = {i.split(".", 1)[0] for i in known}
    built, undeclared = dynamic_ids(namespaces)
    wanted = known | set(domain_messages()) | set(ui_message_ids(namespaces)) | built
    out: dict[str, list[str]] = {}
    if undeclared:  # an id built at run time whose values nobody declared: not checkable
        out["DYNAMIC_IDS"] = [f"{t} (declare its values)" for t in undeclared]
    for po in sorted(directory.glob("*.po")):
        catalog = read_catalogue(po)
        have = {_msgid(m.id) for m in catalog if m.id and _translated(m.string) and not m.fuzzy}
        gaps = sorted(str(i) for i in wanted - have)
        if gaps:
            out[po.stem] = gaps
    return out


def _msgid(msgid: object) -> str:
    """A plural entry's id is (msgid, msgid_plural); both carry the same symbolic id."""
    return str(msgid[0]) if isinstance(msgid, tuple | list) else str(msgid)


def _translated(string: object) -> bool:
    if isinstance(string, tuple | list):
        return bool(string) and all(string)
    return bool(string)


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
