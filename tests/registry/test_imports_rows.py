"""Imports: what groups rows into households (a household or booking column, never a tour
code), how nationality and eligibility are read, and rejected rows that can be corrected and
sent again — through `aman import` and the import pages."""

from __future__ import annotations

import csv
import io
from datetime import date
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from aman.core.roles import Role
from aman.registry.identity.iin import make_iin
from aman.registry.models import ImportBatch, ImportSource, IntakeRecord, Person
from tests.conftest import World

pytestmark = pytest.mark.django_db


def run_import(world: World, path: Path, source: str = "Kompas Tour", *args: str) -> str:
    out = StringIO()
    call_command(
        "import", str(path), "--crisis", world.crisis.code, "--source", source,
        "--country", "IR", *args, stdout=out,
    )  # fmt: skip
    return out.getvalue()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_tour_code_never_makes_a_household(world: World, tmp_path: Path) -> None:
    tour = "".join(
        f"Турист{chr(0x430 + i)} Тест;01.01.19{60 + i};N{1000000 + i};KT-77\n" for i in range(22)
    )
    strangers = "Бекова Алия;02.02.1980;N2000001;KT-88\nОмаров Данияр;03.03.1981;N2000002;KT-88\n"
    path = write(tmp_path, "kt.csv", "ФИО;Дата рождения;Паспорт;Код тура\n" + tour + strangers)
    before = Person.objects.count()
    out = run_import(world, path)
    assert "24 accepted, 0 rejected" in out
    imported = Person.objects.filter(intake_records__batch__isnull=False)
    assert imported.count() == 24 and all(p.household.members.count() == 1 for p in imported)
    aliya, daniyar = (Person.objects.get(given_names=n) for n in ("Алия", "Данияр"))
    assert aliya.household != daniyar.household
    assert aliya.household.contact == aliya and daniyar.household.contact == daniyar
    record = daniyar.intake_records.get()
    assert record.member_refs == [["row:25", 25, "KT-88"]], "the tour code stays with each"
    assert ImportSource.objects.get(name="Kompas Tour").mapping["tour_code"] == "Код тура"

    # The same people in another order (and one more): nothing new but the new one.
    lines = (tour + strangers).splitlines()
    resent = "\n".join(["ФИО;Дата рождения;Паспорт;Код тура", *reversed(lines)])
    path = write(tmp_path, "kt-2.csv", resent + "\nНовый Турист;04.04.1984;N3000003;KT-88\n")
    out = run_import(world, path)
    assert "1 accepted, 0 rejected, 24 already imported, of 25 rows" in out
    assert Person.objects.count() == before + 25


def test_a_booking_column_groups_and_a_saved_tour_code_mapping_does_not(
    world: World, tmp_path: Path
) -> None:
    # A mapping saved when the tour code was taken as the rows' reference.
    ImportSource.objects.create(name="Kompas Tour", mapping={"source_ref": "Код тура"})
    path = write(
        tmp_path,
        "booked.csv",
        "ФИО;Дата рождения;Код тура;Бронь\n"
        "Ахметов Ерлан;12.03.1961;KT-1;B-1\n"
        "Ахметова Сәуле;01.05.1965;KT-1;B-1\n"
        "Ким Ольга;31.01.1990;KT-1;B-2\n",
    )
    out = run_import(world, path)
    assert "3 accepted, 0 rejected" in out
    erlan, olga = (Person.objects.get(given_names=n) for n in ("Ерлан", "Ольга"))
    assert erlan.household.members.count() == 2 and olga.household.members.count() == 1
    assert erlan.household != olga.household
    assert erlan.intake_records.get().member_refs == [["B-1", 2, "KT-1"], ["B-1", 3, "KT-1"]]
    mapping = ImportSource.objects.get(name="Kompas Tour").mapping
    assert (mapping["tour_code"], mapping["household"]) == ("Код тура", "Бронь")
    assert "source_ref" not in mapping


