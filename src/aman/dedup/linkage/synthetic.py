"""A seeded synthetic crisis registry of Kazakh citizens, for the quality tests and the
benchmarks of batch linkage (no real person's data exists to test with).

Names are mimesis's Kazakh locale (``mimesis.Locale.KK``: 362 male and 235 female given
names, ~200 surnames per sex), drawn with Zipf weights (rank ** -0.8 over a seeded order) so
that a few names are very common, as in real lists. Families share a surname (women carry
its feminine form: ``Ахметов`` → ``Ахметова``, ``Сүлейменұлы`` → ``Сүлейменқызы``); people
travelling in a group of friends have their own (women from mimesis's female list).

Every household is registered one to five times (people of a household are left out of a
later registration at random, so each person has one to five records), each time through a
channel that writes names its own way:

============== ==============================================================================
``kk_form``    Kazakh Cyrillic as typed by the citizen (typos), passport Latin sometimes
``ru_hotline`` Russianised Cyrillic written by an operator (``Нұрлан`` → ``Нурлан``,
               ``Жұмабек`` → ``Жумабек``/``Джумабек``, ``-ұлы`` → ``-улы``, ``ә`` → ``а``,
               ``і`` → ``и``...), typos, more missing or wrong birth dates
``tour_list``  passport Latin in capitals from a tour operator's list, the passport number
               almost always, the agency's phone for the whole group
``latin_chat`` informal Latin (``Jumabek``/``Zhumabek``, ``Zhanna``/``Janna``, ``Aigul``/
               ``Aygul``, sometimes ``ae``/``oe``/``ng`` for ``ә``/``ө``/``ң``), typos
============== ==============================================================================

Birth dates are sometimes missing, or wrong by one digit, two transposed digits, or day and
month swapped; 0.3 % have the wrong sex. IINs, document and phone numbers are random hex
strings standing for their keyed hashes; 1 % of the document and phone numbers written are
wrong (a typo gives another hash), 0.2 % of the IINs (an IIN has a check digit, so few
typos pass). A household shares a phone; a registration gives the registrant's phone for
everyone in it.

``generate(records, seed)`` returns the ``link`` input columns plus ``true_id`` (the person)
and ``channel``. ``mimesis`` is a development dependency, imported only here, when called.
"""

from __future__ import annotations

import bisect
import itertools
import random
from datetime import date, timedelta
from typing import Any

import pandas as pd

from aman.registry.identity import to_passport_latin

__all__ = ["CHANNELS", "generate", "russianise"]

CHANNELS = ("kk_form", "ru_hotline", "tour_list", "latin_chat")
_CHANNEL_WEIGHTS = (0.30, 0.25, 0.20, 0.25)

_RUSSIAN = str.maketrans(
    {
        "ұ": "у", "ү": "у", "қ": "к", "ғ": "г", "ә": "а", "ө": "о", "ң": "н", "һ": "х",
        "і": "и", "Ұ": "У", "Ү": "У", "Қ": "К", "Ғ": "Г", "Ә": "А", "Ө": "О", "Ң": "Н",
        "Һ": "Х", "І": "И",
    }
)  # fmt: skip

# Informal Latin: each Cyrillic letter's spellings, the first the most frequent.
_INFORMAL: dict[str, tuple[tuple[str, float], ...]] = {
    "а": (("a", 1),), "б": (("b", 1),), "в": (("v", 1),), "г": (("g", 1),),
    "д": (("d", 1),), "е": (("e", 1),), "ё": (("yo", 0.5), ("e", 0.5)),
    "ж": (("zh", 0.5), ("j", 0.5)), "з": (("z", 1),), "и": (("i", 1),),
    "й": (("y", 0.6), ("i", 0.4)), "к": (("k", 1),), "л": (("l", 1),), "м": (("m", 1),),
    "н": (("n", 1),), "о": (("o", 1),), "п": (("p", 1),), "р": (("r", 1),),
    "с": (("s", 1),), "т": (("t", 1),), "у": (("u", 1),), "ф": (("f", 1),),
    "х": (("kh", 0.5), ("h", 0.5)), "ц": (("ts", 0.7), ("c", 0.3)), "ч": (("ch", 1),),
    "ш": (("sh", 1),), "щ": (("sch", 0.5), ("shch", 0.5)), "ъ": (("", 1),),
    "ы": (("y", 0.7), ("i", 0.3)), "ь": (("", 1),), "э": (("e", 1),),
    "ю": (("yu", 0.6), ("iu", 0.4)), "я": (("ya", 0.6), ("ia", 0.4)),
    "ә": (("a", 0.85), ("ae", 0.15)), "ғ": (("g", 0.8), ("gh", 0.2)),
    "қ": (("k", 0.7), ("q", 0.3)), "ң": (("n", 0.85), ("ng", 0.15)),
    "ө": (("o", 0.85), ("oe", 0.15)), "ұ": (("u", 1),), "ү": (("u", 0.85), ("ue", 0.15)),
    "һ": (("h", 1),), "і": (("i", 1),), " ": ((" ", 1),), "-": (("-", 1),),
}  # fmt: skip

