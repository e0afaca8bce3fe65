"""The kk/ru/en translation catalogues are complete, consistent and in step with the source.

Fails when a catalogue has an untranslated or fuzzy entry, when the three catalogues disagree
on their msgids, when a string marked for translation in the source is missing from the
committed catalogues (run `cd src/aman && aman makemessages -l kk -l ru -l en --no-location
--ignore "static/*"` and translate the new entries), or when a translation drops or invents a
placeholder.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.core.management import call_command

import aman

PACKAGE_DIR = Path(aman.__file__).resolve().parent
LOCALE_DIR = PACKAGE_DIR / "locale"
LANGUAGES = ("kk", "ru", "en")
PLURAL_FORMS = {
    "ru": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
    "(n%100<10 || n%100>=20) ? 1 : 2);",
    "kk": "nplurals=2; plural=(n!=1);",
    "en": "nplurals=2; plural=(n != 1);",
}
# What makemessages reads for the `django` domain, and the parts of the package it must skip.
SOURCE_SUFFIXES = {".py", ".html", ".txt"}
SKIPPED_DIRS = {"static", "locale", "__pycache__"}

Key = tuple[str, str]  # (msgctxt, msgid)


def catalogue_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "django.po"


def load(lang: str) -> polib.POFile:
    path = catalogue_path(lang)
    assert path.is_file(), f"missing catalogue {path}"
    return polib.pofile(str(path))


def live_entries(po: polib.POFile) -> list[polib.POEntry]:
    return [e for e in po if not e.obsolete]


def key(entry: polib.POEntry) -> Key:
    return (entry.msgctxt or "", entry.msgid)


def show(keys: set[Key]) -> str:
    return "\n  ".join(repr(f"{ctx}|{msgid}" if ctx else msgid) for ctx, msgid in sorted(keys))


@pytest.fixture(scope="module", params=LANGUAGES)
def lang(request: pytest.FixtureRequest) -> str:
    return request.param


# (a) -------------------------------------------------------------------------------------


def test_header(lang: str) -> None:
    po = load(lang)
    assert not po.metadata_is_fuzzy, f"{lang}: the header is marked fuzzy"
    assert po.metadata.get("Language") == lang
    assert "charset=UTF-8" in po.metadata.get("Content-Type", "")
    assert po.metadata.get("Plural-Forms") == PLURAL_FORMS[lang]


def test_every_entry_translated_and_not_fuzzy(lang: str) -> None:
    po = load(lang)
    nplurals = int(re.search(r"nplurals=(\d+)", PLURAL_FORMS[lang]).group(1))  # type: ignore[union-attr]
    untranslated, fuzzy = [], []
    for entry in live_entries(po):
        if "fuzzy" in entry.flags:
            fuzzy.append(entry.msgid)
        if entry.msgid_plural:
            forms = entry.msgstr_plural
            if sorted(forms) != list(range(nplurals)) or not all(forms.values()):
                untranslated.append(entry.msgid)
        elif not entry.msgstr:
            untranslated.append(entry.msgid)
    problems = [
        (what, ids) for what, ids in (("untranslated", untranslated), ("fuzzy", fuzzy)) if ids
    ]
    assert not problems, "\n".join(
        f"{lang}: {what} entries:\n  " + "\n  ".join(ids) for what, ids in problems
    )


def test_english_is_identity() -> None:
    wrong = []
    for entry in live_entries(load("en")):
        if entry.msgid_plural:
            if entry.msgstr_plural != {0: entry.msgid, 1: entry.msgid_plural}:
                wrong.append(entry.msgid)
        elif entry.msgstr != entry.msgid:
            wrong.append(entry.msgid)
    assert not wrong, "en: msgstr differs from msgid:\n  " + "\n  ".join(wrong)


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_translations_are_cyrillic(lang: str) -> None:
    """Catches an English string pasted into the kk or ru catalogue as its 'translation'."""
    cyrillic = re.compile(r"[\u0400-\u04FF]")
    latin_only = []
    for entry in live_entries(load(lang)):
        texts = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        if any(
            t and re.search(r"[A-Za-z]{3}", entry.msgid) and not cyrillic.search(t) for t in texts
        ):
            latin_only.append(entry.msgid)
    assert not latin_only, f"{lang}: no Cyrillic in the translation of:\n  " + "\n  ".join(
        latin_only
    )


# (b) -------------------------------------------------------------------------------------


def test_catalogues_have_the_same_msgids() -> None:
    keys = {lang: {key(e) for e in live_entries(load(lang))} for lang in LANGUAGES}
    plurals = {
        lang: {key(e): e.msgid_plural for e in live_entries(load(lang)) if e.msgid_plural}
        for lang in LANGUAGES
    }
    problems = []
    for a in LANGUAGES:
        for b in LANGUAGES:
            if a < b:
                if only_a := keys[a] - keys[b]:
                    problems.append(f"in {a} but not {b}:\n  {show(only_a)}")
                if only_b := keys[b] - keys[a]:
                    problems.append(f"in {b} but not {a}:\n  {show(only_b)}")
                if plurals[a] != plurals[b]:
                    problems.append(f"{a} and {b} disagree on plural msgids")
    assert not problems, "\n".join(problems)


# (c) -------------------------------------------------------------------------------------


def copy_sources(target: Path) -> None:
    """Copy the package's translatable sources (not static files, not the catalogues), so
    that makemessages neither writes into the real locale directory nor leaves its temporary
    `*.html.py` files next to the real templates."""
    for path in PACKAGE_DIR.rglob("*"):
        relative = path.relative_to(PACKAGE_DIR)
        if SKIPPED_DIRS & set(relative.parts) or relative.parts[0].startswith("."):
            continue
        if path.is_file() and path.suffix in SOURCE_SUFFIXES:
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)


def extract_source_msgids(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, settings: object
) -> set[Key]:
    tree = workdir / "aman"
    copy_sources(tree)
    locale_dir = tree / "locale"
    locale_dir.mkdir()
    settings.LOCALE_PATHS = [locale_dir]  # type: ignore[attr-defined]
    monkeypatch.chdir(tree)
    call_command(
        "makemessages",
        locale=["en"],
        domain="django",
        ignore_patterns=["static/*"],
        no_location=True,
        verbosity=0,
    )
    extracted = locale_dir / "en" / "LC_MESSAGES" / "django.po"
    assert extracted.is_file(), f"makemessages wrote nothing to {locale_dir}"
    return {key(e) for e in live_entries(polib.pofile(str(extracted)))}


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("xgettext", "msguniq", "msgmerge")),
    reason="GNU gettext (xgettext, msguniq, msgmerge) is not installed, so the source "
    "cannot be scanned for new strings; install the `gettext` package to run this check",
)
def test_every_source_string_is_in_the_catalogues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: object
) -> None:
    in_source = extract_source_msgids(tmp_path, monkeypatch, settings)
    assert len(in_source) > 100, "makemessages found suspiciously few strings"
    for lang in LANGUAGES:
        committed = {key(e) for e in live_entries(load(lang))}
        missing = in_source - committed
        assert not missing, (
            f"{lang}: strings in the source but not in {catalogue_path(lang)} — run makemessages "
            f"and translate them:\n  {show(missing)}"
        )


# (d) -------------------------------------------------------------------------------------

PLACEHOLDER = re.compile(
    r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[sdifrx]"  # %(name)s
    r"|%[-#0 +]*\d*(?:\.\d+)?[sdifrx]"  # %s, %d
    r"|\{\{.*?\}\}"  # {{ n }}
    r"|</?[A-Za-z][^>]*>"  # HTML tags
)


def placeholders(text: str) -> tuple[Counter[str], list[str]]:
    """Named placeholders and tags as a multiset (order may change in a translation);
    positional ones (%s, %d) as a sequence (their order is fixed by the arguments)."""
    found = PLACEHOLDER.findall(text.replace("%%", ""))
    named = Counter(re.sub(r"\s+", " ", p) for p in found if not re.fullmatch(r"%[^(].*", p))
    positional = [p for p in found if re.fullmatch(r"%[^(].*", p)]
    return named, positional


def test_placeholders_match(lang: str) -> None:
    mismatched = []
    for entry in live_entries(load(lang)):
        if entry.msgid_plural:
            allowed = [placeholders(entry.msgid), placeholders(entry.msgid_plural)]
            texts = [t for _, t in sorted(entry.msgstr_plural.items())]
        else:
            allowed = [placeholders(entry.msgid)]
            texts = [entry.msgstr]
        for text in texts:
            if text and placeholders(text) not in allowed:
                mismatched.append(f"{entry.msgid!r} → {text!r}")
    assert not mismatched, f"{lang}: placeholders differ:\n  " + "\n  ".join(mismatched)


def test_placeholder_pattern() -> None:
    named, positional = placeholders("%(n)s of %(total)d, %s and %d, {{ x }}, <code>a</code> 5%%")
    assert named == Counter(["%(n)s", "%(total)d", "{{ x }}", "<code>", "</code>"])
    assert positional == ["%s", "%d"]
