"""Gettext catalogs for Gezinslijn: extract, update, check (and init for a new language).

    python scripts/catalogs.py extract        # code -> locales/gezinslijn.pot
    python scripts/catalogs.py update         # extract, then update every locale's .po
    python scripts/catalogs.py update --fuzzy # ... suggesting old translations for reworded
                                              #     strings (marked fuzzy: review them)
    python scripts/catalogs.py init xx        # a new locales/xx/LC_MESSAGES/gezinslijn.po
    python scripts/catalogs.py check          # exit 1 and list every problem

`make catalogs` runs `update`. Source strings are Dutch, in bot/ and handlers/, marked with
`tr.gettext("...")`, `tr.ngettext("...", "...", n)` and `N_("...")`. Only .po files are kept in
the repository: bot/i18n.py compiles them in memory at start-up.

Files are rewritten only when their content changes (the .pot's creation date alone does not
count), and locations carry no line numbers, so an edit elsewhere in a handler leaves the
catalogs alone. `update` keeps every existing translation, adds new strings empty and drops
strings the code no longer has. Regional overlays (nl_BE) hold only the strings that differ:
`update` never fills them with empty entries, it only drops what the code no longer has.

tests/test_catalogs.py runs the same checks as `check`.
"""

from __future__ import annotations

import argparse
import gettext
import io
import re
import string
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.i18n import (  # noqa: E402  (after the path set-up, so the script runs from anywhere)
    DOMAIN,
    FAMILY_LANGUAGES,
    OVERLAYS,
    SOURCE_LANGUAGE,
    STAFF_LANGUAGES,
)

LOCALES = ROOT / "locales"
POT = LOCALES / f"{DOMAIN}.pot"
MAPPING = LOCALES / "babel.cfg"
SOURCES = ("bot", "handlers")
KEYWORDS: dict[str, tuple[int, ...] | None] = {"gettext": None, "ngettext": (1, 2), "N_": None}
COMMENT_TAGS = ("TRANSLATORS:",)
WIDTH = 100
HEADER = """\
# Gezinslijn: the Dutch source strings of bot/ and handlers/.
# Made by `make catalogs` (scripts/catalogs.py); do not edit by hand.
#"""
PO_HEADER = """\
# Gezinslijn: {name} translations of the Dutch source strings.
# Kept up to date by `make catalogs`; translate here. Checked by tests/test_catalogs.py.
#"""

# Every language but the source one is shipped complete: all strings, family and staff alike.
SHIPPED = tuple(dict.fromkeys(lang for lang in (*FAMILY_LANGUAGES, *STAFF_LANGUAGES)
                              if lang != SOURCE_LANGUAGE))
OVERLAY_NAMES = tuple(OVERLAYS.values())

# Plain language (PRODUCT.md §1.5): no sentence in a Dutch source string longer than this.
MAX_WORDS = 15
# Source strings that break the B1 rule for now. The check skips them, and fails when one is
# no longer in the code or no longer too long, so this list only shrinks. Shorten the string in
# the code, run `make catalogs`, translate, and remove it here. Empty it as soon as you can.
B1_ALLOW_LIST: frozenset[str] = frozenset({
})


# Babel also takes any string literal *inside* a gettext call for a message, such as the key
# in `tr.gettext(EXAMPLES["when.day"])`. Source texts are Dutch words and sentences, so a
# dotted lower-case identifier is never one: it is left out of the template.
_KEY_LIKE = re.compile(r"[a-z_]+(?:\.[a-z_]+)+")


def po_path(name: str) -> Path:
    return LOCALES / name / "LC_MESSAGES" / f"{DOMAIN}.po"


# Extraction ------------------------------------------------------------------------------------
def extract() -> Catalog:
    """The template, straight from the code, in memory."""
    with MAPPING.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle, str(MAPPING))
    catalog = Catalog(project="Gezinslijn", version="1", copyright_holder="Gezinslijn",
                      header_comment=HEADER, charset="utf-8", fuzzy=False)
    for source in SOURCES:
        found = extract_from_dir(ROOT / source, method_map, options_map, keywords=KEYWORDS,
                                 comment_tags=COMMENT_TAGS)
        for filename, lineno, message, comments, context in found:
            if isinstance(message, str) and _KEY_LIKE.fullmatch(message):
                continue
            path = f"{source}/{Path(filename).as_posix()}"
            catalog.add(message, None, [(path, lineno)], auto_comments=comments,
                        context=context)
    return catalog


def render(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=WIDTH, include_lineno=False, ignore_obsolete=True)
    return buffer.getvalue()


_CREATED = re.compile(rb'^"POT-Creation-Date: [^"]*"\n', re.M)


