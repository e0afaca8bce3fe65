"""Rows a merge moved and an officer changed afterwards: the undo puts the record's own
documents and phones back as they were at the merge (made again when removed since) and
says so, in the API and on the page; a seat changed since goes back as it is now, listed."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import Model

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.registry.models import Document, Person, Phone
from aman.transport import services as transport
from aman.transport.models import Booking, BookingStatus
from tests.conftest import World
from tests.dedup.test_merge import merge_api, the_pair
from tests.transport.conftest import make_leg


def rows(model: type[Model], **where: Any) -> list[tuple[Any, ...]]:
    fields = [f.attname for f in model._meta.concrete_fields]
    return list(model._base_manager.filter(**where).order_by("pk").values_list(*fields))


def correct_phones_and_documents(world: World, survivor: Person, absorbed_id: int) -> Any:
    """The officer removes the merged record's passport (the same number twice) and corrects
    the merged record's phone (a digit) on the merged person."""
    (merged_phone,) = _moved(absorbed_id, Phone)
    merged_documents = _moved(absorbed_id, Document)
    phones = [
        {"id": p.pk, "number": "+7 702 555 11 33" if p.pk == merged_phone else p.number}
        for p in survivor.phones.order_by("pk")
    ]
    documents = [
        {
            "id": d.pk,
            "kind": d.kind,
            "number": d.number,
            "issuing_state": d.issuing_state,
            "expiry_date": d.expiry_date.isoformat() if d.expiry_date else None,
        }
        for d in survivor.documents.exclude(pk__in=merged_documents).order_by("pk")
    ]
    return world.api(Role.OPERATOR).patch(
        f"/api/people/{survivor.pk}",
        data=json.dumps({"phones": phones, "documents": documents}),
        content_type="application/json",
    )


def _moved(absorbed_id: int, model: type[Model]) -> list[int]:
    """The rows of `model` the merge of `absorbed_id` moved."""
    from aman.dedup.models import Merge

    merge = Merge.objects.get(absorbed_id=absorbed_id, undone_at__isnull=True)
    return list(merge.moved[f"{model._meta.label_lower}.person"])


def test_a_phone_removed_and_a_passport_corrected_since_the_merge_are_put_back_by_the_undo(
    world: World, family: dict[str, Any]
) -> None:
    pair, _first = the_pair(world, family)
    survivor_id, absorbed_id = pair.person_a_id, pair.person_b_id
    phones_before = rows(Phone, person_id=absorbed_id)
    documents_before = rows(Document, person_id=absorbed_id)
    (merged_phone,) = phones_before
    (merged_document,) = documents_before
    merge_id = merge_api(world, pair).json()["id"]
    survivor = Person.objects.get(pk=survivor_id)
    assert survivor.phones.count() == 2 and survivor.documents.count() == 2

    patched = correct_phones_and_documents(world, survivor, absorbed_id)
    assert patched.status_code == 200, patched.content
    assert not Document.objects.filter(pk=merged_document[0]).exists(), "removed since"
    assert rows(Phone, pk=merged_phone[0]) != [merged_phone], "corrected in place since"

    undo = world.api(Role.OPERATOR).post(f"/api/merges/{merge_id}/undo")
    assert undo.status_code == 200, undo.content
    found = {(r["relation"], r["id"], r["outcome"]) for r in undo.json()["rows_on_undo"]}
    assert found == {
        ("registry.phone.person", merged_phone[0], "reverted"),
        ("registry.document.person", merged_document[0], "restored"),
    }
    texts = " ".join(r["text"] for r in undo.json()["rows_on_undo"])
    assert "made again as it was" in texts and "put back as it was at the merge" in texts
    assert "5551122" not in texts and "12345678" not in texts, "numbers masked"
    # The merged record has its phone and passport exactly as before the merge.
    assert rows(Phone, person_id=absorbed_id) == phones_before
    assert rows(Document, person_id=absorbed_id) == documents_before
    # The kept record keeps its own rows, and nothing of the other's.
    assert Person.objects.get(pk=survivor_id).phones.count() == 1
    assert Person.objects.get(pk=survivor_id).documents.count() == 1
    entry = AuditEntry.objects.get(verb="person_unmerge")
    assert sorted(map(tuple, entry.changes["rows"][1])) == sorted(
        [
            ("registry.phone.person", merged_phone[0], "reverted"),
            ("registry.document.person", merged_document[0], "restored"),
        ]
    )
    assert "5551122" not in json.dumps(entry.changes)


