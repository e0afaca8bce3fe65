"""Lists from tour operators, embassies and employers (CSV or XLSX) into the registry.

A list is uploaded into an ImportBatch (kept encrypted), its columns are mapped to the
registry's fields (the mapping is saved per source and offered again next time), a preview
shows how the first rows read, and the run turns every row into an intake record: accepted
rows register their household (rows sharing a household or booking value travel together;
a tour code is kept with each person and never groups rows), rejected rows are kept with
their reasons and their cells and can be downloaded as the list was. Importing the same
file again creates nothing new: the whole file is recognised by its hash, and each
household by an idempotency key made of the source, its own reference and its content.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aman.core.audit import audit_write
from aman.core.cells import formula_safe, unquoted
from aman.core.errors import ApplicationError, Conflict
from aman.core.models import AuditEntry, Crisis, User
from aman.geo.models import Country
from aman.registry.models import Channel, ImportBatch, ImportSource, IntakeRecord
from aman.registry.services import (
    Submission,
    country_allowed,
    country_refused,
    intake_reject,
    registrations_submit,
)

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
CHUNK = 200

# Registry fields a column can feed, with the header names that usually mean them.
TARGETS: dict[str, tuple[Any, list[str]]] = {
    "surname": (
        gettext_lazy("Surname"),
        ["surname", "last name", "family name", "фамилия", "тегі", "тегі / фамилия"],
    ),
    "given_names": (
        gettext_lazy("Given names"),
        ["given names", "given name", "first name", "name", "имя", "аты"],
    ),
    "full_name": (
        gettext_lazy("Full name (surname first)"),
        ["full name", "фио", "ф.и.о.", "аты-жөні", "tourist", "турист", "passenger"],
    ),
    "patronymic": (
        gettext_lazy("Patronymic"),
        ["patronymic", "middle name", "отчество", "әкесінің аты"],
    ),
    "surname_latin": (
        gettext_lazy("Surname (passport Latin)"),
        ["surname latin", "surname (latin)", "фамилия латиницей", "фамилия (лат)"],
    ),
    "given_names_latin": (
        gettext_lazy("Given names (passport Latin)"),
        ["name latin", "given names (latin)", "имя латиницей", "имя (лат)"],
    ),
    "birth_date": (
        gettext_lazy("Birth date"),
        ["birth date", "date of birth", "dob", "дата рождения", "туған күні", "д.р."],
    ),
    "sex": (gettext_lazy("Sex"), ["sex", "gender", "пол", "жынысы"]),
    "nationality": (
        gettext_lazy("Nationality"),
        ["nationality", "citizenship", "гражданство", "азаматтығы"],
    ),
    "iin": (gettext_lazy("IIN"), ["iin", "иин", "жсн"]),
    "passport": (
        gettext_lazy("Passport number"),
        [
            "passport",
            "passport number",
            "passport no",
            "document",
            "номер паспорта",
            "паспорт",
            "төлқұжат",
        ],
    ),
    "passport_expiry": (
        gettext_lazy("Passport expiry"),
        ["passport expiry", "expiry", "valid until", "срок действия", "действителен до"],
    ),
    "phone": (gettext_lazy("Phone"), ["phone", "mobile", "tel", "телефон", "тел", "тел."]),
    "email": (gettext_lazy("Email"), ["email", "e-mail", "почта", "эл. почта"]),
    "city": (gettext_lazy("City"), ["city", "город", "қала"]),
    "address": (
        gettext_lazy("Address or hotel"),
        ["address", "hotel", "адрес", "отель", "гостиница", "мекенжай"],
    ),
    "needs_note": (
        gettext_lazy("Needs"),
        ["needs", "notes", "comment", "примечание", "комментарий"],
    ),
    "eligibility": (
        gettext_lazy("Eligibility (citizen, family member, partner-state national)"),
        ["eligibility", "category", "категория", "санаты"],
    ),
    "source_ref": (
        gettext_lazy("Row reference (the list's own id of the person: ticket, record number)"),
        ["ref", "reference", "record id", "id", "ticket", "ticket number", "номер билета"],
    ),
    "tour_code": (
        gettext_lazy("Tour code (kept with each person; does not group rows)"),
        ["tour code", "tour", "tour number", "код тура", "тур", "номер тура"],
    ),
    "household": (
        gettext_lazy("Household or booking (rows with the same value travel together)"),
        [
            "household",
            "family",
            "booking",
            "booking reference",
            "voucher",
            "семья",
            "бронь",
            "номер брони",
            "отбасы",
        ],
    ),
}


def guess_mapping(headers: list[str], saved: dict[str, str] | None = None) -> dict[str, str]:
    """target → header: the source's saved mapping where its headers still exist, else
    the header names that usually mean each field. A saved row reference that is a tour
    code or booking column (mappings saved before these had fields of their own) is taken
    as that field: a row reference must name one row, not a tour."""
    mapping: dict[str, str] = {}
    for target, header in (saved or {}).items():
        if header not in headers or target not in TARGETS:
            continue
        if target == "source_ref":
            name = header.strip().lower()
            for moved in ("tour_code", "household"):
                if name in TARGETS[moved][1] and moved not in (saved or {}):
                    target = moved
                    break
        mapping[target] = header
    normalized = {h.strip().lower(): h for h in headers}
    for target, (_label, names) in TARGETS.items():
        if target in mapping:
            continue
        for name in names:
            if name in normalized and normalized[name] not in mapping.values():
                mapping[target] = normalized[name]
                break
    return mapping


def check_mapping(mapping: dict[str, str], headers: list[str]) -> None:
    unknown = sorted(set(mapping) - set(TARGETS))
    missing_headers = sorted(h for h in mapping.values() if h not in headers)
    if unknown or missing_headers:
        raise ApplicationError(
            _("The mapping names fields or columns that do not exist."),
            {"fields": unknown, "columns": missing_headers},
        )
    if not ("full_name" in mapping or {"surname", "given_names"} <= set(mapping)):
        raise ApplicationError(
            _("Map a full-name column, or both surname and given names."),
            {"mapping": ["surname", "given_names", "full_name"]},
        )


def read_table(name: str, data: bytes) -> tuple[list[str], Iterator[list[str]]]:
    """Headers and rows of a CSV (any common delimiter; UTF-8 or Windows-1251) or an XLSX
    (first sheet). Cells come back as text; Excel dates as ISO dates."""
    if name.lower().endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data)
    if not name.lower().endswith((".csv", ".txt")):
        raise ApplicationError(_("Send a CSV or XLSX file."), {"file": [name]})
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ApplicationError(
            _("The file is neither UTF-8 nor Windows-1251 text."), {"file": [name]}
        )
    try:
        dialect: Any = csv.Sniffer().sniff(text[:20000], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    headers = [unquoted(h.strip()) for h in next(reader, [])]
    return headers, (
        [unquoted(c.strip()) for c in row] for row in reader if any(c.strip() for c in row)
    )


def _read_xlsx(data: bytes) -> tuple[list[str], Iterator[list[str]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise ApplicationError(
            _("The spreadsheet cannot be read."), {"file": [str(exc)[:200]]}
        ) from exc
    rows = book.worksheets[0].iter_rows(values_only=True)

    def text(cell: Any) -> str:
        if cell is None:
            return ""
        if isinstance(cell, datetime):
            return cell.date().isoformat()
        if isinstance(cell, date):
            return cell.isoformat()
        if isinstance(cell, float) and cell.is_integer():
            return str(int(cell))
        return unquoted(str(cell).strip())

    headers = [text(c) for c in next(rows, ())]
    return headers, (
        [text(c) for c in row] for row in rows if any(c not in (None, "") for c in row)
    )


DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%y")
SEXES = {
    "m": "M",
    "male": "M",
    "м": "M",
    "муж": "M",
    "мужской": "M",
    "ер": "M",
    "f": "F",
    "female": "F",
    "ж": "F",
    "жен": "F",
    "женский": "F",
    "әйел": "F",
    "x": "X",
}


def _date(value: str, *, past: bool = False) -> str:
    """A date as ISO text, or the value as typed (the registry's validation names it). A
    two-digit year is read in the past for a birth date (`past`): `12.03.55` is 1955."""
    for fmt in DATE_FORMATS:
        try:
            parsed = datetime.strptime(value, fmt).date()  # noqa: DTZ007 - a date
        except ValueError:
            continue
        if past and fmt.endswith("%y") and parsed > timezone.localdate():
            parsed = parsed.replace(year=parsed.year - 100)
        return parsed.isoformat()
    return value


# Everyday names of countries that the reference data (ISO names) spells otherwise.
COUNTRY_ALIASES = {
    "russia": "RU",
    "россия": "RU",
    "ресей": "RU",
    "usa": "US",
    "сша": "US",
    "uk": "GB",
    "great britain": "GB",
    "великобритания": "GB",
    "turkey": "TR",
    "кыргызстан": "KG",
    "south korea": "KR",
    "южная корея": "KR",
}
ELIGIBILITY_ALIASES = {
    "гражданин": "citizen",
    "гражданка": "citizen",
    "гражданин рк": "citizen",
    "азамат": "citizen",
    "family member": "family_member",
    "член семьи": "family_member",
    "член семьи гражданина": "family_member",
    "азаматтың отбасы мүшесі": "family_member",
    "partner national": "partner_national",
    "гражданин государства-партнёра": "partner_national",
    "серіктес мемлекеттің азаматы": "partner_national",
}


def _key(value: str) -> str:
    return " ".join(value.casefold().replace("ё", "е").split())


def country_names() -> dict[str, str]:
    """Normalised code or name → ISO alpha-2: the reference data's countries (alpha-2,
    alpha-3, English, Russian and Kazakh names), ISO's common and official names, the
    names before a comma (“Iran” of “Iran, Islamic Republic of”) when they name one
    country, and a few everyday names (COUNTRY_ALIASES)."""
    import pycountry

    names: dict[str, str] = {}
    short: dict[str, set[str]] = {}
    for code, code3, *spelled in Country.objects.values_list(
        "code", "code3", "name", "name_ru", "name_kk"
    ):
        iso = pycountry.countries.get(alpha_2=code)
        spelled += [getattr(iso, "common_name", ""), getattr(iso, "official_name", "")]
        for name in spelled:
            if name and "," in name:
                short.setdefault(_key(name.split(",")[0]), set()).add(code)
        for name in (code, code3, *spelled):
            if name:
                names.setdefault(_key(name), code)
    for name, codes in short.items():
        if len(codes) == 1:
            names.setdefault(name, codes.pop())
    known = set(names.values())
    names.update({k: v for k, v in COUNTRY_ALIASES.items() if v in known})
    return names


def eligibility_names() -> dict[str, str]:
    """Normalised value or label (English, Russian, Kazakh) → an eligibility."""
    from django.utils import translation

    from aman.registry.models import Eligibility

    names = {_key(k): v for k, v in ELIGIBILITY_ALIASES.items()}
    for value, label in Eligibility.choices:
        names[_key(value)] = value
        names[_key(value.replace("_", " "))] = value
        for language in ("en", "ru", "kk"):
            with translation.override(language):
                names[_key(str(label))] = value
    return names


@dataclass
class Lookups:
    """What rows are read against, loaded once per preview or run."""

    countries: dict[str, str] = field(default_factory=country_names)
    eligibilities: dict[str, str] = field(default_factory=eligibility_names)


@dataclass
class Row:
    number: int  # 1-based line in the file, header = 1
    values: dict[str, str]
    member: dict[str, Any] = field(default_factory=dict)
    location: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    group: str = ""  # the household column's value: rows sharing it travel together
    ref: str = ""  # the row's own reference (row reference column)
    tour_code: str = ""


def convert(
    number: int,
    cells: list[str],
    headers: list[str],
    mapping: dict[str, str],
    lookups: Lookups | None = None,
) -> Row:
    """One row → a household member and its location, or its problems."""
    lookups = lookups or Lookups()
    values = {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(headers)}
    row = Row(number=number, values=values)
    get = {t: values.get(h, "").strip() for t, h in mapping.items()}
    member: dict[str, Any] = {}
    if get.get("full_name") and not (get.get("surname") and get.get("given_names")):
        parts = get["full_name"].split()
        if len(parts) < 2:
            row.problems["full_name"] = _("A full name needs a surname and a given name.")
        else:
            member["surname"], member["given_names"] = parts[0], " ".join(parts[1:2])
            if len(parts) > 2:
                member["patronymic"] = " ".join(parts[2:])
    for key in (
        "surname",
        "given_names",
        "patronymic",
        "surname_latin",
        "given_names_latin",
        "iin",
        "email",
        "needs_note",
    ):
        if get.get(key):
            member[key] = get[key]
    if get.get("birth_date"):
        member["birth_date"] = _date(get["birth_date"], past=True)
    if get.get("sex"):
        sex = SEXES.get(get["sex"].strip().lower().rstrip("."))
        if sex is None:
            row.problems["sex"] = _("Unknown sex %(v)r (M/F, М/Ж).") % {"v": get["sex"]}
        else:
            member["sex"] = sex
    if get.get("nationality"):
        code = lookups.countries.get(_key(get["nationality"]))
        if code is None:
            row.problems["nationality"] = _(
                "Column %(column)s: unknown country %(value)r (a code such as KZ or KAZ, "
                "or the country's name)."
            ) % {"column": mapping["nationality"], "value": get["nationality"]}
        else:
            member["nationalities"] = [code]
    if get.get("eligibility"):
        eligibility = lookups.eligibilities.get(_key(get["eligibility"]))
        if eligibility is None:
            row.problems["eligibility"] = _(
                "Column %(column)s: unknown eligibility %(value)r (citizen, family member "
                "of a citizen or partner-state national)."
            ) % {"column": mapping["eligibility"], "value": get["eligibility"]}
        else:
            member["eligibility"] = eligibility
    if get.get("passport"):
        doc: dict[str, Any] = {"kind": "passport", "number": re.sub(r"\s", "", get["passport"])}
        if get.get("passport_expiry"):
            doc["expiry_date"] = _date(get["passport_expiry"])
        if get.get("surname_latin") and get.get("given_names_latin"):
            doc["surname_latin"], doc["given_names_latin"] = (
                get["surname_latin"],
                get["given_names_latin"],
            )
        member["documents"] = [doc]
    if get.get("phone"):
        member["phones"] = [get["phone"]]
    row.member = member
    row.location = {k: get[k] for k in ("city", "address") if get.get(k)}
    row.group, row.ref, row.tour_code = (
        get.get("household", ""),
        get.get("source_ref", ""),
        get.get("tour_code", ""),
    )
    return row


def member_problems(
    row: Row, home: Country, countries: dict[str, Country] | None = None
) -> dict[str, str]:
    """The checks registration makes of one member (its shape, then the IIN checksum and
    the birth date and sex it encodes, the e-mail address, the citizenship against the
    eligibility — `home`: the crisis's home country —, the country codes), keyed by
    field. `countries`: the countries the rows name, read once for many rows."""
    from pydantic import ValidationError

    from aman.registry.schemas import MemberIn
    from aman.registry.services import Problem, _member_problems, problem_reasons

    try:
        member = MemberIn.model_validate(row.member)
    except ValidationError as exc:
        from aman.core.validation import pydantic_message

        problems = [
            Problem(".".join(map(str, e["loc"])) or "row", pydantic_message(e))
            for e in exc.errors()
        ]
    else:
        problems = [
            Problem(p.field.removeprefix("members.0."), p.message)
            for p in _member_problems(0, member, home, countries)
        ]
    return problem_reasons(problems)


MAX_MEMBERS = 20  # RegistrationIn.members


def households(rows: list[Row]) -> dict[str, list[Row]]:
    """Rows grouped into households: the rows with the same household value together,
    every other row on its own. A tour code or a row reference never groups rows."""
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(row.group or f"row:{row.number}", []).append(row)
    return groups


def refuse_households(groups: dict[str, list[Row]], home: Country) -> None:
    """Refuse, before registration, the households registration would refuse — a member
    that fails its checks (`member_problems`; `home`: the crisis's home country), more than
    20 rows — each row with its own
    reasons, so that every refused row keeps its own cells; the others of such a household
    name the rows that refused it."""
    from aman.registry.services import _countries_for

    countries = _countries_for(
        [
            str(code)
            for members in groups.values()
            for row in members
            for code in [
                *(row.member.get("nationalities") or []),
                *(d.get("issuing_state", "") for d in row.member.get("documents") or []),
            ]
        ]
    )
    for members in groups.values():
        if len(members) > MAX_MEMBERS:
            reason = _(
                "The household has %(n)d rows with the same household value; at most "
                "%(max)d people travel as one household."
            ) % {"n": len(members), "max": MAX_MEMBERS}
            for row in members:
                row.problems = {"household": reason}
            continue
        for row in members:
            row.problems = member_problems(row, home, countries)
        refused = [str(r.number) for r in members if r.problems]
        if refused:
            for row in members:
                if not row.problems:
                    row.problems = {
                        "household": _("Refused with its household: row %(rows)s has problems.")
                        % {"rows": ", ".join(refused)}
                    }


def household_payloads(
    rows: list[Row], country: str
) -> Iterator[tuple[str, list[Row], dict[str, Any]]]:
    """Group rows into households (`households`) and build one registration payload per
    household."""
    for key, members in households(rows).items():
        payload = {
            "members": [r.member for r in members],
            "contact_index": 0,
            "location": {"country": country, **members[0].location},
            "consent": True,
            "language": "kk",
        }
        yield key, members, payload


def batch_create(
    *,
    actor: User | None,
    crisis: Crisis,
    source_name: str,
    file_name: str,
    data: bytes,
    country: Country,
    kind: str = ImportSource.Kind.OTHER,
) -> ImportBatch:
    """Keep an uploaded list (encrypted) and read its headers; nothing is imported yet."""
    if not data:
        raise ApplicationError(_("The file is empty."), {"file": [file_name]})
    if len(data) > MAX_BYTES:
        raise ApplicationError(_("The file is larger than 50 MB; split it."), {"file": [file_name]})
    source_name = source_name.strip()
    if not source_name:
        raise ApplicationError(
            _("Name the source of the list."), {"source": [_("This field is required.")]}
        )
    if not country_allowed(crisis, country):
        raise ApplicationError(country_refused(crisis, country), {"country": [country.code]})
    headers, _rows = read_table(file_name, data)
    if not any(headers):
        raise ApplicationError(
            _("The first row must hold the column names."), {"file": [file_name]}
        )
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        source, _created = ImportSource.objects.get_or_create(
            name=source_name, defaults={"kind": kind}
        )
        earlier = (
            ImportBatch.objects.filter(crisis=crisis, source=source, file_sha256=digest)
            .exclude(status=ImportBatch.Status.FAILED)
            .first()
        )
        if earlier is not None and earlier.status == ImportBatch.Status.UPLOADED:
            raise Conflict(
                _(
                    "This file was already uploaded from %(source)s (import %(id)s) and waits "
                    "for its column mapping: open it from the list of imports."
                )
                % {"source": source.name, "id": earlier.pk},
                {"batch": earlier.pk},
            )
        if earlier is not None:
            raise Conflict(
                _("This file was already imported from %(source)s (import %(id)s).")
                % {"source": source.name, "id": earlier.pk},
                {"batch": earlier.pk},
            )
        batch = ImportBatch.objects.create(
            crisis=crisis,
            source=source,
            file_name=file_name[:255],
            file_sha256=digest,
            content=base64.b64encode(data).decode(),
            country=country,
            mapping=guess_mapping(headers, source.mapping),
            columns=headers,
            created_by=actor,
        )
        audit_write(
            actor=actor,
            verb="import_upload",
            action=AuditEntry.Action.CREATE,
            obj=batch,
            crisis=crisis,
            changes={"file": [None, batch.file_name], "source": [None, source.name]},
        )
    return batch


def batch_table(batch: ImportBatch) -> tuple[list[str], Iterator[list[str]]]:
    return read_table(batch.file_name, base64.b64decode(batch.content))


def batch_preview(batch: ImportBatch, mapping: dict[str, str], limit: int = 20) -> list[Row]:
    """How the first rows read under a mapping, with their problems (nothing is saved):
    each row gets the checks registration makes of a member (`member_problems`)."""
    headers, rows = batch_table(batch)
    check_mapping(mapping, headers)
    lookups = Lookups()
    preview = []
    for i, cells in enumerate(rows):
        if i >= limit:
            break
        row = convert(i + 2, cells, headers, mapping, lookups)
        if not row.problems:
            row.problems = member_problems(row, batch.crisis.home_country)
        preview.append(row)
    return preview


@transaction.atomic
def batch_start(
    *, actor: User | None, batch: ImportBatch, mapping: dict[str, str], dispatch: bool = True
) -> ImportBatch:
    """Fix the mapping (and save it for the source), then queue the run (unless the caller
    runs it itself, as the command line does)."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != ImportBatch.Status.UPLOADED:
        raise Conflict(_("This import has already started."), {"status": batch.status})
    headers, _rows = batch_table(batch)
    check_mapping(mapping, headers)
    batch.mapping = mapping
    batch.status = ImportBatch.Status.QUEUED
    batch.save(update_fields=["mapping", "status"])
    ImportSource.objects.filter(pk=batch.source_id).update(
        mapping=mapping, updated_at=timezone.now()
    )
    audit_write(
        actor=actor,
        verb="import_start",
        obj=batch,
        crisis=batch.crisis,
        changes={"mapping": [None, mapping]},
    )
    if dispatch:
        from aman.registry.tasks import import_run

        transaction.on_commit(lambda: import_run.dispatch(batch.pk))
    return batch


def batch_run(batch_id: int) -> ImportBatch:
    """Import every row of a queued batch; progress is saved as it goes."""
    batch = ImportBatch.objects.select_related(
        "crisis__home_country", "source", "country", "created_by"
    ).get(pk=batch_id)
    if batch.status not in (ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING):
        return batch
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING)
    try:
        headers, cells = batch_table(batch)
        mapping = dict(batch.mapping)
        rows = []
        lookups = Lookups()
        for i, row_cells in enumerate(cells):
            if i >= MAX_ROWS:
                raise ApplicationError(_("More than %(n)d rows; split the file.") % {"n": MAX_ROWS})
            rows.append(convert(i + 2, row_cells, headers, mapping, lookups))
        refuse_households(
            households([r for r in rows if not r.problems]), batch.crisis.home_country
        )
        ImportBatch.objects.filter(pk=batch.pk).update(total_rows=len(rows))
        counts = {"accepted": 0, "rejected": 0, "repeated": 0, "processed": 0}
        source = batch.source.name
        # Households are written in chunks: each chunk's households together, one INSERT
        # per table and one transaction (a refused household is kept as a rejected
        # intake record and leaves the others in place); progress shows after each chunk.
        payloads = list(household_payloads([r for r in rows if not r.problems], batch.country.code))
        for start in range(0, len(payloads), CHUNK):
            with transaction.atomic():
                _import_households(batch, mapping, source, payloads[start : start + CHUNK], counts)
            _progress(batch, counts)
        for row in rows:
            if row.problems:
                intake_reject(
                    crisis=batch.crisis,
                    channel=Channel.IMPORT,
                    payload=row.values,
                    problems=row.problems,
                    actor=batch.created_by,
                    source=source,
                    source_ref=row.ref,
                    batch=batch,
                    row_number=row.number,
                )
                counts["rejected"] += 1
                counts["processed"] += 1
        _progress(batch, counts)
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportBatch.Status.DONE, finished_at=timezone.now(), content=""
        )
    except Exception as exc:
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportBatch.Status.FAILED,
            error=str(getattr(exc, "message", exc))[:2000],
            finished_at=timezone.now(),
        )
        raise
    batch.refresh_from_db()
    audit_write(
        actor=batch.created_by,
        verb="import_finish",
        obj=batch,
        crisis=batch.crisis,
        changes={
            "accepted": [None, batch.accepted_rows],
            "rejected": [None, batch.rejected_rows],
            "repeated": [None, batch.repeated_rows],
        },
    )
    return batch