_CYRILLIC = "абвгдежзийклмнопрстуфхцчшыэюяәғқңөұүі"
_LATIN = "abcdefghijklmnoprstuvyz"


def russianise(name: str, rng: random.Random | None = None) -> str:
    """``name`` in Kazakh Cyrillic as Russian-speaking clerks write it (``Жұмабекұлы`` →
    ``Жумабекулы``; with ``rng``, an initial ``Ж`` is sometimes written ``Дж``)."""
    out = name.translate(_RUSSIAN)
    if rng is not None and out.startswith("Ж") and rng.random() < 0.2:
        out = "Дж" + out[1:]
    return out


def _informal(name: str, rng: random.Random) -> str:
    out = []
    for char in name.lower():
        options = _INFORMAL.get(char)
        if options is None:
            out.append(to_passport_latin(char).lower())
            continue
        r, acc = rng.random(), 0.0
        for spelling, p in options:
            acc += p
            if r < acc:
                out.append(spelling)
                break
        else:
            out.append(options[-1][0])
    text = "".join(out)
    return " ".join(w.capitalize() for w in text.split(" "))


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 3:
        return text
    alphabet = _CYRILLIC if not text.isascii() else _LATIN
    upper = text.isupper()
    i = rng.randrange(1, len(text))  # first letters are rarely mistyped
    kind = rng.random()
    if kind < 0.4:
        new = rng.choice(alphabet)
        text = text[:i] + (new.upper() if upper else new) + text[i + 1 :]
    elif kind < 0.65:
        text = text[:i] + text[i + 1 :]
    elif kind < 0.85:
        text = text[:i] + text[i] + text[i:]
    elif i < len(text) - 1:
        text = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text


def _feminine(surname: str) -> str:
    if surname.endswith("ұлы"):
        return surname[:-3] + "қызы"
    for masc, fem in (("ов", "ова"), ("ев", "ева"), ("ин", "ина")):
        if surname.endswith(masc):
            return surname[: -len(masc)] + fem
    return surname


def _bad_date(d: date, rng: random.Random) -> date:
    """``d`` with one digit wrong, two adjacent digits swapped, or day and month swapped."""
    for _ in range(20):
        text = d.isoformat()
        kind = rng.random()
        if kind < 0.2 and d.day <= 12 and d.day != d.month:
            return date(d.year, d.day, d.month)
        positions = [i for i, c in enumerate(text) if c.isdigit() and i > 1]
        i = rng.choice(positions)
        if kind < 0.75:
            text = text[:i] + rng.choice([c for c in "0123456789" if c != text[i]]) + text[i + 1 :]
        elif i + 1 < len(text) and text[i + 1].isdigit() and text[i] != text[i + 1]:
            text = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        else:
            continue
        try:
            bad = date.fromisoformat(text)
        except ValueError:
            continue
        if bad != d and bad.year > 1900:
            return bad
    return d + timedelta(days=1)


def _sex(sex: str, written: float, rng: random.Random) -> str:
    r = rng.random()
    if r >= written:
        return ""
    if r < 0.003:  # a slip of the operator's hand
        return "M" if sex == "F" else "F"
    return sex


def _zipf(items: list[str], rng: random.Random) -> tuple[list[str], list[float]]:
    order = items[:]
    rng.shuffle(order)
    weights = [1 / rank**0.8 for rank in range(1, len(order) + 1)]
    return order, list(itertools.accumulate(weights))


def _hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(64):016x}"


# Per channel: (probability a name is mistyped, passport Latin given, IIN written,
# document written, phone written, birth date wrong, birth date missing, sex written).
_CHANNEL = {
    "kk_form": (0.12, 0.3, 0.8, 0.4, 0.9, 0.05, 0.02, 0.95),
    "ru_hotline": (0.10, 0.0, 0.5, 0.2, 0.95, 0.10, 0.08, 0.9),
    "tour_list": (0.02, 1.0, 0.1, 0.98, 0.5, 0.02, 0.0, 1.0),
    "latin_chat": (0.10, 0.0, 0.5, 0.3, 0.9, 0.06, 0.05, 0.8),
}


