"""Manifests of a leg: who holds a seat on it, as the carrier, the charter broker and the
transit state's border service want the list.

One set of rows (`manifest_build`), four renderings: CSV, XLSX, PDF (WeasyPrint) and UN/EDIFACT
PAXLST D:05B (pydifact), the message airlines send as advance passenger information.
Names are the passport's Latin: a document's `surname_latin`/`given_names_latin` when it has
them, else the person's — never transliterated again from Cyrillic here.

Every export is audited (`manifest_export`). The rows are read in three queries whatever the
number of passengers (bookings with their people and households, their documents, the
country codes).

CSV: UTF-8 with a byte-order mark, comma-separated, CRLF line ends (RFC 4180). Excel opens a
UTF-8 file without a BOM as the machine's ANSI code page, and the carriers' import tools we
know (and every CSV library) skip the BOM. The header row holds fixed English column names
(never translated) so that a carrier's system maps them once.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from anyascii import anyascii
from django.db.models import Prefetch, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from aman.core.audit import audit_read
from aman.core.cells import formula_safe
from aman.core.errors import ApplicationError
from aman.core.models import User
from aman.geo.models import Country, Place
from aman.registry.latin import passport_latin
from aman.registry.models import Document, Person
from aman.transport.models import HOLDS_SEAT, Booking, BookingStatus, Leg
from aman.transport.pdf import html_to_pdf

# The columns of the CSV and XLSX files, in order (documented in docs/transport.md).
COLUMNS = [
    "surname",
    "given_names",
    "sex",
    "birth_date",
    "nationality",
    "document_type",
    "document_number",
    "issuing_state",
    "document_expiry",
    "seat",
    "status",
    "reference_code",
    "household",
]

# Document kinds as ICAO 9303 / PAXLST (code list 1001, IATA) name them: P passport,
# I identity card, F an approved non-standard travel document (a certificate of return).
DOCUMENT_CODES: dict[str, str] = {
    Document.Kind.PASSPORT: "P",
    Document.Kind.ID_CARD: "I",
    Document.Kind.RETURN_CERTIFICATE: "F",
    Document.Kind.OTHER: "F",
}
# Which document a manifest shows when a person has several: a passport first.
_DOCUMENT_RANK: dict[str, int] = {
    Document.Kind.PASSPORT: 0,
    Document.Kind.RETURN_CERTIFICATE: 1,
    Document.Kind.ID_CARD: 2,
    Document.Kind.OTHER: 3,
}


@dataclass(frozen=True)
class ManifestRow:
    surname: str
    given_names: str
    sex: str
    birth_date: date | None
    nationality: str
    document_type: str
    document_number: str
    issuing_state: str
    document_expiry: date | None
    seat: str
    status: str
    reference_code: str
    household: int | None
    booking_id: int = 0
    person_id: int = 0
    language: str = ""

    def values(self) -> list[object]:
        return [getattr(self, c) for c in COLUMNS]


@dataclass
class Manifest:
    leg: Leg
    rows: list[ManifestRow]
    generated_at: datetime = field(default_factory=timezone.now)

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def counts(self) -> list[tuple[str, int]]:
        """(status label, passengers) for every status on the manifest, in journey order."""
        by_status = Counter(r.status for r in self.rows)
        return [(str(BookingStatus(s).label), by_status[s]) for s in HOLDS_SEAT if by_status[s]]


def _document(person: Person) -> Document | None:
    docs = list(person.documents.all())  # prefetched
    if not docs:
        return None
    return min(
        docs,
        key=lambda d: (
            _DOCUMENT_RANK.get(d.kind, 9),
            -(d.expiry_date.toordinal() if d.expiry_date else 0),
            -d.pk,
        ),
    )


def manifest_rows(bookings: QuerySet[Booking]) -> list[ManifestRow]:
    """The passengers among `bookings` (those holding a seat), by passport surname."""
    qs = (
        bookings.filter(status__in=HOLDS_SEAT)
        .select_related("person", "household")
        .prefetch_related(Prefetch("person__documents", queryset=Document.objects.order_by("id")))
        .order_by()
    )
    alpha3 = dict(Country.objects.values_list("code", "code3"))
    rows = []
    for booking in qs:
        person = booking.person
        doc = _document(person)
        surname = (doc.surname_latin if doc else "") or person.surname_latin
        given = (doc.given_names_latin if doc else "") or person.given_names_latin
        if not surname and not given:
            # Only for a record that somehow has no passport Latin at all.
            surname, given = (
                passport_latin(person.surname),
                passport_latin(person.given_names),
            )
        nationality = next((alpha3[c] for c in person.nationalities if c in alpha3), "")
        if not nationality and doc is not None and doc.kind == Document.Kind.PASSPORT:
            nationality = doc.issuing_state  # a passport's holder is its state's national
        rows.append(
            ManifestRow(
                surname=surname,
                given_names=given,
                sex=person.sex,
                birth_date=person.birth_date,
                nationality=nationality,
                document_type=DOCUMENT_CODES.get(doc.kind, "F") if doc else "",
                document_number=doc.number if doc else "",
                issuing_state=doc.issuing_state if doc else "",
                document_expiry=doc.expiry_date if doc else None,
                seat=booking.seat,
                status=booking.status,
                reference_code=person.reference_code_display,
                household=booking.household_id,
                booking_id=booking.pk,
                person_id=person.pk,
                language=person.language,
            )
        )
    rows.sort(key=lambda r: (r.surname, r.given_names, r.booking_id))
    return rows


def manifest_build(leg: Leg, bookings: QuerySet[Booking] | None = None) -> Manifest:
    """The manifest of `leg`; `bookings` is what the caller may read (by default all)."""
    if bookings is None:
        bookings = Booking.objects.all()
    return Manifest(leg=leg, rows=manifest_rows(bookings.filter(leg=leg)))


# --- CSV and XLSX -----------------------------------------------------------------------------


def cell_text(value: object) -> str:
    """A cell's text; text a spreadsheet would run as a formula is quoted (`core.cells`:
    names and seats come from people and operators)."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return formula_safe(str(value))


