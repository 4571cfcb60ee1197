"""Every word the patient reads or hears, looked up by message id in a catalogue.

Why gettext .po catalogues keyed by symbolic ids (``welcome.title``) rather
than by the French sentence: the domain hands the UI message ids with a French
default (information items, orientation sentences, red flags), the French
wording is edited by people who are not developers, and a changed French
sentence must not silently orphan its translations. French is the source
language: ``fr.po`` holds the reference text; other catalogues translate it.
Adding a language is adding ``translations/<code>.po`` (see docs/ui.md).

Lookup order: the language's catalogue, then French, then the default the
caller gave, then the id itself (a test makes sure the last two never happen).
"""

from __future__ import annotations

import gettext
import string
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from babel import Locale
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

CATALOGUE_DIR = Path(__file__).parent / "translations"
SOURCE_LANGUAGE = "fr"
PLURAL_PARAMETER = "count"  # `text(lang, id, count=n)` picks the plural form of a plural entry


@dataclass(frozen=True, slots=True)
class Msg:
    """A message to show: its id, the French default, and named parameters."""

    id: str
    default: str = ""
    params: Mapping[str, str] = field(default_factory=dict)


def load_catalogue(path: Path) -> dict[str, str]:
    """msgid -> msgstr for every translated, non-fuzzy entry of one .po file."""
    return _load(path)[0]


@dataclass(frozen=True, slots=True)
class PluralEntries:
    """A catalogue's plural entries: msgid -> its forms, and the language's rule (n -> form)."""

    forms: Mapping[str, tuple[str, ...]]
    rule: Callable[[int], int]


def _load(path: Path) -> tuple[dict[str, str], PluralEntries]:
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=path.stem)
    out: dict[str, str] = {}
    plurals: dict[str, tuple[str, ...]] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, str):
            if isinstance(message.string, str) and message.string:
                out[message.id] = message.string
        elif isinstance(message.string, tuple) and all(message.string):
            # msgid / msgid_plural carry the same symbolic id; the forms follow the rule
            plurals[message.id[0]] = tuple(message.string)
            out[message.id[0]] = message.string[-1]
    rule = gettext.c2py(catalog.plural_expr)  # the header's Plural-Forms, as gettext reads it
    return out, PluralEntries(plurals, rule)


class _Formatter(string.Formatter):
    """str.format that leaves an unknown {name} as it is instead of raising."""

    def get_value(self, key: int | str, args: object, kwargs: Mapping[str, object]) -> object:
        if isinstance(key, str) and key not in kwargs:
            return "{" + key + "}"
        return super().get_value(key, args, kwargs)  # type: ignore[arg-type]


_FORMAT = _Formatter()


class Catalogues:
    """All catalogues of a folder, each parsed once: French at once, the others when first
    asked for (or by `load_all`, which the kiosk calls after READY: docs/runtime.md)."""

    def __init__(self, directory: Path = CATALOGUE_DIR) -> None:
        self._directory = directory
        self._paths = {po.stem: po for po in sorted(directory.glob("*.po"))}
        self._by_lang: dict[str, dict[str, str]] = {}
        self._plurals: dict[str, PluralEntries] = {}
        self.missing: set[tuple[str, str]] = set()  # (lang, id) looked up but absent
        self._catalogue(SOURCE_LANGUAGE)  # the fallback of every lookup: a broken one stops here

    def load_all(self) -> None:
        """Parse the catalogues not parsed yet (a broken one raises here, not mid-session)."""
        for lang in self._paths:
            self._catalogue(lang)

    def _catalogue(self, lang: str) -> dict[str, str]:
        loaded = self._by_lang.get(lang)
        if loaded is not None:
            return loaded
        path = self._paths.get(lang)
        if path is None:
            return {}
        self._by_lang[lang], self._plurals[lang] = _load(path)
        return self._by_lang[lang]

    @property
    def languages(self) -> tuple[str, ...]:
        """French first, then the others in alphabetical order."""
        rest = sorted(lang for lang in self._paths if lang != SOURCE_LANGUAGE)
        return (SOURCE_LANGUAGE, *rest) if SOURCE_LANGUAGE in self._paths else tuple(rest)

    def ids(self, lang: str) -> frozenset[str]:
        return frozenset(self._catalogue(lang))

    def has(self, lang: str, msgid: str) -> bool:
        return msgid in self._catalogue(lang)

    def text(self, lang: str, message: Msg | str, **params: object) -> str:
        msg = Msg(message) if isinstance(message, str) else message
        values: dict[str, object] = {**msg.params, **params}
        raw = self._catalogue(lang).get(msg.id)
        if raw is None:
            self.missing.add((lang, msg.id))
            source = self._catalogue(SOURCE_LANGUAGE)
            lang = SOURCE_LANGUAGE if msg.id in source else lang
            raw = source.get(msg.id) or msg.default or msg.id
        count = values.get(PLURAL_PARAMETER)
        plural = self._plurals.get(lang)
        if isinstance(count, int) and plural is not None and msg.id in plural.forms:
            forms = plural.forms[msg.id]
            raw = forms[min(plural.rule(count), len(forms) - 1)]
        for key, value in values.items():  # numbers as the language writes them: 37,2 in French
            if isinstance(value, Decimal | float):
                values[key] = format_number(value, lang)
        return _FORMAT.format(raw, **values) if values else raw


