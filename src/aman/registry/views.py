from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import CheckboxInput
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from aman.core import access
from aman.core.audit import audit_read
from aman.core.errors import ApplicationError
from aman.core.models import Crisis, User
from aman.core.paging import CappedPaginator
from aman.core.roles import Cap
from aman.dedup.selectors import (
    both_visible,
    candidates_for_person,
    merges_for_person,
    open_pair_ids,
    registration_duplicates,
)
from aman.geo.models import Country, Place
from aman.registry import selectors, services
from aman.registry.forms import (
    FLAGS,
    DocumentEditFormSet,
    HotlineForm,
    HotlineMemberFormSet,
    HouseholdAvailableForm,
    HouseholdMoveForm,
    PeopleFilterForm,
    PersonEditForm,
    PhoneEditFormSet,
    PriorityPolicyForm,
    StatusForm,
    form_problems,
    formset_again,
    members_payload,
    place_problems,
    rows_payload,
    unbound_with_one_more,
)
from aman.registry.models import Channel, Household, IntakeRecord, Person
from aman.registry.statuses import TRANSITIONS, Status
from aman.registry.triage import explain
from aman.transport.selectors import booking_events


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _current(request: HttpRequest) -> Crisis | None:
    return access.current_crisis(_user(request))


@login_required
@require_GET
def person_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    access.require(user, Cap.PERSONAL_DATA)
    crisis = _current(request)
    form = PeopleFilterForm(
        request.GET or None,
        missions=crisis.missions.all() if crisis is not None else None,
    )
    page = None
    query = ""
    if crisis is not None:
        filters = dict(form.cleaned_data) if form.is_valid() else {}
        if filters.get("city"):
            # A typed city: the reference-data cities of that name in the crisis's
            # countries (the API takes their ids as `city_id`).
            cities = selectors.cities_named(crisis, str(filters["city"]))
            if not cities:
                form.add_error(
                    "city",
                    _("No city of that name in the crisis's countries: %(countries)s.")
                    % {
                        "countries": ", ".join(
                            crisis.affected_countries.order_by("code").values_list(
                                "code", flat=True
                            )
                        )
                    },
                )
            filters["city_ids"] = cities
        people = selectors.people_filtered(user=user, crisis=crisis, filters=filters)
        page = CappedPaginator(people, 50).get_page(request.GET.get("page"))
        params = request.GET.copy()
        params.pop("page", None)
        query = params.urlencode()
        # Every page of people shown is audited (the filters used, never their values).
        used = sorted(k for k, v in filters.items() if v not in (None, "", []))
        audit_read(
            actor=user,
            verb="people_search" if filters.get("q") else "people_list",
            object_type="registry.person",
            crisis=crisis,
            details={"results": page.paginator.count, "filters": used, "page": page.number},
        )
    return TemplateResponse(
        request,
        "registry/person_list.html",
        {
            "crisis": crisis,
            "form": form,
            "page": page,
            "query": query,
            "can_register": user.has_cap(Cap.REGISTER),
        },
    )


@login_required
@require_GET
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    access.require(user, Cap.PERSONAL_DATA)
    crisis = _current(request)
    if crisis is None:
        return redirect("person_list")
    survivor = selectors.surviving_person_id(pk)
    if survivor != pk:
        # A record merged into another (that the user may see): its person is the one it
        # was merged into.
        if not both_visible(user=user, crisis_id=crisis.pk, people=(pk, survivor)):
            raise Http404
        return redirect("person_detail", survivor)
    person = selectors.person_for_user(user=user, crisis=crisis, pk=pk)
    audit_read(actor=user, verb="person_detail", obj=person, crisis=crisis)
    household = []
    if person.household_id:
        household = list(
            selectors.people_for_user(user=user, crisis=crisis)
            .filter(household_id=person.household_id)
            .exclude(pk=person.pk)
        )
    allowed = sorted(TRANSITIONS[person.status])
    form = StatusForm(initial={"status": allowed[0] if allowed else ""})
    form.fields["status"].choices = [(s, Status(s).label) for s in allowed]  # type: ignore[attr-defined]
    return TemplateResponse(
        request,
        "registry/person_detail.html",
        {
            "person": person,
            "household": household,
            "documents": person.documents.all(),
            "phones": person.phones.all(),
            "events": person.status_events.select_related("actor"),
            "intake_records": [
                (r, services.payload_place(r.payload))
                for r in person.intake_records.select_related("actor")
            ],
            "priority_explained": explain(person.priority, person.priority_reasons),
            "status_form": form if allowed and user.has_cap(Cap.REGISTER) else None,
            "can_edit": user.has_cap(Cap.REGISTER),
            "flags": [
                PersonEditForm.base_fields[flag].label for flag in FLAGS if getattr(person, flag)
            ],
            "duplicates": candidates_for_person(user=user, person=person),
            "merges": merges_for_person(user=user, person=person),
            "can_decide": user.has_cap(Cap.MERGE),
            # Legs the person is booked on, for those who work with transport.
            # Each with its history (who and when): part of the person's record read.
            "bookings": person.bookings.select_related("leg", "leg__origin", "leg__destination")
            .prefetch_related(booking_events())
            .order_by("leg__departure_planned")
            if user.has_cap(Cap.TRANSPORT) or user.has_cap(Cap.BOARDING)
            else [],
        },
    )