def render_csv(manifest: Manifest) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in manifest.rows:
        writer.writerow([cell_text(v) for v in row.values()])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def render_xlsx(manifest: Manifest) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook(write_only=False)
    sheet = book.active
    assert sheet is not None
    sheet.title = "Manifest"
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in manifest.rows:
        sheet.append(
            [v if isinstance(v, date | int) or v is None else cell_text(v) for v in row.values()]
        )
    for column in ("D", "I"):  # the dates
        for cell in sheet[column][1:]:
            cell.number_format = "yyyy-mm-dd"
    widths = [20, 24, 5, 12, 11, 13, 16, 12, 15, 6, 11, 15, 10]
    for i, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + i)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    leg = manifest.leg
    about = book.create_sheet("Leg")
    for key, value in _leg_facts(manifest):
        about.append([key, value])
    about.column_dimensions["A"].width = 18
    about.column_dimensions["B"].width = 40
    out = io.BytesIO()
    book.properties.title = f"Manifest {leg.number or leg.pk}"
    book.save(out)
    return out.getvalue()


def _leg_facts(manifest: Manifest) -> list[tuple[str, str]]:
    leg = manifest.leg
    return [
        ("leg", str(leg.pk)),
        ("carrier", leg.carrier),
        ("number", leg.number),
        ("mode", leg.mode),
        ("from", place_code(leg.origin) + " " + leg.origin.name),
        ("to", place_code(leg.destination) + " " + leg.destination.name),
        ("departure", local_time(leg.departure_planned, leg.origin).isoformat(timespec="minutes")),
        (
            "arrival",
            local_time(leg.arrival_planned, leg.destination).isoformat(timespec="minutes")
            if leg.arrival_planned
            else "",
        ),
        ("passengers", str(manifest.count)),
        ("generated", manifest.generated_at.isoformat(timespec="seconds")),
    ]


