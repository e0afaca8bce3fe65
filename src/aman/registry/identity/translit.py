"""Names in passport Latin (ICAO Doc 9303 part 3, section 6) and a key to match spellings.

``to_passport_latin`` writes Kazakh and Russian Cyrillic as Latin passports print it: the
Doc 9303 Cyrillic table (the ``iuliia`` package's ``ICAO_DOC_9303`` schema) for the Russian
alphabet, and before it ``KAZAKH_PASSPORT_LETTERS`` for the nine Kazakh letters the table
lacks, mapped as Kazakh passports do (``Шаһизада`` → ``SHAHIZADA``). Another table can be
passed in (``extra``) should the ministry's differ; the Django side reads it from the
``AMAN_TRANSLIT_EXTRA`` setting (``parse_letter_table``) and passes it
(``aman.registry.latin``), so this module stays free of Django. Matching keys do not
follow it: they must stay the same for every record whatever the table.

This is for *proposing* a Latin spelling. The name printed in a person's document is theirs
(citizens may choose their spelling) and is stored as printed, never regenerated.

``name_matching_key`` is one string under which Cyrillic, passport-Latin and informal Latin
spellings of a name meet (``Жұмабек``, ``ZHUMABEK``, ``Jumabek`` → ``jumabek``); the rules
are listed in ``MATCHING_RULES``. ``name_keys`` gives one key per token of a full name, for
blocking in record linkage.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Final

import iuliia
from anyascii import anyascii

__all__ = [
    "KAZAKH_PASSPORT_LETTERS",
    "MATCHING_RULES",
    "name_keys",
    "name_matching_key",
    "parse_letter_table",
    "to_passport_latin",
]

#: The Kazakh letters that ICAO Doc 9303's Cyrillic table lacks, as Kazakh passports write
#: them. Applied before the ICAO table, so an ``extra`` mapping can also override a Russian
#: letter (e.g. ``{"Й": "Y", "й": "y"}``). Keys are single characters.
KAZAKH_PASSPORT_LETTERS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "Ә": "A", "ә": "a",  # Әлихан → ALIKHAN
        "Ғ": "G", "ғ": "g",  # Ғалым → GALYM
        "Қ": "K", "қ": "k",  # Қайрат → KAIRAT
        "Ң": "N", "ң": "n",  # Теңіз → TENIZ
        "Ө": "O", "ө": "o",  # Өмірзақ → OMIRZAK
        "Ұ": "U", "ұ": "u",  # Нұрлан → NURLAN
        "Ү": "U", "ү": "u",  # Айгүл → AIGUL
        "Һ": "H", "һ": "h",  # Шаһизада → SHAHIZADA
        "І": "I", "і": "i",  # Әлібек → ALIBEK
    }
)  # fmt: skip

_APOSTROPHES = re.compile(r"['’ʼ`´‘ʹ\"]")
_SEPARATORS = re.compile(r"[\s.,;:_/\\()]+")
_NOT_PASSPORT = re.compile(r"[^A-Z \-]")
_HYPHENS = re.compile(r"\s*-[\s\-]*")
_SPACES = re.compile(r" +")
_LATIN_VALUE = re.compile(r"[A-Za-z '\-]*")


def parse_letter_table(raw: str) -> dict[str, str]:
    """A letter table written as JSON (``{"Й": "Y", "й": "y"}``, as in the
    ``AMAN_TRANSLIT_EXTRA`` setting): single letters to Latin letters (A-Z, a-z, space,
    hyphen, apostrophe; may be empty). Empty text is no table. ``ValueError`` names what is
    wrong."""
    if not raw.strip():
        return {}
    try:
        table = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the transliteration table is not JSON: {exc}") from None
    if not isinstance(table, dict):
        raise ValueError('the transliteration table is a JSON object: {"Й": "Y", "й": "y"}')
    for key, value in table.items():
        if len(key) != 1:
            raise ValueError(f"transliteration keys are single characters, not {key!r}")
        if not isinstance(value, str) or not _LATIN_VALUE.fullmatch(value):
            raise ValueError(f"{key!r} must map to Latin letters, not {value!r}")
    return {unicodedata.normalize("NFC", k): v for k, v in table.items()}


def _letter_table(extra: Mapping[str, str] | None) -> Mapping[str, str]:
    if not extra:
        return KAZAKH_PASSPORT_LETTERS
    for key in extra:
        if len(key) != 1:
            raise ValueError(f"transliteration keys are single characters, not {key!r}")
    return {**KAZAKH_PASSPORT_LETTERS, **extra}


def _to_latin(text: str, extra: Mapping[str, str] | None) -> str:
    """Latin letters of ``text`` in mixed case, punctuation kept; the shared first step."""
    if text.isascii() and not extra:
        return text  # the common case in Latin lists: nothing to transliterate
    table = _letter_table(extra)
    text = unicodedata.normalize("NFC", text)
    text = "".join(table.get(char, char) for char in text)
    text = iuliia.ICAO_DOC_9303.translate(text)
    # Scripts and letters the ICAO table has no row for (Ukrainian Ї, Latin diacritics, Arabic)
    # get anyascii's best ASCII rendering: a proposal, not a rule from the standard.
    return anyascii(text)


def to_passport_latin(text: str, extra: Mapping[str, str] | None = None) -> str:
    """``text`` (a name in any script) in passport Latin: upper-case ``A``-``Z``, space, hyphen.

    Cyrillic follows ICAO Doc 9303 with ``KAZAKH_PASSPORT_LETTERS`` (updated with ``extra``)
    applied first; other scripts go through anyascii. Apostrophes are dropped
    (``Д'Артаньян`` → ``DARTANIAN``), other punctuation becomes a space, digits and symbols
    are dropped, spaces are collapsed and hyphens keep no space around them.

    >>> to_passport_latin("Шаһизада Әлібекқызы")
    'SHAHIZADA ALIBEKKYZY'
    """
    latin = _to_latin(text, extra).upper()
    latin = _APOSTROPHES.sub("", latin)
    latin = _SEPARATORS.sub(" ", latin)
    latin = _NOT_PASSPORT.sub("", latin)
    latin = _HYPHENS.sub("-", latin)
    return _SPACES.sub(" ", latin).strip(" -")


#: The equivalence rules of ``name_matching_key``, applied in this order to the lower-case
#: passport-Latin letters of a name (spaces, hyphens and apostrophes already removed). Each
#: is (pattern, replacement, example). Order matters: clusters are folded before single
#: letters (``shch`` before ``ch``, ``dzh`` before ``zh``), the word-initial ``ye`` is read
#: before ``y`` becomes ``i``, and doubled letters are collapsed last, after rules that
#: create doubles (``Sergeyev`` → ``sergeiev`` → ``sergeev`` → ``sergev``).
#:
#: The letter ``j`` is read as Ж (Kazakh and English usage: Jumabek, Janar, Erjan), not as
#: the glide Й (German and Slavic usage: Julia, Jurij). Merging both would match ``Julia``
#: with ``Юлия`` but also ``Жанна`` with ``Яна`` and ``Байжанов`` with ``Баянов``; for this
#: ministry's citizens the Kazakh reading wins. ``Julia`` therefore does not meet ``Юлия``
#: (``Yulia`` and ``Iuliia`` do).
MATCHING_RULES: Final[tuple[tuple[str, str, str], ...]] = (
    # Word-initial Е written with a glide: Yerlan/Ierlan = Ерлан (ERLAN), Yevgeniy = Евгений.
    (r"^[yi]e", "e", "yerlan → erlan"),
    # Щ: ICAO SHCH, German/Polish SCH, English SHCH or SH.
    (r"shch|sch", "sh", "schukin → shukin"),
    # French-style Ч.
    (r"tch", "ch", "tchaikovski → chaikovski"),
    # Ж and Дж: ICAO ZH/DZH, informal J/DJ.
    (r"d?zh|dj", "j", "zhumabek → jumabek, djamila → jamila"),
    # Х and Kazakh Һ: ICAO KH (Х) and H (Һ), informal H.
    (r"kh", "h", "alikhan → alihan, shakhizada → shahizada"),
    # Ғ in informal Latin (GH, Ğ → g via anyascii).
    (r"gh", "g", "ghalym → galym"),
    # Ц: ICAO TS, informal TZ, TC (French), C (Polish, Czech).
    (r"t[szc]", "c", "tsoi → coi"),
    (r"ph", "f", "sophia → sofia"),
    (r"ck", "k", "erick → erik"),
    (r"x", "ks", "alexandr → aleksandr"),
    # Қ in the Kazakh Latin alphabet.
    (r"q", "k", "qairat → kairat"),
    (r"w", "v", "wladimir → vladimir"),
    # Й, Ы and the glide in Я/Ю/Е/Ё: ICAO writes I and Y, informal texts Y, I.
    (r"y", "i", "aygul → aigul, yulia → iulia, kyzy → kizi"),
    # Ё after a consonant: ICAO E, informal YO/IO (Пётр: PETR, Pyotr).
    (r"(?<=[bcdfghjklmnprstvz])io", "e", "fiodor → fedor"),
    # Е after a vowel: ICAO E, informal YE (Сергеев: SERGEEV, Sergeyev).
    (r"(?<=[aeiou])ie", "e", "sergeiev → sergeev"),
    # Kazakh АУЫ before a consonant, which Russian spellings shorten to АУ (Бауыржан: BAUYRZHAN,
    # Бауржан: BAURZHAN).
    (r"(?<=au)i(?=[bcdfghjklmnprstvz])", "", "bauirjan → baurjan"),
    # Doubled letters (ИЯ → IIA, ЕЕ, Нн): Mariia/Mariya/Maria, Assel/Asel, Anna/Ana.
    (r"([a-z])\1+", r"\1", "iuliia → iulia, assel → asel"),
)

_COMPILED_RULES: Final = tuple((re.compile(p), r) for p, r, _example in MATCHING_RULES)
_NOT_KEY = re.compile(r"[^a-z]")
_TOKENS = re.compile(r"[\s,;/]+")


def name_matching_key(text: str, extra: Mapping[str, str] | None = None) -> str:
    """The key under which spellings of one name meet; ``""`` for a text without letters.

    Steps: passport Latin as in ``to_passport_latin`` (``extra`` as there), lower case, every
    character other than ``a``-``z`` removed (so ``Abdul-Aziz`` = ``Abdulaziz`` and a
    multi-part text gives one key), then ``MATCHING_RULES`` in order.

    The key serves search and blocking: different names may share a key (``Щукин`` and
    ``Шукин``, ``Рыков`` and ``Риков``), so a match on the key is a candidate, not a
    decision.

    >>> name_matching_key("Жұмабек"), name_matching_key("Jumabek")
    ('jumabek', 'jumabek')
    """
    if extra:
        return _key(text, extra)
    return _cached_key(text)


def _key(text: str, extra: Mapping[str, str] | None) -> str:
    key = _NOT_KEY.sub("", _to_latin(text, extra).lower())
    for pattern, replacement in _COMPILED_RULES:
        key = pattern.sub(replacement, key)
    return key


@lru_cache(maxsize=65536)
def _cached_key(text: str) -> str:
    # Given names and endings repeat heavily across a registry; keying a million people
    # computes a few thousand distinct keys.
    return _key(text, None)


def name_keys(full_name: str, extra: Mapping[str, str] | None = None) -> list[str]:
    """One matching key per token of ``full_name`` (split on spaces, commas, semicolons,
    slashes; a hyphenated part stays one token), sorted and without duplicates, so that
    ``Ivanova Anna`` and ``Анна Иванова`` give the same list."""
    keys = {name_matching_key(token, extra) for token in _TOKENS.split(full_name)}
    keys.discard("")
    return sorted(keys)


PAIR_SEPARATOR: Final = "0"


def name_key_pairs(keys: Iterable[str]) -> list[str]:
    """Every ordered pair of two different keys of one person, joined by ``PAIR_SEPARATOR``
    (``ahmetov0erlan`` and ``erlan0ahmetov``), sorted: a search for two words then reads one
    index range (one word's whole key, the other's prefix) instead of intersecting two.

    The separator is a digit, which keys never contain and which sorts before every letter
    under any collation (a space or a punctuation mark is ignored by some), so that a whole
    key followed by a prefix is still one index range.

    >>> name_key_pairs(["erlan", "ahmetov", "erlan"])
    ['ahmetov0erlan', 'erlan0ahmetov']
    """
    unique = sorted(set(keys) - {""})
    return [f"{a}{PAIR_SEPARATOR}{b}" for a in unique for b in unique if a != b]