@login_required
@require_POST
def person_status(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    access.require(user, Cap.REGISTER)
    crisis = _current(request)
    if crisis is None:
        return redirect("person_list")
    person = selectors.person_for_user(user=user, crisis=crisis, pk=pk)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            services.person_set_status(actor=user, person=person, **form.cleaned_data)
            messages.success(request, _("Status recorded."))
        except ApplicationError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, _("Choose a status."))
    return redirect("person_detail", pk=person.pk)


def _already_sent(crisis: Crisis, token: str) -> bool:
    """The form was saved already (a double Enter): its first result is answered."""
    return IntakeRecord.objects.filter(
        crisis=crisis, channel=Channel.HOTLINE, idempotency_key=token
    ).exists()


@login_required
def person_create(request: HttpRequest) -> HttpResponse:
    """The hotline form: one caller's household, keyboard first. After saving, the codes are
    shown above a fresh form for the next caller."""
    user = _user(request)
    access.require(user, Cap.REGISTER)
    crisis = _current(request)
    if crisis is None:
        return redirect("person_list")
    # The crisis's countries (`services.country_allowed`): someone who fled over land and
    # waits in a transit state is registered there.
    countries = list(
        Country.objects.filter(pk__in=services.crisis_country_ids(crisis)).in_local_order()
    )
    form = HotlineForm(request.POST or None, countries=countries)
    # Each person's citizenship comes filled in with the crisis's home country, the one a
    # citizen holds (`HotlineMemberForm`).
    per_member = {"home": crisis.home_country}
    formset = HotlineMemberFormSet(request.POST or None, prefix="m", form_kwargs=per_member)
    if request.method == "GET" and request.GET.get("from_intake"):
        # A rejected submission to correct and register (`views_intake`).
        from aman.registry.views_intake import hotline_prefill

        filled = hotline_prefill(user=user, crisis=crisis, pk=request.GET["from_intake"])
        if filled is not None:
            form = HotlineForm(
                initial={**filled[0], "corrects": request.GET["from_intake"]}, countries=countries
            )
            formset = HotlineMemberFormSet(prefix="m", initial=filled[1], form_kwargs=per_member)
            for n, person in enumerate(filled[1], start=1):
                if person.get("other_nationalities"):
                    messages.warning(
                        request,
                        _(
                            "Person %(n)s was sent with more than one citizenship; the form "
                            "takes one. Add %(others)s on the person's page once registered."
                        )
                        % {"n": n, "others": ", ".join(person["other_nationalities"])},
                    )
    if request.method == "POST" and "add_member" in request.POST:
        form = HotlineForm(initial=request.POST.dict(), countries=countries)
        form.fields["form_token"].initial = request.POST.get("form_token")
        formset = unbound_with_one_more(HotlineMemberFormSet, request.POST, "m", 20, per_member)
    elif request.method == "POST":
        corrects = None
        if request.POST.get("corrects"):
            try:
                corrects = selectors.corrected_record(
                    user=user, crisis=crisis, pk=request.POST["corrects"]
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
        if form.is_valid() and formset.is_valid():
            d = form.cleaned_data
            members = members_payload(formset)
            members[0]["phones"] = [d["phone"]] if d.get("phone") else []
            members[0]["email"] = d.get("email") or ""
            payload = {
                "members": members,
                "location": {
                    "country": d["country"],
                    "city": d["city"],
                    "address": d.get("address", ""),
                },
                "intent": d["intent"],
                "language": d["language"],
                "consent": bool(d["consent"]),
            }
            duplicates = []
            if "confirm_new" not in request.POST and not _already_sent(crisis, d["form_token"]):
                duplicates = registration_duplicates(user=user, crisis=crisis, payload=payload)
            if duplicates:
                return TemplateResponse(
                    request,
                    "registry/person_create.html",
                    {
                        "crisis": crisis,
                        "form": form,
                        "formset": formset,
                        "duplicates": duplicates,
                    },
                )
            try:
                record = services.registration_submit(
                    crisis=crisis,
                    channel=Channel.HOTLINE,
                    payload=payload,
                    actor=user,
                    idempotency_key=d["form_token"],
                    source=f"hotline:{user.username}",
                    corrects=corrects,
                )
            except services.RegistrationRejected as exc:
                place_problems(form, formset, exc.problems)
            except ApplicationError as exc:  # e.g. the crisis was closed meanwhile
                form.add_error(None, exc.message)
            else:
                people = list(record.people.order_by("id"))
                codes = ", ".join(
                    f"{p.given_names} {p.surname}: {p.reference_code_display}" for p in people
                )
                messages.success(
                    request, _("Registered. Reference codes — %(codes)s") % {"codes": codes}
                )
                undated = [f"{p.given_names} {p.surname}" for p in people if not p.birth_date]
                if undated:
                    # The status page opens with the code and the birth date (a birth date
                    # may be unknown on the phone: it is not required).
                    messages.warning(
                        request,
                        _(
                            "No birth date for %(names)s: their code does not open the status "
                            "page until a birth date is recorded on the person's page (Edit)."
                        )
                        % {"names": ", ".join(undated)},
                    )
                return redirect("person_create")
        else:
            payload = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
            # Under the form's token, as the public form keeps its refusals: the same
            # refused form saved twice (a double press) is the record kept the first time.
            services.intake_reject(
                crisis=crisis,
                channel=Channel.HOTLINE,
                payload=payload,
                problems=form_problems(form, formset),
                actor=user,
                source=f"hotline:{user.username}",
                corrects=corrects,
                idempotency_key=str(request.POST.get("form_token", ""))[:100],
            )
    return TemplateResponse(
        request, "registry/person_create.html", {"crisis": crisis, "form": form, "formset": formset}
    )


@login_required
def priority_policy(request: HttpRequest) -> HttpResponse:
    """The crisis's priority policy, shown to everyone working the crisis and changed by
    crisis managers (answered at once; everyone's priority is recomputed in the background,
    its progress polled by htmx), with how many people and households are at each priority
    now — counts only, no names."""
    user = _user(request)
    crisis = _current(request)
    if crisis is None:
        raise Http404
    crisis = access.crisis_for_user(user, crisis.pk)
    policy = services.priority_policy(crisis)
    if request.htmx and request.method == "GET":  # type: ignore[attr-defined]
        return TemplateResponse(request, "registry/_recompute_progress.html", {"policy": policy})
    can_change = user.has_cap(Cap.CRISIS_MANAGE)
    form = PriorityPolicyForm(
        request.POST or None, initial=PriorityPolicyForm.initial_of(policy.mode, policy.rules)
    )
    if request.method == "POST":
        access.require(user, Cap.CRISIS_MANAGE)
        if form.is_valid():
            try:
                services.priority_policy_set(
                    actor=user, crisis=crisis, mode=form.cleaned_data["mode"], rules=form.rules()
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("Priority policy saved: everyone's priority is being recomputed."),
                )
                return redirect("priority_policy")
    if not can_change:
        for field in form.fields.values():
            field.disabled = True
    return TemplateResponse(
        request,
        "registry/priority_policy.html",
        {
            "crisis": crisis,
            "form": form,
            "can_change": can_change,
            "counts": selectors.priority_counts(crisis=crisis),
            "policy": policy,
            "can_list": user.has_cap(Cap.PERSONAL_DATA),
        },
    )


DOCUMENT_ROW = services.DOCUMENT_FIELDS


def _editable(request: HttpRequest, pk: int) -> tuple[User, Crisis, Person] | None:
    """The person an officer may change (403 without the capability, 404 out of sight)."""
    user = _user(request)
    access.require(user, Cap.REGISTER)
    access.require(user, Cap.PERSONAL_DATA)
    crisis = _current(request)
    if crisis is None:
        return None
    return user, crisis, selectors.person_for_user(user=user, crisis=crisis, pk=pk)


def _edit_forms(crisis: Crisis, person: Person, data: Any = None) -> PersonEditForm:
    # The countries the person may be recorded in (`services.country_allowed`), and theirs.
    countries = list(Country.objects.filter(pk__in=services.crisis_country_ids(crisis)))
    if person.country not in countries:
        countries.append(person.country)
    cities = Place.objects.filter(kind=Place.Kind.CITY, country__in=countries).select_related(
        "country"
    )
    cities = cities.order_by("country__code", "name")
    return PersonEditForm(
        data, initial=PersonEditForm.initial_of(person), countries=countries, cities=cities
    )


def _document_rows(person: Person) -> list[dict[str, Any]]:
    rows = []
    for d in person.documents.order_by("id"):
        row: dict[str, Any] = {"id": d.pk}
        for name in DOCUMENT_ROW:
            value = getattr(d, name)
            if hasattr(value, "isoformat"):
                value = value.isoformat()
            if value not in (None, "") or name == "number":
                row[name] = value
        rows.append(row)
    return rows


def _place_correction_problems(
    form: Any,
    documents: Any,
    doc_index: list[int],
    phones: Any,
    phone_index: list[int],
    problems: Any,
) -> None:
    """A refused correction's reasons on the fields they belong to, the rest above the form."""
    for problem in problems:
        parts = problem.field.split(".")
        if parts[0] in ("documents", "phones") and len(parts) >= 2 and parts[1].isdigit():
            formset, index = (
                (documents, doc_index) if parts[0] == "documents" else (phones, phone_index)
            )
            n = int(parts[1])
            name = parts[2] if len(parts) > 2 and parts[2] != "id" else "number"
            if n < len(index):
                row = formset.forms[index[n]]
                row.add_error(name if name in row.fields else None, problem.message)
                continue
        name = {"city_id": "city"}.get(parts[0], parts[0])
        if name in form.fields:
            form.add_error(name, problem.message)
        else:
            form.add_error(None, f"{problem.field}: {problem.message}")


@login_required
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """An officer corrects a person's record: every field, the documents and phones (rows
    added and removed without JavaScript), and the household (`person_household`)."""
    found = _editable(request, pk)
    if found is None:
        return redirect("person_list")
    user, crisis, person = found
    form = _edit_forms(crisis, person, request.POST or None)
    documents = DocumentEditFormSet(
        request.POST or None, prefix="doc", initial=_document_rows(person)
    )
    phones = PhoneEditFormSet(
        request.POST or None,
        prefix="ph",
        initial=[
            {"id": p.pk, "number": p.number, "valid": p.valid} for p in person.phones.order_by("id")
        ],
    )
    if request.method == "POST" and ("add_document" in request.POST or "add_phone" in request.POST):
        posted = request.POST
        initial = PersonEditForm.initial_of(person)
        for name, field in form.fields.items():
            if isinstance(field.widget, CheckboxInput):
                initial[name] = name in posted
            elif name in posted:
                initial[name] = posted[name]
        form = _edit_forms(crisis, person)
        form.initial = initial
        documents = formset_again(DocumentEditFormSet, posted, "doc", more="add_document" in posted)
        phones = formset_again(PhoneEditFormSet, posted, "ph", more="add_phone" in posted)
    elif request.method == "POST":
        if form.is_valid() and documents.is_valid() and phones.is_valid():
            payload = form.payload()
            doc_rows, doc_index = rows_payload(documents, DOCUMENT_ROW)
            if doc_rows != _document_rows(person):
                payload["documents"] = doc_rows
            phone_rows, phone_index = rows_payload(phones, ("number",))
            if phone_rows != [
                {"id": p.pk, "number": p.number} for p in person.phones.order_by("id")
            ]:
                payload["phones"] = phone_rows
            if not payload:
                messages.info(request, _("Nothing was changed."))
                return redirect("person_detail", pk=person.pk)
            known = open_pair_ids(person)
            try:
                services.person_update(
                    actor=user, person=person, payload=payload, channel=Channel.OFFICER
                )
            except services.CorrectionRejected as exc:
                _place_correction_problems(
                    form, documents, doc_index, phones, phone_index, exc.problems
                )
            else:
                messages.success(request, _("Changes saved."))
                new_pairs = len(open_pair_ids(person) - known)
                if new_pairs:
                    messages.warning(
                        request,
                        ngettext(
                            "With these changes the record may be the same person as another "
                            "record: see “Possibly the same person as” below.",
                            "With these changes the record may be the same person as %(n)d "
                            "other records: see “Possibly the same person as” below.",
                            new_pairs,
                        )
                        % {"n": new_pairs},
                    )
                return redirect("person_detail", pk=person.pk)
        else:
            payload = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
            problems = {f"form.{k}": " ".join(map(str, v)) for k, v in form.errors.items()}
            for prefix, formset in (("documents", documents), ("phones", phones)):
                for i, row in enumerate(formset.forms):
                    for k, v in row.errors.items():
                        problems[f"{prefix}.{i}.{k}"] = " ".join(map(str, v))
            services.intake_reject(
                crisis=crisis,
                channel=Channel.OFFICER,
                payload=payload,
                problems=problems or {"__all__": "invalid form"},
                actor=user,
                source=f"officer:{user.username}",
                source_ref=person.reference_code,
                kind="update",
            )
    audit_read(actor=user, verb="person_edit_page", obj=person, crisis=crisis)
    household = []
    if person.household_id:
        household = list(
            selectors.people_for_user(user=user, crisis=crisis)
            .filter(household_id=person.household_id)
            .order_by("id")
        )
    return TemplateResponse(
        request,
        "registry/person_edit.html",
        {
            "person": person,
            "form": form,
            "documents": documents,
            "phones": phones,
            "household": household,
            "move_form": HouseholdMoveForm(),
            "available_form": HouseholdAvailableForm(
                initial={
                    "available_from": timezone.localtime(person.household.available_from)
                    if person.household and person.household.available_from
                    else None
                }
            ),
        },
    )


@login_required
@require_POST
def person_household(request: HttpRequest, pk: int) -> HttpResponse:
    """The household part of the edit page: make a member the contact, move the person to
    another household (named by a member's reference code) or into one of their own."""
    found = _editable(request, pk)
    if found is None:
        return redirect("person_list")
    user, crisis, person = found
    visible = selectors.people_for_user(user=user, crisis=crisis)
    action = request.POST.get("action")
    try:
        if action == "contact":
            contact = visible.filter(pk=request.POST.get("contact") or 0).first()
            if contact is None or person.household is None:
                raise ApplicationError(_("Choose a member of the household."))
            services.household_update(actor=user, household=person.household, contact=contact)
        elif action == "move":
            form = HouseholdMoveForm(request.POST)
            code = services.normalize_reference_code(request.POST.get("reference_code", ""))
            other = visible.filter(reference_code=code).first() if form.is_valid() else None
            if other is None or other.household_id is None:
                raise ApplicationError(_("No person with this reference code."))
            target = Household.objects.get(pk=other.household_id)
            services.household_update(actor=user, household=target, add=[person])
        elif action == "alone" and person.household is not None:
            services.household_update(actor=user, household=person.household, remove=[person])
        elif action == "available" and person.household is not None:
            available = HouseholdAvailableForm(request.POST)
            if not available.is_valid():
                raise ApplicationError(" ".join(map(str, available.errors["available_from"])))
            services.household_update(
                actor=user,
                household=person.household,
                available_from=available.cleaned_data["available_from"],
            )
        else:
            raise ApplicationError(_("Choose what to change."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Household changed."))
    return redirect("person_edit", pk=person.pk)
