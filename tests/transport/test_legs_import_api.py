"""Importing legs through the API: a multipart file, the page's column rules, the rejected
rows with their reasons, the same file twice creating nothing new."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.transport.models import Leg, LegImport
from tests.conftest import World
from tests.transport.test_pages import CSV

pytestmark = pytest.mark.django_db


def upload(client: Any, content: bytes, name: str = "schedule.csv", **kw: Any) -> Any:
    return client.post(
        "/api/legs/import" + kw.pop("query", ""),
        {"file": SimpleUploadedFile(name, content, content_type="text/csv")},
        **kw,
    )


def test_import_legs_through_the_api(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    response = upload(api, CSV.encode())
    assert response.status_code == 201, response.content
    out = response.json()
    assert (out["total"], out["accepted"], out["repeated"], out["rejected"]) == (3, 2, 0, 1)
    assert out["file_name"] == "schedule.csv" and out["created_by"] == "logistics"
    assert out["crisis_id"] == world.crisis.pk
    (row,) = out["rejected_rows"]
    assert row["row"] == 4 and row["values"]["destination"] == "MOON"
    assert "No place “MOON”" in " ".join(row["reasons"]["destination"])
    bus = Leg.objects.get(source_ref="TB-17")
    assert (bus.destination.code, bus.source, bus.capacity) == ("IR-AZ-ASTARA", "import", 50)
    assert bus.crisis == world.crisis
    # The rejected rows are kept on the import, as for the page's.
    batch = LegImport.objects.get(pk=out["id"])
    assert batch.rejected_rows[0]["row"] == 4
    entry = AuditEntry.objects.get(verb="legs_import")
    assert (entry.actor_name, entry.via, entry.object_id) == ("logistics", "api", str(batch.pk))
    # The same file again creates nothing new.
    again = upload(api, CSV.encode())
    assert again.status_code == 201
    assert (again.json()["accepted"], again.json()["repeated"], again.json()["rejected"]) == (
        0,
        2,
        1,
    )
    assert Leg.objects.count() == 2
    # The XLSX the page takes is taken too, into the crisis named.
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["from", "to", "departure", "seats", "reference"])
    sheet.append(["GYD", "ALA", "2026-12-03 09:00", 150, "X-OTHER"])
    data = io.BytesIO()
    book.save(data)
    other = upload(api, data.getvalue(), name="legs.xlsx", query=f"?crisis={world.other_crisis.pk}")
    assert other.status_code == 201, other.content
    assert Leg.objects.get(source_ref="X-OTHER").crisis == world.other_crisis


def test_an_idempotency_key_answers_the_first_import(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    first = upload(api, CSV.encode(), HTTP_IDEMPOTENCY_KEY="legs-1")
    again = upload(api, CSV.encode(), HTTP_IDEMPOTENCY_KEY="legs-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert LegImport.objects.count() == 1
    other = upload(api, b"from,to,departure,seats\nIKA,ALA,2026-12-01 08:00,5\n",
                   HTTP_IDEMPOTENCY_KEY="legs-1")  # fmt: skip
    assert other.status_code == 400 and "different request" in other.json()["message"]


def test_bad_files_are_refused_clearly(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    for content, message in (
        (b"from,to\nIKA,ALA\n", "missing: departure, seats"),
        (b"", "The file is empty."),
        (b"\n\n", "The file is empty."),
    ):
        response = upload(api, content)
        assert response.status_code == 400, content
        body = response.json()
        assert set(body) == {"message", "extra"} and message in body["message"], body
    xlsx = upload(api, b"not a workbook", name="legs.xlsx")
    assert xlsx.status_code == 400 and xlsx.json()["message"] == "Not a readable XLSX file."
    big = upload(api, b"from,to,departure,seats\n" + b"x" * (5 * 1024 * 1024 + 1))
    assert big.status_code == 400 and "larger than 5 MB" in big.json()["message"]
    nofile = api.post("/api/legs/import", {"other": "x"})
    assert nofile.status_code == 422 and "file" in nofile.json()["message"]
    assert not LegImport.objects.exists() and not Leg.objects.exists()


def test_only_transport_imports_legs(world: World) -> None:
    for role in (Role.DUTY_OFFICER, Role.OPERATOR, Role.CONSUL):
        response = upload(world.api(role), CSV.encode())
        assert response.status_code == 403, role
        assert set(response.json()) == {"message", "extra"}
    from django.test import Client

    assert upload(Client(), CSV.encode()).status_code == 401
    assert not Leg.objects.exists()


def test_an_unreadable_csv_is_refused_with_a_clear_error(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    long_field = CSV.splitlines()[0] + "\n" + '"' + "x" * 200_000 + '",ALA,2026-12-03 09:00,50\n'
    response = upload(api, long_field.encode())
    assert response.status_code == 400, response.content
    assert "line 2 cannot be read" in response.json()["message"]
    assert response.json()["extra"] == {"line": 2}
    assert not Leg.objects.exists()
