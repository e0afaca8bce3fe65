"""Identity standards of the registry, as plain Python (no Django), for the web side, the
importers, the planner and the benchmarks alike.

* ``mrz``: ICAO Doc 9303 machine-readable zones (TD3 passports, TD1 and TD2 cards).
* ``translit``: ICAO Doc 9303 transliteration of Kazakh and Russian Cyrillic to passport
  Latin, and a matching key for spellings of one name.
* ``phones``: phone numbers in ITU-T E.164 via libphonenumber.
* ``iin``: Kazakhstan's 12-digit individual identification number.
"""

from aman.registry.identity.iin import (
    IinConflict,
    IinError,
    IinResult,
    check_iin_matches,
    make_iin,
    parse_iin,
)
from aman.registry.identity.mrz import (
    CheckResult,
    MrzError,
    MrzResult,
    build_td1,
    build_td3,
    check_digit,
    parse_mrz,
)
from aman.registry.identity.phones import PhoneResult, format_international, normalize_phone
from aman.registry.identity.translit import (
    KAZAKH_PASSPORT_LETTERS,
    MATCHING_RULES,
    PAIR_SEPARATOR,
    name_key_pairs,
    name_keys,
    name_matching_key,
    to_passport_latin,
)

__all__ = [
    "KAZAKH_PASSPORT_LETTERS",
    "MATCHING_RULES",
    "PAIR_SEPARATOR",
    "CheckResult",
    "IinConflict",
    "IinError",
    "IinResult",
    "MrzError",
    "MrzResult",
    "PhoneResult",
    "build_td1",
    "build_td3",
    "check_digit",
    "check_iin_matches",
    "format_international",
    "make_iin",
    "name_key_pairs",
    "name_keys",
    "name_matching_key",
    "normalize_phone",
    "parse_iin",
    "parse_mrz",
    "to_passport_latin",
]
