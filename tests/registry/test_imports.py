"""Lists from tour operators and embassies: the command line and the operator pages."""

from __future__ import annotations

import csv
import io
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from openpyxl import Workbook

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.registry.models import ImportBatch, ImportSource, IntakeRecord, Person
from tests.conftest import World
from tests.factories import MissionFactory, UserFactory, country

TOUR_LIST = """ФИО;Дата рождения;Пол;Паспорт;Телефон;Код тура;Отель
Ахметов Ерлан Серікұлы;12.03.1961;М;N11112222;8 701 222 33 44;KT-1001;Dubai Marina Hotel
Ахметова Сәуле;01.05.1965;Ж;N11113333;;KT-1001;Dubai Marina Hotel
Ким Ольга;31.02.1990;Ж;N22224444;+77015550000;KT-1002;Hilton
Бекова;05.06.1988;Ж;N33335555;;KT-1003;Hilton
Иванов Сергей;1979-11-30;M;N44446666;+7 701 000 11 22;KT-1004;Atlantis
"""


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def tour_file(tmp_path: Path) -> Path:
    path = tmp_path / "kompas-2026-03-02.csv"
    path.write_text(TOUR_LIST, encoding="utf-8")
    return path


def test_cli_imports_a_tour_operators_list(world: World, tour_file: Path) -> None:
    out = run(
        "import",
        str(tour_file),
        "--crisis",
        world.crisis.code,
        "--source",
        "Kompas Tour",
        "--country",
        "IR",
    )
    assert "3 accepted, 2 rejected, 0 already imported, of 5 rows" in out
    rejected_path = Path(str(tour_file) + ".rejected.csv")
    assert f"Rejected rows with their reasons: {rejected_path}" in out
    rows = list(csv.DictReader(rejected_path.open(encoding="utf-8")))
    assert [r["row"] for r in rows] == ["4", "5"]
    assert "birth_date" in rows[0]["reasons"] and "full_name" in rows[1]["reasons"]
    erlan = Person.objects.get(given_names="Ерлан")
    assert (erlan.surname, erlan.patronymic, erlan.sex) == ("Ахметов", "Серікұлы", "M")
    assert erlan.household.members.count() == 1, "a tour code does not make a household"
    assert erlan.phones.get().number == "+77012223344"
    record = erlan.intake_records.get()
    assert (record.channel, record.source, record.source_ref) == ("import", "Kompas Tour", "row:2")
    assert record.member_refs == [["row:2", 2, "KT-1001"]], "the tour code is kept"
    mapping = ImportSource.objects.get(name="Kompas Tour").mapping
    assert mapping["tour_code"] == "Код тура" and "source_ref" not in mapping


