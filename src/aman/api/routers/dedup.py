"""Possible duplicates: the review queue and an officer's decision."""

from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from aman.api.routers.registry import ERRORS, _crisis, _user
from aman.api.schemas import PersonOut
from aman.core import access
from aman.core.roles import Cap
from aman.dedup import selectors, services
from aman.dedup.models import CandidatePair

router = Router(tags=["duplicates"])


class CandidatePairOut(Schema):
    id: int
    status: str
    score: int
    evidence: list[str]
    evidence_text: str
    found_by: str
    created_at: datetime
    person_a: PersonOut
    person_b: PersonOut

    @staticmethod
    def resolve_evidence_text(obj: CandidatePair) -> str:
        return obj.evidence_text()


class CandidateFilter(Schema):
    crisis: int | None = None
    status: CandidatePair.Status = CandidatePair.Status.OPEN


@router.get(
    "/duplicates",
    response=list[CandidatePairOut],
    summary="Possible duplicates, strongest first (person_a was registered first)",
)
@paginate(LimitOffsetPagination)
def candidate_list(request: HttpRequest, filters: Query[CandidateFilter]) -> Any:
    user = _user(request)
    crisis = _crisis(user, filters.crisis)
    return selectors.candidates_for_user(user=user, crisis=crisis, status=filters.status)


@router.post(
    "/duplicates/{pair_id}/reject",
    response={200: CandidatePairOut, **ERRORS},
    summary="Not the same person: the pair is closed and never proposed again",
)
def candidate_reject(request: HttpRequest, pair_id: int) -> Any:
    user = _user(request)
    access.require(user, Cap.REGISTER)
    crisis_id = CandidatePair.objects.filter(pk=pair_id).values_list("crisis_id", flat=True).first()
    if crisis_id is None:
        raise Http404
    crisis = access.crisis_for_user(user, crisis_id)
    pair = (
        selectors.candidates_for_user(user=user, crisis=crisis, status=None)
        .filter(pk=pair_id)
        .first()
    )
    if pair is None:
        raise Http404
    services.candidate_reject(actor=user, pair=pair)
    pair.refresh_from_db()
    return pair
