"""Citizen-facing pages: register a household, come back with a reference code. No account,
no JavaScript needed, rate-limited, and no page ever lists anyone the visitor did not
register themselves."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from aman.core import ratelimit
from aman.core.audit import audit_read
from aman.core.models import Crisis
from aman.public.crises import all_open_crises, open_crises
from aman.public.forms import LookupForm, MemberFormSet, RegistrationForm, SelfUpdateForm
from aman.registry.forms import (
    form_problems,
    members_payload,
    place_problems,
    problem_said,
    unbound_with_one_more,
)
from aman.registry.models import Channel, IntakeRecord, Intent, Person, reference_code_display
from aman.registry.selectors import QueuedRegistration, countries_to_be_in, queued_lookup_public
from aman.registry.services import (
    BACK_TO_LEAVING,
    NOT_MOVED_WITH_HOUSEHOLD,
    RegistrationRejected,
    Submission,
    canonical_payload,
    intake_reject,
    normalize_reference_code,
    person_lookup_public,
    person_update_self,
    person_update_self_refused,
    registration_accept,
    registrations_submit,
)
from aman.registry.statuses import Status

# The registration just sent, for the page that shows its codes: a signed cookie rather
# than a session, so that a citizen's registration writes no session row.
RECORD_COOKIE = "aman_registration"
RECORD_COOKIE_SALT = "aman.public.registration"
RECORD_COOKIE_AGE = 24 * 3600
SESSION_PERSON = "public_person"

INSTRUCTIONS: dict[str, Any] = {
    Status.REGISTERED: gettext_lazy(
        "We have your registration. The embassy will contact you by phone or message. Keep your "
        "phone charged, your passport with you, and come back here if anything changes."
    ),
    Status.VERIFIED: gettext_lazy(
        "The embassy has checked your registration. You will be told when and where to go."
    ),
    Status.ASSIGNED: gettext_lazy(
        "You have a place on an evacuation. Follow the instructions sent to you; bring your "
        "passport, medicines and a small bag."
    ),
    Status.AT_ASSEMBLY_POINT: gettext_lazy("You are at the assembly point. Stay with your group."),
    Status.BOARDED: gettext_lazy("You are on board. Keep your documents at hand."),
    Status.ACCOMMODATED: gettext_lazy(
        "You have been given accommodation. Wait there for instructions."
    ),
    Status.CROSSED_BORDER: gettext_lazy(
        "You are out of the affected country. The journey home continues."
    ),
    Status.ARRIVED_HOME: gettext_lazy("Welcome home."),
    Status.DECLINED: gettext_lazy(
        "You declined the offered place. Change your answer below if you want to leave."
    ),
    Status.STAYING: gettext_lazy(
        "You told us you are staying. Change your answer below if you want to leave."
    ),
    Status.WITHDRAWN: gettext_lazy(
        "This registration was withdrawn. Register again if you need help."
    ),
}


def _hotlines(crisis: Crisis | None = None) -> dict[str, Any]:
    """What a page says of the Ministry's hotline (`public/_hotline.html`): the number of
    the crisis the person registered in or chose, while it is open; on a page without a
    crisis, the number of each open crisis, with its name when more than one crisis is
    open. A crisis without a number gives none: the page's words stay as they are."""
    if crisis is not None:
        shown = crisis.hotline_phone and crisis.status == Crisis.Status.OPEN
        return {"hotlines": [crisis] if shown else [], "hotlines_named": False}
    crises = all_open_crises()
    return {
        "hotlines": [c for c in crises if c.hotline_phone],
        "hotlines_named": len(crises) > 1,
    }


def _too_many(
    request: HttpRequest, message: str = "", crisis: Crisis | None = None
) -> HttpResponse:
    return TemplateResponse(
        request, "public/too_many.html", {"message": message, **_hotlines(crisis)}, status=429
    )