def _import_households(
    batch: ImportBatch,
    mapping: dict[str, str],
    source: str,
    households: list[tuple[str, list[Row], dict[str, Any]]],
    counts: dict[str, int],
) -> None:
    """One chunk of households, registered together (one INSERT per table)."""
    submissions = []
    for key, members, payload in households:
        # A household is recognised when the list comes again by its source, its own
        # reference (its first row's, else its household value) and its content — not by
        # its row number, so that a re-sorted list creates nothing new.
        ref = members[0].ref or (key if members[0].group else "")
        fingerprint = hashlib.sha256(
            json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()[:32]
        submissions.append(
            Submission(
                payload=payload,
                channel=Channel.IMPORT,
                actor=batch.created_by,
                idempotency_key=f"{source}:{ref}:{fingerprint}"[:200],
                source=source,
                source_ref=ref or key,
                batch=batch,
                row_number=members[0].number,
                member_refs=[
                    [m.ref or ref or key, m.number, *([m.tour_code] if m.tour_code else [])]
                    for m in members
                ],
            )
        )
    outcomes = registrations_submit(crisis=batch.crisis, submissions=submissions)
    for (_key, members, _payload), outcome in zip(households, outcomes, strict=True):
        if outcome.problems:
            counts["rejected"] += len(members)
        else:
            counts["repeated" if outcome.repeated else "accepted"] += len(members)
        counts["processed"] += len(members)


def _progress(batch: ImportBatch, counts: dict[str, int]) -> None:
    ImportBatch.objects.filter(pk=batch.pk).update(
        processed_rows=counts["processed"],
        accepted_rows=counts["accepted"],
        rejected_rows=counts["rejected"],
        repeated_rows=counts["repeated"],
    )


def rejected_csv(batch: ImportBatch) -> str:
    """The rejected rows of a batch, one line per row of the list: its row number, its
    reasons, then its cells under the list's own column names, so that the file can be
    corrected and sent again. (A household refused by the registration itself — rows are
    checked before, so hardly ever — gives a line per member, the fields as submitted.)"""
    lines: list[tuple[int, str, dict[str, Any]]] = []
    for record in batch.records.filter(outcome=IntakeRecord.Outcome.REJECTED).order_by(
        "row_number", "id"
    ):
        reasons = record.rejection_reasons or {}
        payload: dict[str, Any] = record.payload if isinstance(record.payload, dict) else {}
        members = payload.get("members")
        if not isinstance(members, list):
            text = "; ".join(f"{k}: {v}" for k, v in reasons.items())
            lines.append((record.row_number or 0, text, payload))
            continue
        refs = record.member_refs or []
        for n, member in enumerate(members):
            own = {k: v for k, v in reasons.items() if k.startswith(f"members.{n}.")}
            shared = {k: v for k, v in reasons.items() if not k.startswith("members.")}
            text = "; ".join(f"{k}: {v}" for k, v in {**own, **shared}.items())
            number = refs[n][1] if n < len(refs) else record.row_number or 0
            cells = _member_cells(member, dict(batch.mapping), payload.get("location"))
            lines.append((number or 0, text, cells))
    columns: dict[str, None] = dict.fromkeys(batch.columns or batch.mapping.values())
    for _number, _text, cells in lines:
        columns.update(dict.fromkeys(str(c) for c in cells))
    out = io.StringIO()
    writer = csv.writer(out)
    # Every cell but the row number comes from the list or quotes it (`formula_safe`).
    writer.writerow(["row", "reasons", *(formula_safe(c) for c in columns)])
    for number, text, cells in sorted(lines, key=lambda line: line[0]):
        writer.writerow(
            [
                number or "",
                formula_safe(text),
                *(formula_safe(str(cells.get(c, ""))) for c in columns),
            ]
        )
    return out.getvalue()


def _member_cells(member: Any, mapping: dict[str, str], location: Any) -> dict[str, Any]:
    """A submitted member's fields under the list's column names (the mapping's)."""
    if not isinstance(member, dict):
        return {}
    documents = member.get("documents") or [{}]
    fields = {
        **{k: v for k, v in member.items() if isinstance(v, str)},
        **(location if isinstance(location, dict) else {}),
        "full_name": " ".join(
            member.get(k, "") for k in ("surname", "given_names", "patronymic") if member.get(k)
        ),
        "nationality": ",".join(member.get("nationalities") or []),
        "phone": ",".join(member.get("phones") or []),
        "passport": documents[0].get("number", ""),
        "passport_expiry": documents[0].get("expiry_date", ""),
    }
    return {header: fields.get(target, "") for target, header in mapping.items()}