def test_the_undo_page_says_which_rows_were_put_back(world: World, family: dict[str, Any]) -> None:
    pair, _first = the_pair(world, family)
    merge_id = merge_api(world, pair).json()["id"]
    survivor = Person.objects.get(pk=pair.person_a_id)
    assert correct_phones_and_documents(world, survivor, pair.person_b_id).status_code == 200
    patched = world.api(Role.OPERATOR).patch(
        f"/api/people/{survivor.pk}",
        data=json.dumps({"address": "Embassy compound"}),
        content_type="application/json",
    )
    assert patched.status_code == 200, patched.content
    page = world.client(Role.OPERATOR).post(
        f"/people/duplicates/merges/{merge_id}/undo/", follow=True
    )
    html = page.content.decode()
    assert "is a record of its own again" in html
    assert "Changed since the merge and kept: address or place" in html
    assert "Changed since the merge:" in html
    assert "removed since the merge: made again as it was" in html
    assert "corrected since the merge: put back as it was at the merge" in html
    assert "…1122" in html, "the phone named by its last digits only"
    (phone,) = Person.objects.get(pk=pair.person_b_id).phones.all()
    assert phone.number.endswith("5551122")


def test_a_seat_released_since_the_merge_goes_back_as_it_is_now_and_is_listed(
    world: World, family: dict[str, Any]
) -> None:
    pair, _first = the_pair(world, family)
    absorbed = Person.objects.get(pk=pair.person_b_id)
    logistics = world.users[Role.LOGISTICS]
    leg = make_leg(world)
    (booking,) = transport.leg_book(actor=logistics, leg=leg, households=[absorbed.household])
    merge_id = merge_api(world, pair).json()["id"]
    booking.refresh_from_db()
    assert booking.person_id == pair.person_a_id
    transport.booking_close(
        actor=logistics, booking=booking, status=BookingStatus.RELEASED, note="not travelling"
    )
    undo = world.api(Role.OPERATOR).post(f"/api/merges/{merge_id}/undo")
    assert undo.status_code == 200, undo.content
    assert [(r["relation"], r["id"], r["outcome"]) for r in undo.json()["rows_on_undo"]] == [
        ("transport.booking.person", booking.pk, "as_now")
    ]
    booking = Booking.objects.get(pk=booking.pk)
    assert booking.person_id == absorbed.pk and booking.status == BookingStatus.RELEASED
    assert booking.household_id == absorbed.household_id


def test_reading_the_merges_through_the_api_is_audited_with_the_people_read(
    world: World, family: dict[str, Any]
) -> None:
    pair, _first = the_pair(world, family)
    merge_id = merge_api(world, pair).json()["id"]
    survivor = Person.objects.get(pk=pair.person_a_id)
    assert correct_phones_and_documents(world, survivor, pair.person_b_id).status_code == 200
    assert world.api(Role.OPERATOR).post(f"/api/merges/{merge_id}/undo").status_code == 200
    api = world.api(Role.CONSUL)
    response = api.get("/api/merges", {"crisis": world.crisis.pk, "in_force": "false"})
    assert response.status_code == 200, response.content
    [item] = response.json()["items"]
    assert item["id"] == merge_id and len(item["rows_on_undo"]) == 2
    assert "…1122" in " ".join(r["text"] for r in item["rows_on_undo"])
    entry = AuditEntry.objects.filter(verb="merge_list").get()
    assert (entry.action, entry.via, entry.actor) == ("read", "api", world.users[Role.CONSUL])
    assert entry.crisis == world.crisis and entry.object_type == "dedup.merge"
    assert entry.changes == {
        "in_force": False,
        "offset": 0,
        "shown": 1,
        "merges": [merge_id],
        "people": sorted([pair.person_a_id, pair.person_b_id]),
    }
    # A page past the end reads nobody, and says so.
    api.get("/api/merges", {"crisis": world.crisis.pk, "offset": 5})
    entry = AuditEntry.objects.filter(verb="merge_list").latest("id")
    assert (entry.changes["shown"], entry.changes["people"]) == (0, [])