# What babel's CLDR data says of the catalogues' languages, written here: asking babel loads
# and merges a locale's whole data (about 20 ms each), and the welcome screen names every
# language before it shows (issue 14, cold start). tests/app/test_cold_start.py checks these
# against babel; a language not here is asked of babel, as before.
_KNOWN_LANGUAGES: Mapping[str, tuple[str, bool]] = {  # code: (its own name, right to left)
    "fr": ("Français", False),
    "en": ("English", False),
    "ar": ("العربية", True),
}


def is_right_to_left(lang: str) -> bool:
    known = _KNOWN_LANGUAGES.get(lang)
    if known is not None:
        return known[1]
    return Locale.parse(lang).character_order == "right-to-left"


def language_name(lang: str) -> str:
    """The language's own name ("Français", "English", "العربية"): a person looks for their own."""
    known = _KNOWN_LANGUAGES.get(lang)
    if known is not None:
        return known[0]
    name = Locale.parse(lang).get_display_name(lang) or lang
    return name[:1].upper() + name[1:]


def espeak_voice(lang: str) -> str:
    """The espeak-ng voice for a language code (espeak names French "fr-fr")."""
    return {"fr": "fr-fr", "en": "en-gb"}.get(lang, lang)


# --- numbers ---------------------------------------------------------------------------

UNIT_SYMBOLS: Mapping[str, str] = {"Cel": "°C", "%": "%", "/min": "/min", "mm[Hg]": "mm\u00a0Hg"}
"""UCUM unit -> what a person reads after the number."""

_NBSP = "\u00a0"  # a number and its unit never part at the end of a line


def format_number(
    value: Decimal | float | int | str, lang: str, decimals: int | None = None
) -> str:
    """A number as `lang` writes it: ``37,2`` in French, ``37.2`` in English and Arabic.

    `decimals` fixes the number of decimals; by default a `Decimal` keeps its own
    (``Decimal("37.20")`` -> ``37,20``: a device's precision is shown as read) and a
    float shows at most 2. Babel's CLDR data decides the separators (French groups
    thousands with a narrow no-break space).
    """
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        return str(value)
    if decimals is None:
        exponent = number.as_tuple().exponent
        own = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        decimals = own if isinstance(value, Decimal | str) else min(own, 2)
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(number, format=pattern, locale=_locale(lang), decimal_quantization=True)


def format_quantity(
    value: Decimal | float | int | str, unit: str, lang: str, decimals: int | None = None
) -> str:
    """A measurement with its unit, kept on one line: ``37,2 °C``, ``120 mm Hg``, ``98 %``."""
    return f"{format_number(value, lang, decimals)}{_NBSP}{UNIT_SYMBOLS.get(unit, unit)}"


def parse_number(text: str) -> Decimal | None:
    """A number typed by a person, whatever the language: ``37,2``, ``37.2``, ``٣٧٫٢``.

    Either separator is a decimal mark (a temperature or a pressure has no thousands);
    spaces are ignored; any digit script is read (Arabic-Indic, fullwidth). None when
    the text is not one number.
    """
    cleaned = []
    for ch in text.strip():
        if ch.isspace() or ch == _NBSP or ch == "\u202f":
            continue
        if ch in ",.\u066b":  # ARABIC DECIMAL SEPARATOR
            cleaned.append(".")
        elif ch.isdigit():
            cleaned.append(str(unicodedata.digit(ch)))
        elif ch in "-+\u2212" and not cleaned:
            cleaned.append("-" if ch != "+" else "")
        else:
            return None
    joined = "".join(cleaned)
    if joined.count(".") > 1 or not any(c.isdigit() for c in joined):
        return None
    try:
        return Decimal(joined)
    except InvalidOperation:
        return None


def _locale(lang: str) -> Locale:
    try:
        return Locale.parse(lang)
    except (ValueError, TypeError):
        return Locale.parse(SOURCE_LANGUAGE)