def save(path: Path, data: bytes) -> bool:
    """Write only a real change: True when the file was (re)written."""
    if path.exists() and _CREATED.sub(b"", path.read_bytes()) == _CREATED.sub(b"", data):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def load(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


# Commands ----------------------------------------------------------------------------------------
def cmd_extract() -> Catalog:
    template = extract()
    changed = save(POT, render(template))
    print(f"{POT.relative_to(ROOT)}: {len(template)} strings"
          + ("" if changed else " (unchanged)"))
    return template


def cmd_update(fuzzy: bool = False) -> None:
    template = cmd_extract()
    for name in (*SHIPPED, *OVERLAY_NAMES):
        path = po_path(name)
        created = False
        if not path.exists():
            if name in OVERLAY_NAMES:
                continue
            new_catalog(name, template)
            created = True
        catalog = load(path, name)
        catalog.update(template, no_fuzzy_matching=not fuzzy, update_creation_date=False)
        if name in OVERLAY_NAMES:
            for message in [m for m in catalog if m.id and not translated(m)]:
                catalog.delete(message.id, message.context)
        changed = save(path, render(catalog))
        todo = sum(1 for m in catalog if m.id and (m.fuzzy or not translated(m)))
        note = "overlay" if name in OVERLAY_NAMES else f"{todo} to translate"
        print(f"{path.relative_to(ROOT)}: {note}"
              + ("" if changed or created else " (unchanged)"))


def new_catalog(name: str, template: Catalog) -> Path:
    catalog = Catalog(locale=name, project=template.project, version=template.version,
                      copyright_holder=template.copyright_holder, fuzzy=False,
                      header_comment=PO_HEADER.format(name=name))
    for message in template:
        if message.id:
            catalog.add(message.id, None, message.locations, flags=message.flags,
                        auto_comments=message.auto_comments, context=message.context)
    path = po_path(name)
    save(path, render(catalog))
    return path


def cmd_init(name: str) -> None:
    path = po_path(name)
    if path.exists():
        raise SystemExit(f"{path.relative_to(ROOT)} exists already")
    new_catalog(name, cmd_extract())
    print(f"{path.relative_to(ROOT)}: created. Add {name!r} to FAMILY_LANGUAGES (and "
          f"STAFF_LANGUAGES) and LANGUAGE_NAMES in bot/i18n.py, then translate every entry.")


def cmd_check() -> int:
    found = all_problems()
    for problem in found:
        print(problem)
    print(f"{len(found)} problem(s)" if found else "catalogs OK")
    return 1 if found else 0


# Checks ------------------------------------------------------------------------------------------
def translated(message: Message) -> bool:
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return bool(strings) and all(strings)


def ids(message: Message) -> tuple[str, ...]:
    return tuple(message.id) if isinstance(message.id, tuple | list) else (message.id,)


def forms(message: Message) -> tuple[str, ...]:
    value = message.string
    return tuple(value) if isinstance(value, tuple | list) else (value or "",)


def label(message: Message) -> str:
    return repr(ids(message)[0])


def pot_problems() -> list[str]:
    """The .pot on disk has exactly the msgids the code has now."""
    if not POT.exists():
        return [f"{POT.relative_to(ROOT)} is missing: run `make catalogs`"]
    on_disk = {(ids(m), m.context) for m in load(POT) if m.id}
    in_code = {(ids(m), m.context) for m in extract() if m.id}
    problems = [f"not in the .pot yet (run `make catalogs`): {key[0][0]!r}"
                for key in sorted(in_code - on_disk, key=str)]
    problems += [f"in the .pot but no longer in the code (run `make catalogs`): {key[0][0]!r}"
                 for key in sorted(on_disk - in_code, key=str)]
    return problems


def translation_problems(name: str) -> list[str]:
    """Every msgid of the .pot is in the language's .po, translated in every plural form, and
    not fuzzy; the plural forms are the language's own."""
    path = po_path(name)
    where = path.relative_to(ROOT)
    if not path.exists():
        return [f"{where} is missing: run `python scripts/catalogs.py init {name}`"]
    catalog = load(path, name)
    template = load(POT)
    problems = []
    expected = get_plural(name).num_plurals
    if catalog.num_plurals != expected:
        problems.append(f"{where}: {catalog.num_plurals} plural forms, {name} has {expected}")
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, message.context)
        if found is None:
            problems.append(f"{where}: missing {label(message)}")
        elif found.fuzzy:
            problems.append(f"{where}: fuzzy {label(message)}")
        elif isinstance(message.id, tuple | list) and len(forms(found)) != expected:
            problems.append(f"{where}: {len(forms(found))} of {expected} plural forms for "
                            f"{label(message)}")
        elif not translated(found):
            problems.append(f"{where}: untranslated {label(message)}")
    return problems


_FIELD = re.compile(r"\{[^{}]*\}")