def test_nationality_and_eligibility_are_read_or_refuse_the_row(
    world: World, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "nationals.csv",
        "ФИО;Гражданство;Категория\n"
        "Иванов Сергей;RUS;член семьи гражданина\n"
        "Петрова Анна;Россия;family_member\n"
        "Smith John;United Kingdom;Partner-state national\n"
        "Ахметов Ерлан;kz;\n"
        "Сейтов Арман;Казахстан;Азамат\n"
        "Али Реза;Iran;Гражданин государства-партнёра\n"
        "Неизвестный Никто;Narnia;\n"
        "Бекова Алия;KAZ;foreigner\n",
    )
    out = run_import(world, path)
    assert "6 accepted, 2 rejected" in out
    read = {
        p.given_names: (p.nationalities, p.eligibility)
        for p in Person.objects.filter(intake_records__batch__isnull=False).order_by("pk")
    }
    assert read == {
        "Сергей": (["RU"], "family_member"),
        "Анна": (["RU"], "family_member"),
        "John": (["GB"], "partner_national"),
        "Ерлан": (["KZ"], "citizen"),
        "Арман": (["KZ"], "citizen"),
        "Реза": (["IR"], "partner_national"),
    }
    text = Path(str(path) + ".rejected.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["row"] for r in rows] == ["8", "9"]
    assert "Гражданство" in rows[0]["reasons"] and "'Narnia'" in rows[0]["reasons"]
    assert "Категория" in rows[1]["reasons"] and "'foreigner'" in rows[1]["reasons"]


FAMILY = (
    "Surname;Name;DOB;Sex;IIN;Booking;Hotel\n"
    "Nurlanov;Daniyar;1985-07-07;M;{daniyar};B-1;Hilton\n"
    "Nurlanova;Madina;1987-08-08;F;{madina};B-1;Hilton\n"
    "Serikov;Aibek;1990-01-01;M;;B-2;Atlantis\n"
)


def test_rejected_rows_download_as_the_list_and_can_be_sent_again(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    daniyar = make_iin(date(1985, 7, 7), "M", 1)
    madina = make_iin(date(1987, 8, 8), "F", 2)
    wrong = madina[:-1] + str((int(madina[-1]) + 1) % 10)  # the checksum fails
    text = FAMILY.format(daniyar=daniyar, madina=wrong)
    client = world.client(Role.OPERATOR)
    iran = world.crisis.affected_countries.get(code="IR").pk
    fields = {"source": "Embassy list", "kind": "embassy", "country": iran}
    client.post("/people/imports/", {**fields, "file": SimpleUploadedFile("l.csv", text.encode())})
    batch = ImportBatch.objects.get()
    page = client.get(f"/people/imports/{batch.pk}/").content.decode()
    assert "iin" in page.split("Madina")[1].split("</tr>")[0], "the preview refuses her IIN"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/people/imports/{batch.pk}/", {**batch.mapping, "start": "1"})
    batch.refresh_from_db()
    assert (batch.accepted_rows, batch.rejected_rows) == (1, 2)
    download = client.get(f"/people/imports/{batch.pk}/rejected.csv").content.decode()
    rows = list(csv.DictReader(io.StringIO(download)))
    assert [r["row"] for r in rows] == ["2", "3"], "one line per row of the list"
    assert "iin" in rows[1]["reasons"] and "row 3" in rows[0]["reasons"]
    assert {k: v for k, v in rows[1].items() if k not in ("row", "reasons")} == {
        "Surname": "Nurlanova", "Name": "Madina", "DOB": "1987-08-08", "Sex": "F",
        "IIN": wrong, "Booking": "B-1", "Hotel": "Hilton",
    }  # fmt: skip
    assert IntakeRecord.objects.filter(batch=batch, outcome="rejected").count() == 2

    # Corrected and sent again, the household is registered whole.
    rows[1]["IIN"] = madina
    corrected = io.StringIO()
    writer = csv.DictWriter(corrected, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    upload = SimpleUploadedFile("fixed.csv", corrected.getvalue().encode())
    client.post("/people/imports/", {**fields, "file": upload})
    again = ImportBatch.objects.exclude(pk=batch.pk).get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/people/imports/{again.pk}/", {**again.mapping, "start": "1"})
    again.refresh_from_db()
    assert (again.accepted_rows, again.rejected_rows) == (2, 0)
    madina_person = Person.objects.get(given_names="Madina")
    assert madina_person.household.members.count() == 2