# --- PDF ----------------------------------------------------------------------------------


def render_pdf(manifest: Manifest) -> bytes:
    return html_to_pdf(render_html(manifest))


def _text_table(manifest: Manifest) -> tuple[str, list[str], str]:
    """The passenger table as lines of fixed-width text: the header, one line per passenger,
    and the font size (pt) that fits the widest line on a landscape A4 page.

    One text box per passenger instead of one per cell: WeasyPrint lays out 300 passengers in
    about a second this way, against 5-10 s for a table of 14 cells a row. The names are
    passport Latin (ASCII), so the columns of a monospaced font align exactly."""
    statuses = dict(BookingStatus.choices)

    def day(value: date | None) -> str:
        return f"{value:%d.%m.%Y}" if value else ""

    header = [
        "#",
        _("Surname"),
        _("Given names"),
        _("Sex"),
        _("Birth date"),
        _("Nat."),
        _("Doc."),
        _("Document number"),
        _("Issued by"),
        _("Expires"),
        _("Seat"),
        _("Status"),
        _("Reference"),
        _("Household"),
    ]
    table = [
        [
            str(n),
            r.surname,
            r.given_names,
            r.sex,
            day(r.birth_date),
            r.nationality,
            r.document_type,
            r.document_number,
            r.issuing_state,
            day(r.document_expiry),
            r.seat,
            str(statuses.get(r.status, r.status)),
            r.reference_code,
            f"H{r.household}" if r.household else "",
        ]
        for n, r in enumerate(manifest.rows, 1)
    ]
    widths = [max(len(str(c)) for c in column) for column in zip(header, *table, strict=True)]

    def line(cells: list[str]) -> str:
        first = str(cells[0]).rjust(widths[0])
        rest = (str(c).ljust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    total = sum(widths) + 2 * (len(widths) - 1)
    # 277 mm of line (785 pt); a DejaVu Sans Mono character is 0.602 em wide.
    size = max(5.0, min(8.5, 785 / (total * 0.602)))
    return line(header), [line(cells) for cells in table], f"{size:.2f}"  # not localised


def render_html(manifest: Manifest) -> str:
    leg = manifest.leg
    header, lines, size = _text_table(manifest)
    return render_to_string(
        "transport/manifest_pdf.html",
        {
            "manifest": manifest,
            "leg": leg,
            "departure": local_time(leg.departure_planned, leg.origin),
            "arrival": local_time(leg.arrival_planned, leg.destination)
            if leg.arrival_planned
            else None,
            "header": header,
            "lines": lines,
            "font_size": size,
        },
    )


# --- UN/EDIFACT PAXLST ----------------------------------------------------------------------

SENDER = "AMAN"
# UNOA (syntax level A): upper-case letters, digits, space and these; the separators
# ' + : ? are allowed in data and escaped by the serializer with the release character.
_UNOA = re.compile(r"[^A-Z0-9 .,\-()/='+:?!\"%&*;<>]")
_SPACES = re.compile(r"\s+")


def unoa(text: str) -> str:
    """`text` within EDIFACT character level A: ASCII upper case, anything else a space."""
    return _SPACES.sub(" ", _UNOA.sub(" ", anyascii(text).upper())).strip()


def place_code(place: Place) -> str:
    return place.iata or place.icao or place.code


def _tz(place: Place) -> tzinfo:
    return place.zone


def local_time(moment: datetime, place: Place) -> datetime:
    """A time as the place's clock shows it (local time at the airport or crossing)."""
    return timezone.localtime(moment, _tz(place))


def entered_state(leg: Leg) -> Country:
    """The state the leg takes its passengers into: for a leg to a border crossing the
    crossing's entry state (a crossing's own `country` is the state left behind), else the
    destination's country."""
    destination = leg.destination
    if destination.kind == Place.Kind.CROSSING and destination.entry_country_id:
        assert destination.entry_country is not None
        return destination.entry_country
    return destination.country


def paxlst_recipient_default(leg: Leg) -> str:
    """Who a PAXLST goes to unless told otherwise: the alpha-3 code of the state entered."""
    return unoa(entered_state(leg).code3) or "ZZ"


_RECIPIENT = re.compile(r"^[A-Z0-9][A-Z0-9./-]{0,34}$")


def paxlst_recipient(value: str) -> str:
    """A PAXLST recipient as the UNB header carries it (the border service's identifier, often
    its state's alpha-3 code: AZE, UZB, USCSAPIS): 1 to 35 letters, digits, dots, hyphens or
    slashes, upper-cased. An empty value is the default (`paxlst_recipient_default`)."""
    text = (value or "").strip().upper()
    if text and not _RECIPIENT.fullmatch(text):
        raise ApplicationError(
            _(
                "The PAXLST recipient must be 1 to 35 letters or digits (dots, hyphens and "
                "slashes allowed), such as the receiving state's alpha-3 code (AZE)."
            ),
            {"recipient": [value[:40]]},
        )
    return text


def _carrier_code(leg: Leg) -> str:
    """The airline designator in a flight number such as `KC 7001`, else nothing."""
    match = re.match(r"^\s*([A-Z0-9]{2})\s*\d", leg.number.upper())
    return match.group(1) if match else ""


# NAD's party name (C080) holds five names: the surname and four given names.
PAXLST_GIVEN_NAMES = 4


def _given_names(text: str) -> list[str]:
    """The given names as NAD carries them, one a component: up to four; a fifth and later
    ones share the fourth component, so that no name is dropped."""
    names = unoa(text).split()
    if len(names) > PAXLST_GIVEN_NAMES:
        last = PAXLST_GIVEN_NAMES - 1
        names = [*names[:last], " ".join(names[last:])]
    return names


def render_paxlst(
    manifest: Manifest,
    *,
    recipient: str = "",
    reference: str | None = None,
    contact: str = "",
) -> bytes:
    """The manifest as a UN/EDIFACT PAXLST D:05B interchange (syntax UNOA, version 4), one
    message with every passenger, as airlines send advance passenger information.

    No functional group (UNG/UNE): it is optional in syntax version 4, and pydifact, which
    builds and re-reads the interchange, does not support groups."""
    from pydifact.control import Characters
    from pydifact.segmentcollection import Interchange, Message
    from pydifact.segments import Segment

    leg = manifest.leg
    now = timezone.localtime(manifest.generated_at, timezone.get_current_timezone())
    ref = reference or f"{leg.pk % 10**6:06d}{now:%H%M%S}"[:14]
    chars = Characters(decimal_point=".")
    to = paxlst_recipient(recipient) or paxlst_recipient_default(leg)
    interchange = Interchange(
        sender=[SENDER, "ZZ"],
        recipient=[to, "ZZ"],
        control_reference=ref,
        syntax_identifier=("UNOA", 4),
        timestamp=now.replace(tzinfo=None),
        characters=chars,
        extra_header_elements=["", "APIS"],
    )
    interchange.has_una_segment = True
    flight = unoa(leg.number).replace(" ", "") or f"LEG{leg.pk}"
    message = Message("1", ["PAXLST", "D", "05B", "UN", "IATA"], characters=chars)
    message.extra_header_elements = [
        f"{flight}{local_time(leg.departure_planned, leg.origin):%y%m%d}"
    ]
    add = message.add_segment
    add(Segment("BGM", "745"))  # passenger list
    add(Segment("NAD", "MS", "", "", unoa(contact or leg.contact or "AMAN CRISIS CENTRE")))
    add(Segment("TDT", "20", flight, "", "", _carrier_code(leg)))
    add(Segment("LOC", "125", unoa(place_code(leg.origin))))
    add(
        Segment(
            "DTM", ["189", f"{local_time(leg.departure_planned, leg.origin):%y%m%d%H%M}", "201"]
        )
    )
    if leg.destination.kind == Place.Kind.CROSSING and leg.destination.entry_country_id:
        # A border crossing: the state entered there, as the related location (not named
        # when the reference data does not say which state that is).
        add(Segment("LOC", "87", unoa(place_code(leg.destination)), unoa(entered_state(leg).code3)))
    else:
        add(Segment("LOC", "87", unoa(place_code(leg.destination))))
    if leg.arrival_planned:
        add(
            Segment(
                "DTM",
                ["232", f"{local_time(leg.arrival_planned, leg.destination):%y%m%d%H%M}", "201"],
            )
        )
    origin, destination = unoa(place_code(leg.origin)), unoa(place_code(leg.destination))
    for row in manifest.rows:
        names = [unoa(row.surname), *_given_names(row.given_names)]
        add(Segment("NAD", "FL", "", "", [n for n in names if n] or ["UNKNOWN"]))
        add(Segment("ATT", "2", "", {"M": "M", "F": "F"}.get(row.sex, "U")))
        if row.birth_date:
            add(Segment("DTM", ["329", f"{row.birth_date:%y%m%d}"]))
        add(Segment("LOC", "178", origin))
        add(Segment("LOC", "179", destination))
        if row.nationality:
            add(Segment("NAT", "2", unoa(row.nationality)))
        add(Segment("RFF", ["AVF", unoa(row.reference_code)]))
        if row.document_number:
            add(Segment("DOC", [row.document_type or "P", "110", "111"], unoa(row.document_number)))
            if row.document_expiry:
                add(Segment("DTM", ["36", f"{row.document_expiry:%y%m%d}"]))
            if row.issuing_state:
                add(Segment("LOC", "91", unoa(row.issuing_state)))
    add(Segment("CNT", ["42", str(manifest.count)]))
    interchange.add_message(message)
    return interchange.serialize(break_lines=True).encode("ascii")


# --- the export ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestFile:
    content: bytes
    content_type: str
    filename: str
    count: int


FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "pdf": ("application/pdf", "pdf"),
    "paxlst": ("application/EDIFACT", "edi"),
}
_RENDER = {
    "csv": render_csv,
    "xlsx": render_xlsx,
    "pdf": render_pdf,
    "paxlst": render_paxlst,
}