@never_cache
def register(request: HttpRequest) -> HttpResponse:
    crises = open_crises()
    if not crises:
        return TemplateResponse(request, "public/closed.html", _hotlines())
    if request.method == "GET" and not request.GET:
        return _blank_page(request, crises)
    form = RegistrationForm(request.POST or None, crises=crises)
    formset = MemberFormSet(request.POST or None, prefix="m")
    if request.method == "POST":
        if "add_member" in request.POST:
            # No JavaScript: the page comes back, unvalidated, with one more empty person.
            posted = request.POST
            form = RegistrationForm(initial=posted.dict(), crises=crises)
            form.fields["form_token"].initial = (
                posted.get("form_token") or form.fields["form_token"].initial
            )
            formset = unbound_with_one_more(MemberFormSet, posted, "m", 10)
        elif request.POST.get("website"):
            # A bot (people never see the field): answered as before — as if accepted when
            # the form is valid — and kept as a rejected record, cut to the form's sizes.
            valid = form.is_valid() and formset.is_valid()
            _keep_refused(
                request,
                form,
                formset,
                crises,
                problems={
                    "honeypot": _("The field hidden from people was filled in (honeypot)."),
                    **({} if valid else form_problems(form, formset)),
                },
                cut=True,
            )
            if valid:
                return redirect("public_register_done")
        elif not (form.is_valid() and formset.is_valid()):
            _keep_refused(request, form, formset, crises)
        elif not ratelimit.take(
            request, "register", settings.AMAN_PUBLIC_REGISTRATIONS_PER_HOUR, REGISTER_WINDOW
        ):
            return _over_the_limit(request, form, formset, crises)
        else:
            d = form.cleaned_data
            members = members_payload(formset)
            if members:
                members[0]["phones"] = [d["phone"]] if d.get("phone") else []
                members[0]["email"] = d.get("email") or ""
            payload = {
                "members": members,
                "contact_index": 0,
                "location": {
                    "country": d["country"],
                    "city": d["city"],
                    "address": d.get("address", ""),
                },
                "intent": d["intent"],
                "language": (get_language() or "kk")[:2],
                "consent": bool(d.get("consent")),
            }
            try:
                record = _register(d["crisis"], payload, d["form_token"])
            except RegistrationRejected as exc:
                place_problems(form, formset, exc.problems)
            except _ChangedAfterSending as exc:
                _keep_changed(d["crisis"], payload, d["form_token"], exc.record)
                form.add_error(
                    None,
                    _(
                        "This form was sent already, and the household it sent is registered. "
                        "What you changed has been kept for the embassy to see. To change the "
                        "registration, open “Check my status” with a reference code from that "
                        "time, or call the Ministry's hotline."
                    ),
                )
            else:
                done = redirect("public_register_done")
                done.set_signed_cookie(
                    RECORD_COOKIE,
                    str(record.pk),
                    salt=RECORD_COOKIE_SALT,
                    max_age=RECORD_COOKIE_AGE,
                    path="/register/",
                    secure=settings.SESSION_COOKIE_SECURE,
                    httponly=True,
                    samesite="Lax",
                )
                return done
    return TemplateResponse(request, "public/register.html", {"form": form, "formset": formset})


# The public form's abuse guards. Only registrations actually sent to the registry (valid
# forms) count against AMAN_PUBLIC_REGISTRATIONS_PER_HOUR: behind a carrier's NAT or a
# hotel's Wi-Fi many families share one address, and a form sent back with a typo must not
# use up their registrations. Whatever is refused without registering anyone — a form with
# errors, the honeypot, a registration over the limit — is kept as a rejected intake record
# (nothing sent is lost), and those records count under a separate limit,
# REFUSED_PER_REGISTRATION times higher, that only bounds how many one address can write in
# an hour (a flood); past it the person still sees the form's errors, and nothing more is
# kept.
REGISTER_WINDOW = 3600
REFUSED_PER_REGISTRATION = 5
# What a honeypot-tripped (likely spam) submission may store: the form's own sizes.
CUT_FIELDS = 200  # more than a household of 10 sends
CUT_NAME = 40
CUT_VALUE = 500  # the form's longest field