def placeholders(text: str) -> set[str]:
    """`{name}` fields as str.format reads them (a literal `{{` is no field)."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        return set(_FIELD.findall(text)) | {"<unbalanced braces>"}
    fields = set()
    for _literal, name, spec, conversion in parsed:
        if name is not None:
            fields.add("{" + name + (f"!{conversion}" if conversion else "")
                       + (f":{spec}" if spec else "") + "}")
    return fields


def single_number_forms(catalog: Catalog) -> set[int]:
    """Plural forms used for exactly one number (Arabic 0, 1 and 2; Polish 1): only there may a
    translation leave the number out, since the words already say it."""
    choose = gettext.c2py(catalog.plural_expr)
    numbers: dict[int, int] = {}
    for n in range(1001):
        form = choose(n)
        numbers[form] = numbers.get(form, 0) + 1
    return {form for form, count in numbers.items() if count == 1}


def placeholder_problems(name: str, catalog: Catalog | None = None) -> list[str]:
    """A translation has the same {placeholders} as its source. In a plural, every form has
    those of msgid_plural; a form used for one number only may drop the count placeholder
    when the source's singular drops it too."""
    path = po_path(name)
    where = path.relative_to(ROOT)
    if catalog is None:
        if not path.exists():
            return []
        catalog = load(path, name)
    singles = single_number_forms(catalog)
    problems = []
    for message in catalog:
        if not message.id or not translated(message):
            continue
        sources = ids(message)
        if len(sources) == 1:
            want = placeholders(sources[0])
            got = placeholders(forms(message)[0])
            if got != want:
                problems.append(f"{where}: {label(message)} has {sorted(got)}, "
                                f"the source {sorted(want)}")
            continue
        want = placeholders(sources[1])
        droppable = want - placeholders(sources[0])
        for index, text in enumerate(forms(message)):
            got = placeholders(text)
            if got == want or (index in singles and got | droppable == want
                               and not got & droppable):
                continue
            problems.append(f"{where}: {label(message)} form {index} has {sorted(got)}, "
                            f"the source {sorted(want)}")
    return problems


def overlay_problems(name: str) -> list[str]:
    """An overlay holds only current, translated, non-fuzzy strings."""
    path = po_path(name)
    if not path.exists():
        return [f"{path.relative_to(ROOT)} is missing"]
    where = path.relative_to(ROOT)
    known = {(ids(m), m.context) for m in load(POT) if m.id}
    problems = []
    for message in load(path, name):
        if not message.id:
            continue
        if (ids(message), message.context) not in known:
            problems.append(f"{where}: {label(message)} is no longer in the code "
                            f"(run `make catalogs`)")
        elif message.fuzzy or not translated(message):
            problems.append(f"{where}: {label(message)} is fuzzy or empty: translate or remove")
    return problems


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_WORDLIKE = re.compile(r"\w|\{")


def sentences(text: str) -> Iterator[str]:
    for part in _SENTENCE_END.split(text):
        if part.strip():
            yield part.strip()


def words(sentence: str) -> int:
    """Tokens with a letter, a digit or a placeholder; '|', '–' and emoji are no words."""
    return sum(1 for token in sentence.split() if _WORDLIKE.search(token))


def too_long(text: str) -> list[str]:
    return [s for s in sentences(text) if words(s) > MAX_WORDS]


def b1_problems(template: Iterable[Message] | None = None) -> list[str]:
    """No Dutch source sentence over MAX_WORDS words (family and staff texts alike), except the
    allow-listed strings, which must still exist and still be too long."""
    catalog = list(template if template is not None else extract())
    problems = []
    seen = set()
    for message in catalog:
        if not message.id:
            continue
        for source in ids(message):
            seen.add(source)
            if source in B1_ALLOW_LIST:
                if not too_long(source):
                    problems.append(f"B1: {source!r} is short enough now: remove it from "
                                    f"B1_ALLOW_LIST")
                continue
            for sentence in too_long(source):
                problems.append(f"B1: {words(sentence)} words (max {MAX_WORDS}): {sentence!r}")
    problems += [f"B1: {source!r} is in B1_ALLOW_LIST but no longer in the code"
                 for source in sorted(B1_ALLOW_LIST - seen)]
    return problems


def all_problems() -> list[str]:
    problems = pot_problems()
    for name in SHIPPED:
        problems += translation_problems(name)
        problems += placeholder_problems(name)
    for name in OVERLAY_NAMES:
        problems += overlay_problems(name)
        problems += placeholder_problems(name)
    return problems + b1_problems()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("extract", help="code -> locales/gezinslijn.pot")
    update = commands.add_parser("update", help="extract, then update every locale")
    update.add_argument("--fuzzy", action="store_true",
                        help="suggest old translations for reworded strings (marked fuzzy)")
    init = commands.add_parser("init", help="start the catalog of a new language")
    init.add_argument("language")
    commands.add_parser("check", help="list every problem; exit 1 when there is one")
    args = parser.parse_args(argv)
    if args.command == "extract":
        cmd_extract()
    elif args.command == "update":
        cmd_update(args.fuzzy)
    elif args.command == "init":
        cmd_init(args.language)
    else:
        return cmd_check()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
