"""Legs from a CSV or XLSX list: a charter broker's schedule, a bus company's plan.

One row is one leg. Each row is validated by `leg_create` (the same rules as the page and
the API); a rejected row is kept with its values and reasons on the `LegImport`, and can be
downloaded. A row's `reference` (or, without one, its mode, number, places and departure)
becomes the leg's `source_ref`: importing the same list again creates nothing new.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import re
from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aman.core.audit import audit_write
from aman.core.errors import ApplicationError
from aman.core.models import Crisis, User
from aman.transport.models import Leg, LegImport
from aman.transport.services import leg_create

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024

# Column → (the names a list may give it, what it holds).
COLUMNS: dict[str, tuple[tuple[str, ...], Any]] = {
    "mode": (("mode", "type", "вид"), gettext_lazy("bus, charter, scheduled, ferry or train")),
    "origin": (
        ("from", "origin", "откуда"),
        gettext_lazy("airport code, crossing id or place id (reference data)"),
    ),
    "destination": (("to", "destination", "куда"), gettext_lazy("as for from")),
    "departure_planned": (
        ("departure", "departs", "departure_planned", "отправление"),
        gettext_lazy("YYYY-MM-DD HH:MM or DD.MM.YYYY HH:MM"),
    ),
    "arrival_planned": (("arrival", "arrives", "arrival_planned", "прибытие"), ""),
    "capacity": (("seats", "capacity", "места"), gettext_lazy("number of seats")),
    "carrier": (("carrier", "перевозчик"), ""),
    "number": (("number", "flight", "vehicle", "рейс"), ""),
    "contact": (("contact", "контакт"), ""),
    "cost": (("cost", "стоимость"), ""),
    "currency": (("currency", "валюта"), ""),
    "fare": (("fare", "тариф"), ""),
    "notes": (("notes", "примечание"), ""),
    "reference": (
        ("reference", "ref", "booking", "id"),
        gettext_lazy("the list's own id for the leg"),
    ),
}
_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})[ T]+(\d{1,2}):(\d{2})$")


def _rows(name: str, content: bytes) -> list[list[str]]:
    if name.lower().endswith((".xlsx", ".xlsm")):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:
            raise ApplicationError(_("Not a readable XLSX file.")) from exc
        if not book.worksheets:
            raise ApplicationError(_("The XLSX file has no sheet."))
        sheet = book.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(
                [
                    v.strftime("%Y-%m-%d %H:%M")
                    if isinstance(v, datetime)
                    else ("" if v is None else str(v))
                    for v in row
                ]
            )
        return rows
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1251", errors="replace")
    dialect: Any = csv.excel
    with contextlib.suppress(csv.Error):
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        return list(reader)
    except csv.Error as exc:
        raise ApplicationError(
            _(
                "Not a readable CSV file: line %(line)d cannot be read (a field too long, a "
                "stray quote or a NUL character)."
            )
            % {"line": reader.line_num},
            {"line": reader.line_num},
        ) from exc


def _header(row: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, raw in enumerate(row):
        name = raw.strip().lower().replace(" ", "_")
        for column, (aliases, _help) in COLUMNS.items():
            if name in aliases and column not in found:
                found[column] = index
    missing = [
        c for c in ("origin", "destination", "departure_planned", "capacity") if c not in found
    ]
    if missing:
        raise ApplicationError(
            _("The first row must name the columns; missing: %(columns)s.")
            % {"columns": ", ".join(COLUMNS[c][0][0] for c in missing)},
            {"missing": missing},
        )
    return found


def _when(value: str) -> str:
    match = _DOTTED.match(value.strip())
    if match:
        d, m, y, hh, mm = match.groups()
        return f"{y}-{int(m):02d}-{int(d):02d} {int(hh):02d}:{mm}"
    return value.strip()


def legs_import(*, actor: User | None, crisis: Crisis, name: str, content: bytes) -> LegImport:
    if len(content) > MAX_BYTES:
        raise ApplicationError(_("The file is larger than 5 MB."))
    rows = _rows(name, content)
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise ApplicationError(_("The file is empty."))
    columns = _header(rows[0])
    body = rows[1:]
    if len(body) > MAX_ROWS:
        raise ApplicationError(_("At most %(n)d legs per file.") % {"n": MAX_ROWS})
    batch = LegImport.objects.create(
        crisis=crisis,
        file_name=name[:255],
        file_sha256=hashlib.sha256(content).hexdigest(),
        total=len(body),
        created_by=actor,
    )
    rejected: list[dict[str, Any]] = []
    for number, row in enumerate(body, start=2):
        values = {c: (row[i].strip() if i < len(row) else "") for c, i in columns.items()}
        data: dict[str, Any] = {k: v for k, v in values.items() if k != "reference"}
        data["mode"] = (data.get("mode") or "bus").lower()
        for key in ("departure_planned", "arrival_planned"):
            if data.get(key):
                data[key] = _when(data[key])
        ref = values.get("reference") or "|".join(
            values.get(k, "")
            for k in ("mode", "number", "origin", "destination", "departure_planned")
        )
        ref = ref[:200]
        if Leg.objects.filter(crisis=crisis, source_ref=ref).exists():
            batch.repeated += 1
            continue
        try:
            with transaction.atomic():
                leg_create(
                    actor=actor, crisis=crisis, data=data, source=Leg.Source.IMPORT, source_ref=ref
                )
        except ApplicationError as exc:
            rejected.append(
                {
                    "row": number,
                    "values": values,
                    "reasons": exc.extra.get("errors") or {"": [exc.message]},
                }
            )
        else:
            batch.accepted += 1
    batch.rejected = len(rejected)
    batch.rejected_rows = rejected
    batch.save()
    audit_write(
        actor=actor,
        verb="legs_import",
        obj=batch,
        action="create",
        crisis=crisis,
        changes={
            "accepted": batch.accepted,
            "repeated": batch.repeated,
            "rejected": batch.rejected,
        },
    )
    return batch


def rejected_csv(batch: LegImport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", *COLUMNS, "reasons"])
    for item in batch.rejected_rows:
        reasons = "; ".join(
            f"{field}: {' '.join(msgs)}" if field else " ".join(msgs)
            for field, msgs in item["reasons"].items()
        )
        writer.writerow([item["row"], *(item["values"].get(c, "") for c in COLUMNS), reasons])
    return out.getvalue()


def rejected_csv_response(batch: LegImport) -> HttpResponse:
    response = HttpResponse(rejected_csv(batch), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rejected-legs-{batch.pk}.csv"'
    return response