def generate(records: int = 10_000, *, seed: int = 7) -> pd.DataFrame:
    """``records`` registrations (about ``records / 2.1`` people) in ``link``'s input schema
    plus ``true_id`` and ``channel``; the same ``seed`` gives the same data."""
    from mimesis import Locale, Person

    data: Any = Person(Locale.KK)._dataset  # the locale's name lists
    rng = random.Random(seed)  # noqa: S311 (test data, not secrets)
    surnames, surname_cw = _zipf(list(data["surnames"]["male"]), rng)
    female_surnames, female_surname_cw = _zipf(list(data["surnames"]["female"]), rng)
    male, male_cw = _zipf(list(data["names"]["male"]), rng)
    female, female_cw = _zipf(list(data["names"]["female"]), rng)

    def pick(items: list[str], cw: list[float]) -> str:
        return items[bisect.bisect(cw, rng.random() * cw[-1])]

    spellings: dict[tuple[str, str], str] = {}

    def spell(name: str, channel: str, typo: float) -> tuple[str, str]:
        """(native, passport Latin) of ``name`` as ``channel`` writes it."""
        if channel == "kk_form":
            native = name
        elif channel == "ru_hotline":
            native = russianise(name, rng)
        elif channel == "tour_list":
            native = spellings.get((name, "latin")) or spellings.setdefault(
                (name, "latin"), to_passport_latin(name)
            )
        else:
            native = _informal(name, rng)
        if rng.random() < typo:
            native = _typo(native, rng)
        latin = spellings.get((name, "latin")) or spellings.setdefault(
            (name, "latin"), to_passport_latin(name)
        )
        return native, latin

    start, end = date(1940, 1, 1).toordinal(), date(2023, 12, 31).toordinal()
    cities = list(range(1, 61))
    city_cw = list(itertools.accumulate(1 / r**0.8 for r in range(1, 61)))
    rows: list[dict[str, Any]] = []
    person_id = household_id = 0
    agency_phone = _hex(rng)
    while len(rows) < records:
        size = rng.choices((1, 2, 3, 4, 5), (0.45, 0.2, 0.15, 0.12, 0.08))[0]
        family = rng.random() < 0.85
        family_surname = pick(surnames, surname_cw)
        home_phone = _hex(rng) if rng.random() < 0.7 else ""
        city = cities[bisect.bisect(city_cw, rng.random() * city_cw[-1])]
        people: list[dict[str, Any]] = []
        for _ in range(size):
            person_id += 1
            sex = "F" if rng.random() < 0.5 else "M"
            if family:
                surname = family_surname if sex == "M" else _feminine(family_surname)
            elif sex == "M":
                surname = pick(surnames, surname_cw)
            else:
                surname = pick(female_surnames, female_surname_cw)
            given = pick(male, male_cw) if sex == "M" else pick(female, female_cw)
            while any(other["given"] == given for other in people):  # one name per family
                given = pick(male, male_cw) if sex == "M" else pick(female, female_cw)
            documents = []
            if rng.random() < 0.7:
                documents.append(_hex(rng))
                if rng.random() < 0.2:
                    documents.append(_hex(rng))
            phones = [home_phone] if home_phone else []
            if rng.random() < 0.5 or not phones:
                phones.append(_hex(rng))
            people.append(
                {
                    "true_id": person_id,
                    "surname": surname,
                    "given": given,
                    "sex": sex,
                    "birth": date.fromordinal(rng.randint(start, end)),
                    "iin": _hex(rng) if rng.random() < 0.85 else "",
                    "documents": documents,
                    "phones": phones,
                }
            )
        times = rng.choices((1, 2, 3, 4, 5), (0.45, 0.25, 0.15, 0.09, 0.06))[0]
        for registration in range(times):
            household_id += 1
            channel = rng.choices(CHANNELS, _CHANNEL_WEIGHTS)[0]
            typo, latin_p, iin_p, doc_p, phone_p, bad_p, missing_p, sex_p = _CHANNEL[channel]
            members = people if registration == 0 else [p for p in people if rng.random() < 0.8]
            members = members or [rng.choice(people)]
            registrant = rng.choice(members)
            if channel == "tour_list":
                if rng.random() < 0.05:
                    agency_phone = _hex(rng)
                phone = agency_phone
            else:
                phone = rng.choice(registrant["phones"])
            for p in members:
                surname, surname_latin = spell(p["surname"], channel, typo)
                given, given_latin = spell(p["given"], channel, typo)
                if rng.random() >= latin_p:
                    surname_latin = given_latin = ""
                birth: date | None = p["birth"]
                r = rng.random()
                if r < missing_p:
                    birth = None
                elif r < missing_p + bad_p:
                    birth = _bad_date(p["birth"], rng)
                iin = p["iin"] if p["iin"] and rng.random() < iin_p else ""
                if iin and rng.random() < 0.002:  # a typo that passes the check digit
                    iin = _hex(rng)
                documents = [d for d in p["documents"] if rng.random() < doc_p]
                if documents and rng.random() < 0.01:
                    documents = [_hex(rng)]
                phones = [phone] if rng.random() < phone_p else []
                if rng.random() < 0.3 and p["phones"][-1] not in phones:
                    phones.append(p["phones"][-1])
                rows.append(
                    {
                        "household_id": household_id,
                        "surname": surname,
                        "given_names": given,
                        "surname_latin": surname_latin,
                        "given_names_latin": given_latin,
                        "birth_date": birth,
                        "sex": _sex(p["sex"], sex_p, rng),
                        "iin_hash": iin,
                        "document_hashes": documents,
                        "phone_hashes": phones,
                        "city_id": city if rng.random() < 0.9 else rng.choice(cities),
                        "true_id": p["true_id"],
                        "channel": channel,
                    }
                )
    rows = rows[:records]
    rng.shuffle(rows)
    df = pd.DataFrame(rows)
    df.insert(0, "unique_id", range(1, len(df) + 1))
    return df