def manifest_filename(leg: Leg, fmt: str) -> str:
    label = re.sub(r"[^A-Za-z0-9]+", "", leg.number) or f"leg{leg.pk}"
    return f"manifest-{label}-{leg.departure_local:%Y%m%d}.{FORMATS[fmt][1]}"


def manifest_export(
    *,
    actor: User | None,
    leg: Leg,
    fmt: str,
    bookings: QuerySet[Booking] | None = None,
    recipient: str = "",
) -> ManifestFile:
    """The leg's manifest in `fmt` (csv, xlsx, pdf, paxlst), audited as an export. A PAXLST
    goes to `recipient` (see `paxlst_recipient`; by default the state the leg enters)."""
    if fmt not in FORMATS:
        raise ApplicationError(
            _("Unknown manifest format %(format)s: use %(formats)s.")
            % {"format": fmt, "formats": ", ".join(FORMATS)},
            {"format": [", ".join(FORMATS)]},
        )
    details: dict[str, object] = {"format": fmt}
    if fmt == "paxlst":
        to = paxlst_recipient(recipient) or paxlst_recipient_default(leg)
        details["recipient"] = to
    elif recipient.strip():
        raise ApplicationError(
            _("A recipient is given for a PAXLST manifest only."), {"recipient": [recipient[:40]]}
        )
    manifest = manifest_build(leg, bookings)
    content = render_paxlst(manifest, recipient=to) if fmt == "paxlst" else _RENDER[fmt](manifest)
    details["count"] = manifest.count
    audit_read(
        actor=actor,
        verb="manifest_export",
        obj=leg,
        crisis=leg.crisis,
        export=True,
        details=details,
    )
    return ManifestFile(
        content=content,
        content_type=FORMATS[fmt][0],
        filename=manifest_filename(leg, fmt),
        count=manifest.count,
    )
