"""The gettext catalogs (PRODUCT.md §3): complete, not fuzzy, placeholders intact, the .pot in
step with the code, and plain language (B1) in the Dutch source strings.

The checks live in scripts/catalogs.py (`python scripts/catalogs.py check` runs the same ones);
when one fails here, `make catalogs` and translating the new entries is usually the fix.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import io
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract

ROOT = Path(__file__).resolve().parents[1]


def _load_script() -> ModuleType:
    path = ROOT / "scripts" / "catalogs.py"
    spec = importlib.util.spec_from_file_location("catalogs_script", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


catalogs = _load_script()


def _report(problems: list[str]) -> str:
    return "\n".join(problems[:60]) + (f"\n... and {len(problems) - 60} more"
                                       if len(problems) > 60 else "")


# The shipped catalogs ---------------------------------------------------------------------------
def test_the_pot_has_exactly_the_strings_of_the_code() -> None:
    problems = catalogs.pot_problems()
    assert not problems, _report(problems)


@pytest.mark.parametrize("language", catalogs.SHIPPED)
def test_every_string_is_translated_and_not_fuzzy(language: str) -> None:
    problems = catalogs.translation_problems(language)
    assert not problems, _report(problems)


@pytest.mark.parametrize("language", catalogs.SHIPPED + catalogs.OVERLAY_NAMES)
def test_placeholders_match_the_source(language: str) -> None:
    problems = catalogs.placeholder_problems(language)
    assert not problems, _report(problems)


@pytest.mark.parametrize("name", catalogs.OVERLAY_NAMES)
def test_regional_overlays_are_small_current_and_translated(name: str) -> None:
    problems = catalogs.overlay_problems(name)
    assert not problems, _report(problems)
    overlay = catalogs.load(catalogs.po_path(name), name)
    entries = [m for m in overlay if m.id]
    assert entries, f"{name} has no entries: an overlay must say something"
    for message in entries:
        assert message.string != message.id, f"{name} repeats the source: {message.id!r}"


def test_dutch_source_sentences_are_b1_length() -> None:
    problems = catalogs.b1_problems()
    assert not problems, _report(problems)


def test_every_language_of_the_product_has_a_catalog() -> None:
    from bot.i18n import FAMILY_LANGUAGES, SOURCE_LANGUAGE, STAFF_LANGUAGES

    for language in {*FAMILY_LANGUAGES, *STAFF_LANGUAGES} - {SOURCE_LANGUAGE}:
        assert catalogs.po_path(language).exists(), language


def test_installed_packages_include_every_catalog() -> None:
    """pyproject's package-data must match every .po (no compiled files are shipped)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["locales"]
    files = [p.relative_to(catalogs.LOCALES).as_posix()
             for p in catalogs.LOCALES.rglob("*") if p.suffix in (".po", ".pot", ".cfg")]
    assert files
    for name in files:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name
    assert not list(catalogs.LOCALES.rglob("*.mo")), "compiled catalogs do not belong here"


# The checker itself ------------------------------------------------------------------------------
def test_babel_extracts_method_calls_and_marks() -> None:
    code = b'tr.gettext("een")\nself.tr.ngettext("{n} twee", "{n} twees", n)\nN_("drie")\n'
    found = [m[1] for m in extract("python", io.BytesIO(code), keywords=catalogs.KEYWORDS)]
    assert found == ["een", ("{n} twee", "{n} twees"), "drie"]


def test_placeholders_are_read_like_str_format() -> None:
    assert catalogs.placeholders("{coach} leest het {when}.") == {"{coach}", "{when}"}
    assert catalogs.placeholders("{{letterlijk}} {n:d}") == {"{n:d}"}
    assert "<unbalanced braces>" in catalogs.placeholders("{coach leest")


def _plural_catalog(source: tuple[str, str], forms: tuple[str, ...]) -> Catalog:
    catalog = Catalog(locale="pl")
    catalog.add(source, forms)
    return catalog


def test_plural_forms_keep_the_count_unless_the_source_singular_drops_it() -> None:
    with_count = ("{n} bericht van {alias}", "{n} berichten van {alias}")
    good = ("{n} wiadomość od {alias}", "{n} wiadomości od {alias}", "{n} wiadomości od {alias}")
    assert not catalogs.placeholder_problems("pl", _plural_catalog(with_count, good))
    dropped = ("Wiadomość od {alias}", *good[1:])
    assert catalogs.placeholder_problems("pl", _plural_catalog(with_count, dropped))

    without = ("Een bericht van {alias}", "{n} berichten van {alias}")
    # Polish form 0 is used for n == 1 only: it may leave the number out, like the source.
    assert not catalogs.placeholder_problems("pl", _plural_catalog(without, dropped))
    # Form 2 covers 0, 5, 6, ...: it must say the number.
    no_number = (*good[:2], "Wiadomości od {alias}")
    assert catalogs.placeholder_problems("pl", _plural_catalog(without, no_number))
    # A placeholder that is not the count may never go.
    lost_alias = ("Wiadomość", *good[1:])
    assert catalogs.placeholder_problems("pl", _plural_catalog(without, lost_alias))


def test_b1_counts_words_per_sentence() -> None:
    assert catalogs.words("Bij direct gevaar: bel 112.") == 5
    assert catalogs.words("/bereikbaarheid Gezin J. | ma-vr 09:00-17:00 | crisis") == 6
    long = " ".join(["woord"] * 16) + "."
    assert catalogs.too_long(long) == [long]
    assert not catalogs.too_long(" ".join(["woord"] * 10) + ". " + " ".join(["woord"] * 10))