def test_the_rejected_rows_written_to_a_file_are_an_audited_export(
    world: World, tour_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "rejected" / "kompas.csv"
    out.parent.mkdir()
    args = ("import", str(tour_file), "--crisis", world.crisis.code, "--source", "Kompas Tour")
    run(*args, "--country", "IR", "--rejected-out", str(out))
    batch = ImportBatch.objects.get()
    [entry] = AuditEntry.objects.filter(verb="import_rejected_file")
    assert (entry.action, entry.via, entry.actor) == ("export", "cli", None)
    assert (entry.object_type, entry.object_id) == ("registry.importbatch", str(batch.pk))
    assert entry.crisis == world.crisis
    assert entry.changes == {"path": str(out.resolve()), "rows": 2}
    assert "Ким" not in str(entry.changes), "which file, never what it holds"
    # The same file again: its rejected rows are written again, and audited again.
    run(*args, "--country", "IR")
    again = AuditEntry.objects.filter(verb="import_rejected_file").latest("id")
    assert again.pk != entry.pk
    assert again.changes["path"] == str(Path(str(tour_file) + ".rejected.csv").resolve())
    # A list without rejected rows writes no file, and no export is recorded.
    clean = tmp_path / "clean.csv"
    clean.write_text(TOUR_LIST.splitlines()[0] + "\n" + TOUR_LIST.splitlines()[1] + "\n", "utf-8")
    run("import", str(clean), "--crisis", world.crisis.code, "--source", "B", "--country", "IR")
    assert AuditEntry.objects.filter(verb="import_rejected_file").count() == 2
    assert not Path(str(clean) + ".rejected.csv").exists()


def test_importing_the_same_file_twice_creates_nothing_new(world: World, tour_file: Path) -> None:
    args = (
        "import",
        str(tour_file),
        "--crisis",
        str(world.crisis.pk),
        "--source",
        "Kompas Tour",
        "--country",
        "IR",
    )
    run(*args)
    people, records = Person.objects.count(), IntakeRecord.objects.count()
    out = run(*args)
    assert "already imported" in out and "Nothing new" in out
    assert (Person.objects.count(), IntakeRecord.objects.count()) == (people, records)
    # The same rows in another file (a re-sent list with one more person): only the new one.
    tour_file.write_text(
        TOUR_LIST + "Омаров Данияр;02.02.2002;М;N55557777;;KT-1005;Atlantis\n", encoding="utf-8"
    )
    out = run(*args)
    assert "1 accepted, 2 rejected, 3 already imported, of 6 rows" in out
    assert Person.objects.count() == people + 1


def test_an_xlsx_list_with_an_explicit_mapping(world: World, tmp_path: Path) -> None:
    from datetime import date

    book = Workbook()
    sheet = book.active
    sheet.append(["Surname", "Name", "DOB", "Passport No", "Booking"])
    sheet.append(["Nurlanov", "Daniyar", date(1985, 7, 7), "N99990000", "B-1"])
    sheet.append(["Nurlanova", "Madina", date(1987, 8, 8), "N99990001", "B-1"])
    path = tmp_path / "embassy.xlsx"
    book.save(path)
    mapping = (
        '{"surname": "Surname", "given_names": "Name", "birth_date": "DOB",'
        ' "passport": "Passport No", "household": "Booking"}'
    )
    out = run(
        "import",
        str(path),
        "--crisis",
        world.crisis.code,
        "--source",
        "Embassy Baku list",
        "--country",
        "IR",
        "--mapping",
        mapping,
    )
    assert "2 accepted, 0 rejected" in out
    daniyar = Person.objects.get(given_names="Daniyar")
    assert daniyar.birth_date == date(1985, 7, 7) and daniyar.household.members.count() == 2


def test_each_member_of_an_imported_household_keeps_their_own_reference(
    world: World, tmp_path: Path
) -> None:
    """Rows grouped into one household by a booking column keep each row's own reference
    (a ticket number) and row: the cluster export gives each person theirs, so that a
    list's own identifiers can be checked against the clusters."""
    path = tmp_path / "airline.csv"
    path.write_text(
        "Surname;Name;DOB;Booking;Ticket\n"
        "Nurlanov;Daniyar;1985-07-07;B-1;TK-501\n"
        "Nurlanova;Madina;1987-08-08;B-1;TK-502\n"
        "Serikov;Aibek;1990-01-01;B-2;TK-503\n",
        encoding="utf-8",
    )
    mapping = (
        '{"surname": "Surname", "given_names": "Name", "birth_date": "DOB",'
        ' "household": "Booking", "source_ref": "Ticket"}'
    )
    out = run(
        "import", str(path), "--crisis", world.crisis.code, "--source", "Air Astana",
        "--country", "IR", "--mapping", mapping,
    )  # fmt: skip
    assert "3 accepted, 0 rejected" in out
    record = Person.objects.get(given_names="Madina").intake_records.get()
    assert record.member_refs == [["TK-501", 2], ["TK-502", 3]]
    export = tmp_path / "clusters.csv"
    call_command(
        "dedup", "export", "--crisis", world.crisis.code, "--out", str(export), stdout=StringIO()
    )
    rows = list(csv.DictReader(export.open(encoding="utf-8")))
    codes = dict(Person.objects.values_list("given_names", "reference_code"))
    mine = {r["reference_code"]: (r["source_ref"], r["row_number"]) for r in rows}
    assert mine[codes["Daniyar"]] == ("TK-501", "2")
    assert mine[codes["Madina"]] == ("TK-502", "3")
    assert mine[codes["Aibek"]] == ("TK-503", "4")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mapping", '{"surname": "Nope"}'], "do not exist"),
        (["--mapping", "{not json"], "not JSON"),
        (["--country", "QQ"], "Unknown country code"),
        (["--country", "GE"], r"GE is outside this crisis: .* affected countries \(IQ, IR\)"),
        (["--country", "KZ"], r"KZ is outside this crisis"),
    ],
)
def test_cli_errors_are_clear(world: World, tour_file: Path, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run(
            "import",
            str(tour_file),
            "--crisis",
            world.crisis.code,
            "--source",
            "X",
            "--country",
            "IR",
            *args,
        )


def _countries(source: str) -> set[str]:
    people = Person.objects.filter(intake_records__source=source)
    return set(people.values_list("country__code", flat=True))


def test_a_list_is_imported_into_any_of_the_crisiss_countries(world: World, tmp_path: Path) -> None:
    """As on every other channel (`country_allowed`): not only the affected countries but
    where the crisis's crossings lead (Azerbaijan, from Iran) and its missions' countries."""

    def imports(code: str, n: int) -> str:
        path = tmp_path / f"list-{code}.csv"
        path.write_text(TOUR_LIST + f"Омаров Данияр;02.02.1955;М;N5555{n}777;;;\n", "utf-8")
        return run(
            "import",
            str(path),
            "--crisis",
            world.crisis.code,
            "--source",
            f"Embassy list {code}",
            "--kind",
            "embassy",
            "--country",
            code.lower(),
        )

    out = imports("AZ", 1)  # the documented example: `--country AZ`
    assert "4 accepted, 2 rejected" in out
    assert ImportBatch.objects.get().country.code == "AZ"
    assert _countries("Embassy list AZ") == {"AZ"}
    with pytest.raises(CommandError, match="GE is outside this crisis"):
        imports("GE", 2)
    tbilisi = MissionFactory(name="Embassy in Tbilisi", country=country("GE"))
    world.crisis.missions.add(tbilisi)
    assert "4 accepted" in imports("GE", 3)
    assert _countries("Embassy list GE") == {"GE"}


def test_the_baku_consul_uploads_the_list_of_azerbaijan(world: World) -> None:
    baku = MissionFactory(name="Consulate in Baku", country=country("AZ"), area=[country("AZ")])
    world.crisis.missions.add(baku)
    consul = UserFactory(
        username="baku", role=Role.CONSUL, mission=baku, current_crisis=world.crisis
    )
    client = Client()
    client.force_login(consul)
    page = client.get("/people/imports/").content.decode()
    azerbaijan, iran = country("AZ").pk, country("IR").pk
    assert f'value="{azerbaijan}"' in page, "the consul's own area is offered"
    assert f'value="{iran}"' not in page, "not another mission's area"
    upload = SimpleUploadedFile("baku.csv", TOUR_LIST.encode("utf-8"), content_type="text/csv")
    response = client.post(
        "/people/imports/",
        {"file": upload, "source": "Embassy Baku list", "kind": "embassy", "country": azerbaijan},
    )
    batch = ImportBatch.objects.get()
    assert response["Location"] == f"/people/imports/{batch.pk}/"
    assert batch.country.code == "AZ"
    refused = SimpleUploadedFile("iran.csv", b"surname\nLi\n", content_type="text/csv")
    page = client.post(
        "/people/imports/",
        {"file": refused, "source": "X", "kind": "embassy", "country": iran},
    ).content.decode()
    assert "Select a valid choice" in page and ImportBatch.objects.count() == 1
    operator = world.client(Role.OPERATOR).get("/people/imports/").content.decode()
    home = country("KZ").pk
    assert f'value="{azerbaijan}"' in operator and f'value="{iran}"' in operator
    assert f'value="{home}"' not in operator, "never the home country"


def test_unmappable_columns_name_what_the_file_has(world: World, tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("col1,col2\na,b\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Columns in the file: col1, col2"):
        run(
            "import", str(path), "--crisis", world.crisis.code, "--source", "Odd", "--country", "IR"
        )


def test_the_operator_uploads_maps_previews_and_imports(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    client = world.client(Role.OPERATOR)
    upload = SimpleUploadedFile("list.csv", TOUR_LIST.encode("utf-8"), content_type="text/csv")
    response = client.post(
        "/people/imports/",
        {
            "file": upload,
            "source": "Kompas Tour",
            "kind": "tour_operator",
            "country": world.crisis.affected_countries.get(code="IR").pk,
        },
    )
    batch = ImportBatch.objects.get()
    assert response["Location"] == f"/people/imports/{batch.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "Ахметов" in page and "birth_date" in page  # the preview shows the 31 February row
    preview = AuditEntry.objects.get(verb="import_preview")
    assert preview.action == "read" and preview.object_id == str(batch.pk)
    mapping = {k: v for k, v in batch.mapping.items()}
    mapping_post = {**mapping, "start": "1"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/people/imports/{batch.pk}/", mapping_post)
    assert response.status_code == 302
    batch.refresh_from_db()
    assert (batch.status, batch.accepted_rows, batch.rejected_rows, batch.total_rows) == (
        "done",
        3,
        2,
        5,
    )
    assert batch.content == "", "the uploaded file is not kept once imported"
    page = client.get(f"/people/imports/{batch.pk}/").content.decode()
    assert "3 accepted, 2 rejected" in page
    download = client.get(f"/people/imports/{batch.pk}/rejected.csv")
    assert download["Content-Type"].startswith("text/csv")
    assert len(list(csv.reader(io.StringIO(download.content.decode())))) == 3
    assert AuditEntry.objects.filter(verb="import_rejected_download", action="export").exists()
    again = SimpleUploadedFile("list.csv", TOUR_LIST.encode("utf-8"), content_type="text/csv")
    page = client.post(
        "/people/imports/",
        {
            "file": again,
            "source": "Kompas Tour",
            "kind": "tour_operator",
            "country": world.crisis.affected_countries.get(code="IR").pk,
        },
    ).content.decode()
    assert "already imported" in page


def test_a_file_that_is_not_a_list_is_refused(world: World) -> None:
    client = world.client(Role.OPERATOR)
    upload = SimpleUploadedFile("photo.jpg", b"\xff\xd8\xff", content_type="image/jpeg")
    page = client.post(
        "/people/imports/",
        {
            "file": upload,
            "source": "X",
            "kind": "other",
            "country": world.crisis.affected_countries.get(code="IR").pk,
        },
    ).content.decode()
    assert "Send a CSV or XLSX file" in page
    assert not ImportBatch.objects.exists()


def test_a_consul_sees_only_the_lists_of_their_missions_countries(world: World) -> None:
    operator = world.client(Role.OPERATOR)
    ids = {}
    for code in ("IR", "IQ"):
        upload = SimpleUploadedFile(f"{code}.csv", f"{TOUR_LIST}\n#{code}".encode(), "text/csv")
        operator.post(
            "/people/imports/",
            {
                "file": upload,
                "source": f"List {code}",
                "kind": "embassy",
                "country": world.crisis.affected_countries.get(code=code).pk,
            },
        )
        ids[code] = ImportBatch.objects.get(source__name=f"List {code}").pk
    consul = world.client(Role.CONSUL)  # the Tehran mission: Iran only
    page = consul.get("/people/imports/").content.decode()
    assert f"/people/imports/{ids['IR']}/" in page
    assert f"/people/imports/{ids['IQ']}/" not in page
    assert consul.get(f"/people/imports/{ids['IQ']}/").status_code == 404
    assert consul.get(f"/people/imports/{ids['IQ']}/rejected.csv").status_code == 404
    assert consul.get(f"/people/imports/{ids['IR']}/").status_code == 200
    iraq = world.crisis.affected_countries.get(code="IQ").pk
    assert f'value="{iraq}"' not in page, "a consul cannot upload a list for another country"


def test_a_two_digit_birth_year_is_in_the_past(world: World, tmp_path: Path) -> None:
    path = tmp_path / "short-years.csv"
    path.write_text(
        "ФИО;Дата рождения;Паспорт;Срок действия\n"
        "Омаров Данияр;02.02.55;N55557777;01.06.31\n"
        "Омарова Дана;03.04.16;N55558888;01.06.31\n",
        encoding="utf-8",
    )
    out = run(
        "import", str(path), "--crisis", world.crisis.code, "--source", "Embassy", "--country", "IR"
    )
    assert "2 accepted, 0 rejected" in out
    daniyar, dana = (Person.objects.get(given_names=n) for n in ("Данияр", "Дана"))
    assert (daniyar.birth_date.year, dana.birth_date.year) == (1955, 2016)
    assert daniyar.documents.get().expiry_date.year == 2031, "an expiry date stays ahead"


def test_a_latin_name_column_in_another_script_rejects_the_row(
    world: World, tmp_path: Path
) -> None:
    path = tmp_path / "latin.csv"
    path.write_text(
        "ФИО;Паспорт;Фамилия латиницей;Имя латиницей\n"
        "Омаров Данияр;N55557777;OMAROV;DANIYAR\n"
        "Омарова Дана;N55558888;Омарова;DANA\n",
        encoding="utf-8",
    )
    out = run(
        "import", str(path), "--crisis", world.crisis.code, "--source", "Embassy", "--country", "IR"
    )
    assert "1 accepted, 1 rejected" in out
    text = Path(str(path) + ".rejected.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["row"] for r in rows] == ["3"] and "surname_latin" in rows[0]["reasons"]
    assert "Latin letters" in rows[0]["reasons"]
    daniyar = Person.objects.get(given_names="Данияр")
    assert daniyar.documents.get().surname_latin == "OMAROV"
    assert not Person.objects.filter(given_names="Дана").exists()


def test_an_upload_never_started_is_named_as_such_and_the_cli_finishes_it(
    world: World, tour_file: Path
) -> None:
    client = world.client(Role.OPERATOR)
    iran = world.crisis.affected_countries.get(code="IR").pk
    fields = {"source": "Kompas Tour", "kind": "tour_operator", "country": iran}
    client.post(
        "/people/imports/", {**fields, "file": SimpleUploadedFile("l.csv", TOUR_LIST.encode())}
    )
    batch = ImportBatch.objects.get()
    page = client.post(
        "/people/imports/", {**fields, "file": SimpleUploadedFile("l.csv", TOUR_LIST.encode())}
    ).content.decode()
    assert "waits for its column mapping" in page and "already imported" not in page
    out = run(
        "import", str(tour_file), "--crisis", world.crisis.code, "--source", "Kompas Tour",
        "--country", "IR",
    )  # fmt: skip
    assert f"Continuing import {batch.pk}" in out and "3 accepted, 2 rejected" in out
    assert ImportBatch.objects.count() == 1