def _over_the_limit(
    request: HttpRequest, form: Any, formset: Any, crises: list[Crisis]
) -> HttpResponse:
    """A valid registration over the address's limit: kept as rejected (reason
    `rate_limit`), and the form comes back filled in, saying honestly when it can be sent
    again (the limit's real remaining window) and that the hotline can register them."""
    wait = ratelimit.retry_after(request, "register", REGISTER_WINDOW)
    minutes = max(1, -(-wait // 60))
    _keep_refused(
        request,
        form,
        formset,
        crises,
        problems={
            "rate_limit": _(
                "Too many registrations were sent from this connection within an hour (rate limit)."
            )
        },
    )
    message = ngettext(
        "Too many registrations were sent from your connection in the last hour (a shared "
        "network, such as a hotel's Wi-Fi, counts as one connection). What you typed has "
        "been kept and is still filled in below: send it again in %(minutes)d minute, or "
        "call the Ministry's hotline, which can register you by phone.",
        "Too many registrations were sent from your connection in the last hour (a shared "
        "network, such as a hotel's Wi-Fi, counts as one connection). What you typed has "
        "been kept and is still filled in below: send it again in %(minutes)d minutes, or "
        "call the Ministry's hotline, which can register you by phone.",
        minutes,
    ) % {"minutes": minutes}
    response = TemplateResponse(
        request,
        "public/register.html",
        {
            "form": form,
            "formset": formset,
            "refused": message,
            **_hotlines(form.cleaned_data["crisis"]),
        },
        status=429,
    )
    response["Retry-After"] = str(wait)
    return response


# The blank form is the same page for everyone in a language but for its two tokens (the
# CSRF token and the form's idempotency token): it is rendered once per language with
# marks where they go, and kept while the open crises are the same rows (`open_crises`
# reloads them when any crisis or country changes, and at least every 30 s). The first
# page of a surge costs a string replace instead of building and rendering the forms.
_CSRF_MARK = "aman-csrf-token-mark"
_FORM_TOKEN_MARK = "aman-form-token-mark"
_blank_pages: dict[str, tuple[list[Crisis], str]] = {}


def _blank_page(request: HttpRequest, crises: list[Crisis]) -> HttpResponse:
    language = get_language() or settings.LANGUAGE_CODE
    kept = _blank_pages.get(language)
    if (
        kept is None
        or len(kept[0]) != len(crises)
        or any(a is not b for a, b in zip(kept[0], crises, strict=True))
    ):
        form = RegistrationForm(crises=crises)
        form.fields["form_token"].initial = _FORM_TOKEN_MARK
        context = {
            "form": form,
            "formset": MemberFormSet(prefix="m"),
            "csrf_token": _CSRF_MARK,
        }
        html = render_to_string("public/register.html", context, request=request)
        kept = _blank_pages[language] = (crises, html)
    page = kept[1].replace(_CSRF_MARK, get_token(request))
    return HttpResponse(page.replace(_FORM_TOKEN_MARK, secrets.token_urlsafe(16)))


def _keep_refused(
    request: HttpRequest,
    form: Any,
    formset: Any,
    crises: list[Crisis],
    *,
    problems: dict[str, str] | None = None,
    cut: bool = False,
) -> None:
    """A form refused is kept too, as received, with its reasons (by default the errors
    shown to the person), within the address's limit of refused forms (see
    REFUSED_PER_REGISTRATION). Under the form's token: the same refused form sent again is
    the record kept the first time. `cut`: a likely spam's fields are cut to the form's
    sizes."""
    if not ratelimit.take(
        request,
        "register_refused",
        settings.AMAN_PUBLIC_REGISTRATIONS_PER_HOUR * REFUSED_PER_REGISTRATION,
        REGISTER_WINDOW,
    ):
        return
    crisis = form.cleaned_data.get("crisis") if hasattr(form, "cleaned_data") else None
    items = [(k, v) for k, v in request.POST.items() if k not in {"csrfmiddlewaretoken", "website"}]
    if cut:
        items = [(k[:CUT_NAME], v[:CUT_VALUE]) for k, v in items[:CUT_FIELDS]]
    payload = dict(items)
    intake_reject(
        crisis=crisis or crises[0],
        channel=Channel.PUBLIC_WEB,
        payload=payload,
        problems=problems or form_problems(form, formset),
        source="public form",
        idempotency_key=str(request.POST.get("form_token", ""))[:100],
    )


class _ChangedAfterSending(Exception):
    """The form's token names a registration already sent, and what came now differs (the
    page went back, something was changed, and it was sent again)."""

    def __init__(self, record: IntakeRecord) -> None:
        super().__init__(record.pk)
        self.record = record


def _changed(sent: Any, now: dict[str, Any]) -> bool:
    """Whether two payloads of the form differ in more than the page's language."""

    def without_language(value: Any) -> Any:
        return (
            {k: v for k, v in value.items() if k != "language"}
            if isinstance(value, dict)
            else value
        )

    return canonical_payload(without_language(sent)) != canonical_payload(without_language(now))


def _keep_changed(crisis: Crisis, payload: dict[str, Any], token: str, first: IntakeRecord) -> None:
    """What was sent again with changes is kept, refused with the registration it follows
    (idempotent under the token and this payload: sent once more, it is not kept twice)."""
    intake_reject(
        crisis=crisis,
        channel=Channel.PUBLIC_WEB,
        payload=payload,
        problems={
            "form_token": _(
                "Sent again with changes, from a form already sent (intake record %(record)s): "
                "not registered a second time."
            )
            % {"record": first.pk}
        },
        source="public form",
        idempotency_key=token,
    )


def _register(crisis: Any, payload: dict[str, Any], token: str) -> IntakeRecord:
    """Registered now, or taken into the queue in surge mode (`AMAN_INTAKE_QUEUE`)."""
    submission = Submission(
        payload=payload, channel=Channel.PUBLIC_WEB, idempotency_key=token, source="public form"
    )
    if settings.AMAN_INTAKE_QUEUE:
        outcome = registration_accept(crisis=crisis, submission=submission)
    else:
        outcome = registrations_submit(crisis=crisis, submissions=[submission])[0]
    if outcome.problems:
        raise RegistrationRejected(outcome.record, outcome.problems)
    if outcome.repeated and _changed(outcome.record.payload, payload):
        raise _ChangedAfterSending(outcome.record)
    return outcome.record


@dataclass
class _Registered:
    """A member of a registration still in the queue: name as sent, code reserved."""

    given_names: str
    surname: str
    reference_code: str

    @property
    def reference_code_display(self) -> str:
        return reference_code_display(self.reference_code)


@never_cache
def register_done(request: HttpRequest) -> HttpResponse:
    pk = request.get_signed_cookie(
        RECORD_COOKIE, default=None, salt=RECORD_COOKIE_SALT, max_age=RECORD_COOKIE_AGE
    )
    record = IntakeRecord.objects.select_related("crisis").filter(pk=pk).first() if pk else None
    people: list[Any] = []
    if record is not None and record.outcome == IntakeRecord.Outcome.PENDING:
        payload: dict[str, Any] = cast(dict[str, Any], record.payload)
        members = payload.get("members", [])
        people = [
            _Registered(m.get("given_names", ""), m.get("surname", ""), code)
            for m, code in zip(members, record.reference_codes, strict=False)
        ]
    elif record is not None and record.outcome == IntakeRecord.Outcome.ACCEPTED:
        people = list(record.people.order_by("id"))
    # Taken in a surge, then found wrong by the background run: the codes shown before are
    # void, and the person is told why, and how to register again.
    refused = (
        [problem_said(field, message) for field, message in record.rejection_reasons.items()]
        if record is not None and record.outcome == IntakeRecord.Outcome.REJECTED
        else []
    )
    return TemplateResponse(
        request,
        "public/register_done.html",
        {
            "people": people,
            "refused": refused,
            **_hotlines(record.crisis if record is not None else None),
        },
    )


@never_cache
def status_lookup(request: HttpRequest) -> HttpResponse:
    form = LookupForm(request.POST or None)
    if request.method == "POST":
        if ratelimit.exceeded(request, "lookup", settings.AMAN_PUBLIC_LOOKUPS_PER_15_MINUTES):
            return _too_many(request)
        if form.is_valid():
            code, birth_date = form.cleaned_data["reference_code"], form.cleaned_data["birth_date"]
            person = person_lookup_public(reference_code=code, birth_date=birth_date)
            if person is not None:
                request.session.cycle_key()
                # The code, not the person: a record merged into another is followed on
                # every request, and an undone merge leads back to the right person.
                request.session[SESSION_PERSON] = normalize_reference_code(code)
                return redirect("public_status_me")
            # No person has it: a code given with a registration still in the queue, or
            # one the background run refused (its codes are void), says so — only with
            # the member's birth date, else it is a failed look-up like any other.
            queued = queued_lookup_public(reference_code=code, birth_date=birth_date)
            if queued is not None:
                return _queued_status(request, form, queued)
            ratelimit.hit(request, "lookup", 15 * 60)
            form.add_error(None, _("No registration matches this code and birth date."))
            if settings.AMAN_INTAKE_QUEUE:
                form.add_error(
                    None,
                    _(
                        "A registration sent in the last few minutes may still be being "
                        "processed: try again shortly."
                    ),
                )
    return TemplateResponse(request, "public/status_lookup.html", {"form": form})


def _queued_status(request: HttpRequest, form: Any, queued: QueuedRegistration) -> HttpResponse:
    """What the status page says of a registration found by a code it reserved: received
    and being processed; or refused, why (as the codes page says it), that the code is
    void and how to register again — or that the embassy registered it since, corrected."""
    record = queued.record
    audit_read(
        actor=None,
        verb="public_status_view",
        obj=record,
        crisis=record.crisis,
        details={"outcome": record.outcome},
    )
    refused = (
        []
        if queued.pending or queued.corrected
        else [problem_said(field, message) for field, message in record.rejection_reasons.items()]
    )
    return TemplateResponse(
        request,
        "public/status_lookup.html",
        {
            "form": form,
            "queued": queued,
            "refused": refused,
            **_hotlines(record.crisis),
        },
    )


def _me(request: HttpRequest) -> Person | None:
    code = request.session.get(SESSION_PERSON)
    if not isinstance(code, str) or not code:
        return None
    from aman.registry.selectors import surviving_person_id

    pk = Person.all_objects.filter(reference_code=code).values_list("pk", flat=True).first()
    if pk is None:
        return None
    return (
        Person.objects.select_related("crisis", "country", "city")
        .filter(pk=surviving_person_id(pk))
        .first()
    )


# What the page says after an update that moved the status or the household.
_BACK_TO_LEAVING = gettext_lazy(
    "Your answer is saved: you want to leave. You are registered again and will be "
    "considered for the next evacuation plan."
)
_NOW_STAYING = gettext_lazy(
    "Your answer is saved: you are staying. You will not be included in evacuation plans; "
    "change your answer here if you want to leave."
)
_STAY_WITH_A_PLACE = gettext_lazy(
    "Your answer is saved. You already have a place on an evacuation: call the embassy or "
    "the hotline if you will not take it."
)


def _status_news(before: str, after: str, intent: str) -> str:
    if before != after and after == Status.REGISTERED:
        return str(_BACK_TO_LEAVING)
    if before != after and after == Status.STAYING:
        return str(_NOW_STAYING)
    if intent == Intent.STAY and after in (
        Status.ASSIGNED,
        Status.AT_ASSEMBLY_POINT,
        Status.BOARDED,
    ):
        return str(_STAY_WITH_A_PLACE)
    return ""


def _update_initial(person: Person) -> dict[str, Any]:
    """The form as the person left it. Someone who declined a place or said they stay but
    whose recorded wish is still to leave sees the question unanswered: choosing “Wants to
    leave” is then an answer of its own (it registers them again), not an untouched default."""
    unanswered = person.status in BACK_TO_LEAVING and person.intent == Intent.LEAVE
    return {
        "country": person.country.code,
        "intent": None if unanswered else person.intent,
        "pregnant": person.pregnant,
        "medical_need": person.medical_need,
        "reduced_mobility": person.reduced_mobility,
        "disability": person.disability,
        "unaccompanied_minor": person.unaccompanied_minor,
        "needs_note": person.needs_note,
    }


MESSENGER_FIELDS = ("telegram", "whatsapp")


def _household_size(person: Person) -> int:
    """The other members of the person's household who can move with them."""
    if not person.household_id:
        return 0
    return (
        Person.objects.filter(household_id=person.household_id)
        .exclude(pk=person.pk)
        .exclude(status__in=NOT_MOVED_WITH_HOUSEHOLD)
        .count()
    )


@never_cache
def status_me(request: HttpRequest) -> HttpResponse:
    person = _me(request)
    if person is None:
        return redirect("public_status")
    if request.method == "POST" and not ratelimit.take(
        request, "status_update", settings.AMAN_PUBLIC_UPDATES_PER_HOUR, 3600
    ):
        return _too_many(
            request,
            _(
                "Too many updates came from your connection. What you sent before is saved; "
                "please wait an hour and try again, or call the Ministry's hotline."
            ),
            person.crisis,
        )
    others = _household_size(person)
    initial = _update_initial(person)
    # The countries near the crisis; "not in the list" (a link, no JavaScript) asks for all.
    every_country = request.GET.get("countries") == "all"
    countries = countries_to_be_in(person=person, every=every_country)
    form = SelfUpdateForm(
        request.POST or None, initial=initial, countries=countries, with_household=others > 0
    )
    saved = False
    news: list[str] = []
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        payload = {
            k: v
            for k, v in d.items()
            if k not in ("intent", "household", "country", *MESSENGER_FIELDS)
            and (v not in ("", None) or k in initial)
        }
        handles = {k: d[k] for k in MESSENGER_FIELDS if d.get(k)}
        if handles:
            payload["messengers"] = handles
        # The country comes chosen as it is: sent on only when the person changed it.
        new_country = bool(d.get("country")) and d["country"] != initial["country"]
        if new_country:
            payload["country"] = d["country"]
        if d.get("intent"):
            payload["intent"] = d["intent"]
        if others and (new_country or d.get("city") or d.get("address")):
            payload["household"] = bool(d.get("household"))
        before = person.status
        try:
            record = person_update_self(person=person, payload=payload)
        except RegistrationRejected as exc:
            for problem in exc.problems:
                form.add_error(
                    problem.field if problem.field in form.fields else None, problem.message
                )
        else:
            saved = True
            person.refresh_from_db()
            news = [_status_news(before, person.status, d.get("intent") or "")]
            moved = record.people.exclude(pk=person.pk).count()
            if moved:
                news.append(
                    ngettext(
                        "The new place was also recorded for %(n)d other person of your household.",
                        "The new place was also recorded for %(n)d other people of your household.",
                        moved,
                    )
                    % {"n": moved}
                )
            others = _household_size(person)
            form = SelfUpdateForm(
                initial=_update_initial(person), countries=countries, with_household=others > 0
            )
    elif request.method == "POST":
        # Refused by the form (an e-mail address such as `dana@`): kept as a rejected
        # update of this person with its reasons, as the service keeps the ones it refuses.
        # Only the form's own fields are kept, as sent; the errors are shown as they are.
        person_update_self_refused(
            person=person,
            payload={name: request.POST[name] for name in form.fields if name in request.POST},
            problems={
                (name if name in form.fields else "__all__"): " ".join(str(e) for e in errors)
                for name, errors in form.errors.items()
            },
        )
        audit_read(actor=None, verb="public_status_view", obj=person, crisis=person.crisis)
    else:
        audit_read(actor=None, verb="public_status_view", obj=person, crisis=person.crisis)
    return TemplateResponse(
        request,
        "public/status_me.html",
        {
            "person": person,
            "form": form,
            "saved": saved,
            "news": [n for n in news if n],
            "place": _place(person),
            "every_country": every_country,
            "instructions": INSTRUCTIONS.get(person.status, ""),
            **_hotlines(person.crisis),
        },
    )


def _place(person: Person) -> str:
    """Where the registry has the person: the city (chosen or typed) and the address."""
    if person.city_id and person.city is not None:
        return ", ".join(x for x in (person.city.local_name, person.address) if x)
    return person.address


def status_leave(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_PERSON, None)
    return redirect("public_status")
