"""Operator pages for intake records — every submission as received, accepted or rejected:
a filtered list, one record with its reasons and (when rejected) its payload, and the
hotline form filled from a rejected registration, to be corrected and registered."""

from __future__ import annotations

import json
from datetime import datetime, time
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from aman.core import access
from aman.core.audit import audit_read
from aman.core.models import Crisis, User
from aman.core.paging import CappedPaginator
from aman.core.roles import Cap
from aman.geo.models import Country
from aman.registry import selectors
from aman.registry.forms import FLAGS
from aman.registry.models import Channel, Eligibility, IntakeRecord
from aman.registry.services import citizenship_problem

KINDS = [("registration", _("Registrations")), ("update", _("Updates from the status page"))]


class IntakeFilterForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[("", _("Any outcome")), *IntakeRecord.Outcome.choices],
        required=False,
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("", _("Any channel")), *Channel.choices], required=False
    )
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("Registrations and updates")), *KINDS], required=False
    )
    since = forms.DateField(
        label=_("Received since"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    to_correct = forms.BooleanField(
        label=_("Only rejected registrations not yet registered after correction"),
        required=False,
    )

    def filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        d = dict(self.cleaned_data)
        if d.get("since"):
            d["since"] = timezone.make_aware(datetime.combine(d["since"], time.min))
        return d


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
@require_GET
def intake_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    access.require(user, Cap.PERSONAL_DATA)
    crisis = access.current_crisis(user)
    form = IntakeFilterForm(request.GET or None)
    context: dict[str, Any] = {"crisis": crisis, "form": form}
    if crisis is not None:
        filters = form.filters()
        records = selectors.intake_records_filtered(user=user, crisis=crisis, filters=filters)
        page = CappedPaginator(records, 50).get_page(request.GET.get("page"))
        rows = list(page.object_list)
        people = selectors.intake_people(user=user, crisis=crisis, records=rows)
        corrections = selectors.intake_corrections(user=user, crisis=crisis, records=rows)
        params = request.GET.copy()
        params.pop("page", None)
        selectors.intake_list_audit(user=user, crisis=crisis, records=rows, filters=filters)
        context.update(
            page=page,
            query=params.urlencode(),
            rows=[(r, people[r.pk], corrections[r.pk]) for r in rows],
        )
    return TemplateResponse(request, "registry/intake_list.html", context)


@login_required
@require_GET
def intake_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    access.require(user, Cap.PERSONAL_DATA)
    crisis = access.current_crisis(user)
    if crisis is None:
        return TemplateResponse(request, "registry/intake_list.html", {"crisis": None})
    record = selectors.intake_record_for_user(user=user, crisis=crisis, pk=pk)
    people = selectors.intake_people(user=user, crisis=crisis, records=[record])[record.pk]
    corrections = selectors.intake_corrections(user=user, crisis=crisis, records=[record])[
        record.pk
    ]
    audit_read(actor=user, verb="intake_detail", obj=record, crisis=crisis)
    rejected = record.outcome == IntakeRecord.Outcome.REJECTED
    corrected = any(c.outcome != IntakeRecord.Outcome.REJECTED for c in corrections)
    return TemplateResponse(
        request,
        "registry/intake_detail.html",
        {
            "crisis": crisis,
            "record": record,
            "people": people,
            "reasons": sorted(record.rejection_reasons.items()),
            "payload": json.dumps(record.payload, ensure_ascii=False, indent=2) if rejected else "",
            "corrections": corrections,
            "can_correct": rejected
            and not corrected
            and user.has_cap(Cap.REGISTER)
            and crisis.status == Crisis.Status.OPEN
            and hotline_initial(record.payload) is not None,
        },
    )


def hotline_prefill(
    *, user: User, crisis: Crisis, pk: str
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The hotline form's initial values from a rejected registration the user may see (the
    read is audited), or None when it cannot fill the form."""
    access.require(user, Cap.REGISTER)
    if not str(pk).isdigit():
        return None
    record = selectors.intake_record_for_user(user=user, crisis=crisis, pk=int(pk))
    if record.outcome != IntakeRecord.Outcome.REJECTED:
        return None
    filled = hotline_initial(record.payload, home=crisis.home_country)
    if filled is not None:
        _country_names(filled[1])
        audit_read(
            actor=user,
            verb="intake_correct",
            obj=record,
            crisis=crisis,
            details={"people": len(filled[1])},
        )
    return filled


def _one_citizenship(
    codes: list[str], eligibility: str, home: Country | None
) -> tuple[str, list[str]]:
    """(the citizenship the form shows, the others sent) for a member's nationalities: the
    first the registry's rule (`services.citizenship_problem`) takes alone for this
    eligibility, else the first."""
    if not codes:
        return "", []
    homes = [home] if home is not None else []
    shown = next(
        (c for c in codes if citizenship_problem(eligibility, [c], homes) is None), codes[0]
    )
    return shown, [c for c in codes if c != shown]


def _country_names(people: list[dict[str, Any]]) -> None:
    """A citizenship sent as a code (`IR`) shown by its name in the page's language, as
    the form's list offers it."""
    codes = {p["nationality"].upper() for p in people if len(p.get("nationality", "")) == 2}
    codes |= {c for p in people for c in p.get("other_nationalities", [])}
    if not codes:
        return
    names = {c.code: c.local_name for c in Country.objects.filter(code__in=codes)}
    for person in people:
        code = person.get("nationality", "").upper()
        if code in names:
            person["nationality"] = names[code]
        if person.get("other_nationalities"):
            person["other_nationalities"] = [names.get(c, c) for c in person["other_nationalities"]]


MEMBER_FIELDS = (
    "surname",
    "given_names",
    "patronymic",
    "birth_date",
    "sex",
    "passport",
    "passport_issuing_state",
    "surname_latin",
    "given_names_latin",
    "iin",
    "eligibility",
    "nationality",
    *FLAGS,
    "needs_note",
)
FORM_FIELDS = ("country", "city", "address", "phone", "email", "intent", "language")


def hotline_initial(
    payload: Any, home: Country | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """(household fields, one dict per person) of the hotline form for a payload as it was
    received: a registration (`members`, `location`, as the API and the services keep it)
    or a form as it was posted (`m-0-surname`, `country`, … as the public and hotline forms
    keep a refused one). None for anything else (an import row's own columns). `home`: the
    crisis's home country, for the one citizenship the form shows of several sent."""
    if not isinstance(payload, dict):
        return None
    if isinstance(payload.get("members"), list):
        members = [m for m in payload["members"] if isinstance(m, dict)][:20]
        if not members:
            return None
        where = payload.get("location")
        location: dict[str, Any] = where if isinstance(where, dict) else {}
        contact = payload.get("contact_index", 0)
        first: dict[str, Any] = (
            members[contact] if isinstance(contact, int) and 0 <= contact < len(members) else {}
        )
        sent = first.get("phones")
        phones: list[Any] = sent if isinstance(sent, list) else []
        household = {
            "country": str(location.get("country") or "").upper(),
            "city": location.get("city") or "",
            "address": location.get("address") or "",
            "phone": phones[0] if phones else "",
            "email": first.get("email") or "",
            "intent": payload.get("intent") or "leave",
            "language": payload.get("language") or "kk",
        }
        people = []
        for m in members:
            listed = m.get("documents")
            documents: list[Any] = listed if isinstance(listed, list) else []
            document: dict[str, Any] = next((d for d in documents if isinstance(d, dict)), {})
            person = {k: m.get(k, "") for k in MEMBER_FIELDS if k in m}
            person["passport"] = document.get("number", "")
            # The Latin names as in the passport, never regenerated from the Cyrillic: on
            # the document when there is one (`members_payload` puts them there), else on
            # the person.
            for key in ("surname_latin", "given_names_latin"):
                if document.get(key):
                    person[key] = document[key]
            if document.get("issuing_state"):
                person["passport_issuing_state"] = document["issuing_state"]
            # The form takes one citizenship: of several sent, the one that agrees with the
            # eligibility (a citizen's home one, another's other one), the rest listed as
            # `other_nationalities` for the page to say; none sent stays none (the
            # registry's default), not the form's.
            sent = m.get("nationalities")
            codes = [str(c).upper() for c in sent if c] if isinstance(sent, list) else []
            person["nationality"], person["other_nationalities"] = _one_citizenship(
                codes, str(m.get("eligibility") or Eligibility.CITIZEN), home
            )
            people.append(person)
        return household, _strings(people)
    count = sum(1 for k in payload if isinstance(k, str) and k.endswith("-surname"))
    if not count:
        return None
    household = {k: payload.get(k, "") for k in FORM_FIELDS if k in payload}
    people = [
        {k: payload.get(f"m-{i}-{k}", "") for k in MEMBER_FIELDS if f"m-{i}-{k}" in payload}
        for i in range(min(count, 20))
    ]
    for person in people:
        person.setdefault("nationality", "")  # a form sent before it asked: none given
        for flag in FLAGS:
            if flag in person:
                person[flag] = person[flag] in ("on", "true", "True", True, "1")
    return household, _strings(people)


def _strings(people: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: v if isinstance(v, bool | list) else str(v or "") for k, v in p.items()} for p in people
    ]
