from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aman.core.models import Mission
from aman.core.text import form_validator
from aman.geo.models import Country
from aman.registry.models import (
    Channel,
    Document,
    Eligibility,
    ImportSource,
    Intent,
    PriorityPolicy,
)
from aman.registry.statuses import Status


def _any(choices: Any) -> list[tuple[str, object]]:
    return [("", _("any")), *choices]


class PeopleFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("Name in any script, passport or phone number, IIN, or reference code."),
    )
    status = forms.ChoiceField(label=_("Status"), choices=_any(Status.choices), required=False)
    min_priority = forms.IntegerField(label=_("Priority at least"), required=False, min_value=0)
    country = forms.CharField(label=_("Country code"), required=False, max_length=2)
    city = forms.CharField(
        label=_("City"),
        required=False,
        max_length=100,
        help_text=_("A city of the crisis's countries, in any of its names."),
    )
    intent = forms.ChoiceField(label=_("Intent"), choices=_any(Intent.choices), required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=_any(Channel.choices), required=False)
    eligibility = forms.ChoiceField(
        label=_("Eligibility"), choices=_any(Eligibility.choices), required=False
    )
    mission = forms.ModelChoiceField(
        label=_("Mission area"),
        queryset=Mission.objects.none(),
        required=False,
        empty_label=_("any"),
    )

    def __init__(self, *args: Any, missions: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if missions is not None:
            self.fields["mission"].queryset = missions  # type: ignore[attr-defined]


class PriorityPolicyForm(forms.Form):
    """The crisis's priority policy: the mode, a weight per group (empty: not a priority
    group) and the age limits of the elderly and of children."""

    mode = forms.ChoiceField(
        label=_("How groups combine"),
        choices=PriorityPolicy.Mode.choices,
        widget=forms.RadioSelect,
    )
    elderly_min_age = forms.IntegerField(
        label=_("Elderly from the age of"), min_value=0, max_value=120, initial=60
    )
    child_max_age = forms.IntegerField(
        label=_("Children up to the age of"), min_value=0, max_value=120, initial=17
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from aman.registry.triage import GROUPS

        super().__init__(*args, **kwargs)
        for group, label in GROUPS.items():
            self.fields[f"weight_{group}"] = forms.IntegerField(
                label=label, min_value=0, max_value=20, required=False
            )

    @staticmethod
    def initial_of(mode: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
        initial: dict[str, Any] = {"mode": mode}
        for rule in rules:
            initial[f"weight_{rule['group']}"] = rule["weight"]
            if "min_age" in rule:
                initial["elderly_min_age"] = rule["min_age"]
            if "max_age" in rule:
                initial["child_max_age"] = rule["max_age"]
        return initial

    def weight_fields(self) -> list[Any]:
        return [self[name] for name in self.fields if name.startswith("weight_")]

    def rules(self) -> list[dict[str, Any]]:
        """The rules as the service takes them (groups without a weight left out)."""
        from aman.registry.triage import GROUPS

        d = self.cleaned_data
        out: list[dict[str, Any]] = []
        for group in GROUPS:
            weight = d.get(f"weight_{group}")
            if weight is None:
                continue
            rule: dict[str, Any] = {"group": group, "weight": weight}
            if group == "elderly":
                rule["min_age"] = d.get("elderly_min_age")
            if group == "child":
                rule["max_age"] = d.get("child_max_age")
            out.append(rule)
        return out


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=Status.choices)
    note = forms.CharField(
        label=_("Note"), max_length=500, required=False, validators=[form_validator()]
    )


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("List (CSV or XLSX)"))
    source = forms.CharField(
        label=_("Source"),
        max_length=100,
        validators=[form_validator()],
        help_text=_(
            "Who sent the list, e.g. the tour operator's name. Its column mapping is remembered."
        ),
    )
    kind = forms.ChoiceField(label=_("Kind of source"), choices=ImportSource.Kind.choices)
    country = forms.ModelChoiceField(
        label=_("Country the people are in"), queryset=Country.objects.none()
    )

    def __init__(self, *args: Any, countries: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].queryset = countries  # type: ignore[attr-defined]


def mapping_form(headers: list[str], initial: dict[str, str], data: Any = None) -> forms.Form:
    """One select per registry field, offering the file's columns."""
    from aman.registry.imports import TARGETS

    choices = [("", "—"), *[(h, h) for h in headers if h]]
    fields = {
        target: forms.ChoiceField(
            label=label, choices=choices, required=False, initial=initial.get(target, "")
        )
        for target, (label, _names) in TARGETS.items()
    }
    form_class = type("MappingForm", (forms.Form,), fields)
    return form_class(data)


# Where the browser has no date picker the field is plain text: say how to type a date
# (aman/formats: dd.mm.yyyy in every language, never slashes).
DATE_INPUT = forms.DateInput(
    attrs={"type": "date", "placeholder": _("dd.mm.yyyy")}, format="%Y-%m-%d"
)
DAY_ERRORS = {"invalid": _("Enter the date as dd.mm.yyyy, for example 02.03.1954.")}


class HotlineForm(forms.Form):
    """One caller's household, typed by a hotline operator: the household part."""

    country = forms.ChoiceField(label=_("Country they are in"))
    city = forms.CharField(label=_("City"), max_length=100)
    address = forms.CharField(label=_("Address or hotel"), max_length=300, required=False)
    phone = forms.CharField(label=_("Caller's phone"), max_length=40, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    intent = forms.ChoiceField(label=_("Intent"), choices=Intent.choices, initial=Intent.LEAVE)
    language = forms.ChoiceField(
        label=_("Language"), choices=[("kk", "Қазақша"), ("ru", "Русский"), ("en", "English")]
    )
    consent = forms.BooleanField(
        label=_("The caller agreed to the processing of the data (read the consent text aloud)")
    )
    form_token = forms.CharField(widget=forms.HiddenInput)
    # The rejected submission being corrected (`IntakeRecord.corrects`), when the form was
    # filled from one.
    corrects = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, countries: Any, **kwargs: Any) -> None:
        import secrets

        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "—"), *[(c.code, c.local_name) for c in countries]]  # type: ignore[attr-defined]
        self.fields["form_token"].initial = secrets.token_urlsafe(16)

    def citizenships(self) -> list[str]:
        """The names the members' citizenship is chosen from (one list for the page)."""
        return country_local_names()


def latin_name(value: str) -> str:
    """A form's Latin name as stored, or a form error (Latin letters, spaces, hyphens)."""
    from aman.registry.schemas import passport_latin

    try:
        return passport_latin(value or "")
    except ValueError:
        raise forms.ValidationError(
            _("Only Latin letters A-Z, spaces and hyphens, as in the passport.")
        ) from None


class LatinNameField(forms.CharField):
    def clean(self, value: Any) -> str:
        return latin_name(super().clean(value))


def country_name_codes() -> dict[str, str]:
    """Normalised country name or code (alpha-2, alpha-3, English, Russian, Kazakh) → ISO
    alpha-2 (`registry.imports.country_names`), kept by the process (`core.hot`)."""
    from aman.core import hot
    from aman.registry.imports import country_names

    return hot.get("country-names", None, country_names) or {}


def country_local_names() -> list[str]:
    """Every country's name in the page's language, in its order: the page's list of
    citizenships (`CountryNameField`), kept by the process per language (`core.hot`)."""
    from django.utils.translation import get_language

    from aman.core import hot

    def load() -> list[str]:
        return [c.local_name for c in Country.objects.in_local_order()]

    return hot.get("country-local-names", get_language(), load) or []


class CountryNameField(forms.CharField):
    """A country typed or chosen by name from the page's list (`<datalist id=countries>`:
    one list for every person of the form, where a select per person would be the size of
    the rest of the page each) — or by its code; cleaned to the ISO alpha-2 code."""

    widget = forms.TextInput(attrs={"list": "countries", "autocomplete": "off"})

    def clean(self, value: Any) -> str:
        from aman.registry.imports import _key

        text = super().clean(value)
        if not text:
            return ""
        code = country_name_codes().get(_key(text))
        if code is None:
            raise forms.ValidationError(
                _(
                    "Unknown country “%(value)s”: choose one from the list, or type its "
                    "two-letter code (e.g. KZ)."
                ),
                params={"value": text[:50]},
            )
        return code


def check_citizenship(form: forms.Form, homes: list[Country]) -> None:
    """A member form's citizenship (`nationality`, a `CountryNameField`) against its
    eligibility, the error on the citizenship: the registry's rule on every channel
    (`services.citizenship_problem`; `homes`: the home countries, in practice the
    Ministry's). An eligibility not given is a citizen's (the public form's, sent by an
    older page); a refused one checks nothing."""
    from aman.registry.services import citizenship_problem

    data = form.cleaned_data
    code = data.get("nationality")
    if not code or "nationality" in form.errors or "eligibility" in form.errors:
        return
    eligibility = data.get("eligibility") or Eligibility.CITIZEN
    if problem := citizenship_problem(eligibility, [code], homes):
        form.add_error("nationality", problem)


class HotlineMemberForm(forms.Form):
    surname = forms.CharField(label=_("Surname"), max_length=100)
    given_names = forms.CharField(label=_("Given names"), max_length=150)
    patronymic = forms.CharField(label=_("Patronymic"), max_length=100, required=False)
    birth_date = forms.DateField(
        label=_("Birth date"), widget=DATE_INPUT, required=False, error_messages=DAY_ERRORS
    )
    sex = forms.ChoiceField(
        label=_("Sex"),
        choices=[("", "—"), ("F", _("Female")), ("M", _("Male")), ("X", _("Other or unspecified"))],
        required=False,
    )
    passport = forms.CharField(label=_("Passport number"), max_length=30, required=False)
    passport_issuing_state = forms.CharField(
        label=_("Passport issued by (country code)"), max_length=3, required=False
    )
    surname_latin = LatinNameField(
        label=_("Surname as in the passport (Latin)"), max_length=100, required=False
    )
    given_names_latin = LatinNameField(
        label=_("Given names as in the passport (Latin)"), max_length=150, required=False
    )
    iin = forms.CharField(label=_("IIN"), max_length=12, required=False)
    eligibility = forms.ChoiceField(label=_("Eligibility"), choices=Eligibility.choices)
    # Filled in with the crisis's home country (`home`); empty: the registry's default (a
    # citizen's is the home country, anyone else's not known).
    nationality = CountryNameField(label=_("Citizenship"), max_length=100, required=False)
    pregnant = forms.BooleanField(label=_("Pregnant"), required=False)
    medical_need = forms.BooleanField(label=_("Medical need"), required=False)
    reduced_mobility = forms.BooleanField(label=_("Reduced mobility"), required=False)
    disability = forms.BooleanField(label=_("Disability"), required=False)
    unaccompanied_minor = forms.BooleanField(label=_("Unaccompanied minor"), required=False)
    needs_note = forms.CharField(label=_("Needs (details)"), max_length=500, required=False)

    def __init__(self, *args: Any, home: Country | None = None, **kwargs: Any) -> None:
        """`home`: the crisis's home country, the citizenship a person comes with and a
        citizen's (`check_citizenship`)."""
        super().__init__(*args, **kwargs)
        self.home = home
        if home is not None:
            self.fields["nationality"].initial = home.local_name

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        check_citizenship(self, [self.home] if self.home is not None else [])
        return data


HotlineMemberFormSet = forms.formset_factory(
    HotlineMemberForm, extra=0, min_num=1, max_num=20, validate_min=True, validate_max=True
)

FLAGS = ("pregnant", "medical_need", "reduced_mobility", "disability", "unaccompanied_minor")


def members_payload(formset: Any) -> list[dict[str, Any]]:
    """Registration members from a formset of member forms (public or hotline)."""
    members = []
    for form in formset.forms:
        d = form.cleaned_data
        if not d:
            continue
        member: dict[str, Any] = {
            "surname": d["surname"],
            "given_names": d["given_names"],
            "sex": d.get("sex") or "",
            "needs_note": d.get("needs_note") or "",
            **{flag: bool(d.get(flag)) for flag in FLAGS if flag in d},
        }
        if d.get("birth_date"):
            member["birth_date"] = d["birth_date"].isoformat()
        for key in ("patronymic", "iin", "eligibility"):
            if d.get(key):
                member[key] = d[key]
        if d.get("nationality"):
            # The public and hotline forms' citizenship (a country code); none given: the
            # service's default (a citizen's is the home country).
            member["nationalities"] = [d["nationality"]]
        latin = {k: d[k] for k in ("surname_latin", "given_names_latin") if d.get(k)}
        if d.get("passport"):
            passport = {"kind": "passport", "number": d["passport"], **latin}
            if d.get("passport_issuing_state"):
                passport["issuing_state"] = d["passport_issuing_state"].upper()
            member["documents"] = [passport]
        else:
            member.update(latin)  # as the person writes it in their passport
        members.append(member)
    return members


def unbound_with_one_more(
    formset_class: Any,
    posted: Any,
    prefix: str,
    limit: int,
    form_kwargs: dict[str, Any] | None = None,
) -> Any:
    """The formset again, unvalidated, with what was typed and one more empty form (adding
    a person without JavaScript); at the limit, what was typed and no more. `form_kwargs`
    as the formset's (the hotline's `home`)."""
    count = min(int(posted.get(f"{prefix}-TOTAL_FORMS") or 1), limit)
    initial = [
        {name: posted.get(f"{prefix}-{i}-{name}", "") for name in formset_class.form.base_fields}
        for i in range(count)
    ]
    return formset_class(
        prefix=prefix,
        initial=[*initial, {}] if count < limit else initial,
        form_kwargs=form_kwargs,
    )


# A member's fields that the public and hotline forms ask once, in the household part, for
# the first person (the caller, the contact): a problem with them is shown there.
ASKED_ONCE = {"email": "email", "phones": "phone"}


def place_problems(form: Any, formset: Any, problems: list[Any]) -> None:
    """Show a service's problems (`members.1.documents.0.number`, `location.city`,
    `members.0.email`, ...) on the form fields they belong to; the rest above the form, a
    person's named by their number, never by the technical path."""
    for problem in problems:
        parts = problem.field.split(".")
        if parts[0] == "members" and len(parts) >= 3 and parts[1].isdigit():
            index = int(parts[1])
            if index < len(formset.forms):
                member_form = formset.forms[index]
                name = {"documents": "passport", "nationalities": "nationality"}.get(
                    parts[2], parts[2]
                )
                if parts[2] == "documents" and len(parts) > 4:
                    name = {
                        "issuing_state": "passport_issuing_state",
                        "surname_latin": "surname_latin",
                        "given_names_latin": "given_names_latin",
                    }.get(parts[4], "passport")
                if name in member_form.fields:
                    member_form.add_error(name, problem.message)
                    continue
            if index == 0 and ASKED_ONCE.get(parts[2]) in form.fields:
                form.add_error(ASKED_ONCE[parts[2]], problem.message)
                continue
            form.add_error(None, problem_said(problem.field, problem.message))
            continue
        name = parts[1] if parts[0] == "location" and len(parts) > 1 else parts[0]
        if name in form.fields:
            form.add_error(name, problem.message)
        else:
            form.add_error(None, problem.message)


def problem_said(field: str, message: str) -> str:
    """A service's problem as a form says it above its fields: a member's named by their
    number on the form ("Person 2: …"), never by the technical path."""
    parts = field.split(".")
    if parts[0] == "members" and len(parts) > 1 and parts[1].isdigit():
        return _("Person %(n)d: %(message)s") % {"n": int(parts[1]) + 1, "message": message}
    return message


def form_problems(form: Any, formset: Any) -> dict[str, str]:
    """The errors of a household form and its member forms, keyed like a service's."""
    problems = {f"form.{k}": " ".join(v) for k, v in form.errors.items()}
    for i, errors in enumerate(formset.errors):
        problems.update({f"members.{i}.{k}": " ".join(v) for k, v in dict(errors).items()})
    if formset.non_form_errors():
        problems["members"] = " ".join(formset.non_form_errors())
    return problems or {"__all__": "invalid form"}


class PersonEditForm(forms.Form):
    """An officer's correction of a person (documents and phones in their own formsets)."""

    surname = forms.CharField(label=_("Surname"), max_length=100)
    given_names = forms.CharField(label=_("Given names"), max_length=150)
    patronymic = forms.CharField(label=_("Patronymic"), max_length=100, required=False)
    surname_latin = LatinNameField(
        label=_("Surname (passport Latin)"),
        max_length=100,
        required=False,
        help_text=_("As printed in the passport. Empty: transliterated from the surname."),
    )
    given_names_latin = LatinNameField(
        label=_("Given names (passport Latin)"), max_length=150, required=False
    )
    birth_date = forms.DateField(
        label=_("Birth date"), widget=DATE_INPUT, required=False, error_messages=DAY_ERRORS
    )
    sex = forms.ChoiceField(
        label=_("Sex"),
        choices=[("", "—"), ("F", _("Female")), ("M", _("Male")), ("X", _("Other or unspecified"))],
        required=False,
    )
    nationalities = forms.CharField(
        label=_("Nationalities"),
        max_length=30,
        required=False,
        help_text=_("Two-letter country codes, separated by commas: KZ, RU"),
    )
    iin = forms.CharField(label=_("IIN"), max_length=12, required=False)
    email = forms.EmailField(label=_("Email"), required=False, max_length=254)
    messengers = forms.CharField(
        label=_("Messengers"),
        max_length=600,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One a line: messenger and handle, e.g. telegram @handle"),
    )
    language = forms.ChoiceField(
        label=_("Language"), choices=[("kk", "Қазақша"), ("ru", "Русский"), ("en", "English")]
    )
    eligibility = forms.ChoiceField(label=_("Eligibility"), choices=Eligibility.choices)
    intent = forms.ChoiceField(label=_("Intent"), choices=Intent.choices)
    pregnant = forms.BooleanField(label=_("Pregnant"), required=False)
    medical_need = forms.BooleanField(label=_("Medical need"), required=False)
    reduced_mobility = forms.BooleanField(label=_("Reduced mobility"), required=False)
    disability = forms.BooleanField(label=_("Disability"), required=False)
    unaccompanied_minor = forms.BooleanField(label=_("Unaccompanied minor"), required=False)
    needs_note = forms.CharField(
        label=_("Needs (details)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    country = forms.ChoiceField(label=_("Country they are in"))
    city = forms.TypedChoiceField(label=_("City"), coerce=int, empty_value=None, required=False)
    address = forms.CharField(label=_("Address or hotel"), max_length=300, required=False)
    latitude = forms.FloatField(
        label=_("Latitude"), min_value=-90, max_value=90, required=False, localize=False
    )
    longitude = forms.FloatField(
        label=_("Longitude"), min_value=-180, max_value=180, required=False, localize=False
    )

    def __init__(self, *args: Any, countries: Any, cities: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [(c.code, c.local_name) for c in countries]  # type: ignore[attr-defined]
        self.fields["city"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *[(c.pk, f"{c.local_name} ({c.country.code})") for c in cities],
        ]

    @staticmethod
    def initial_of(person: Any) -> dict[str, Any]:
        values = {
            name: getattr(person, name)
            for name in (
                "surname",
                "given_names",
                "patronymic",
                "surname_latin",
                "given_names_latin",
                "birth_date",
                "sex",
                "iin",
                "email",
                "language",
                "eligibility",
                "intent",
                *FLAGS,
                "needs_note",
                "address",
                "latitude",
                "longitude",
            )
        }
        values["nationalities"] = ", ".join(person.nationalities)
        values["messengers"] = "\n".join(
            f"{k} {v}".strip() for k, v in person.messenger_handles.items()
        )
        values["country"] = person.country.code
        values["city"] = person.city_id
        return values

    def clean_nationalities(self) -> list[str]:
        value = self.cleaned_data.get("nationalities") or ""
        return [c.strip().upper() for c in value.replace(";", ",").split(",") if c.strip()]

    def clean_messengers(self) -> dict[str, str]:
        handles: dict[str, str] = {}
        for line in (self.cleaned_data.get("messengers") or "").splitlines():
            line = line.strip()
            if not line:
                continue
            name, _sep, handle = line.replace(":", " ", 1).partition(" ")
            if not handle.strip():
                raise forms.ValidationError(
                    _("Write the messenger and the handle: telegram @handle")
                )
            handles[name.strip().lower()] = handle.strip()
        return handles

    def payload(self) -> dict[str, Any]:
        """What the officer changed, as `person_update` takes it."""
        d = self.cleaned_data
        out: dict[str, Any] = {}
        for name in self.changed_data:
            value = d.get(name)
            if name == "city":
                out["city_id"] = value
            elif name == "birth_date":
                out[name] = value.isoformat() if value else None
            elif name in ("latitude", "longitude"):
                out[name] = value
            elif value is None:
                out[name] = ""
            else:
                out[name] = value
        if {"latitude", "longitude"} & set(out):
            out.setdefault("latitude", d.get("latitude"))
            out.setdefault("longitude", d.get("longitude"))
        return out


class DocumentEditForm(forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=Document.Kind.choices)
    number = forms.CharField(label=_("Number"), max_length=30, required=False)
    issuing_state = forms.CharField(
        label=_("Issuing state"),
        max_length=3,
        required=False,
        help_text=_("Country code: KZ or KAZ"),
    )
    expiry_date = forms.DateField(
        label=_("Expiry date"), widget=DATE_INPUT, required=False, error_messages=DAY_ERRORS
    )
    surname_latin = LatinNameField(label=_("Surname as printed"), max_length=100, required=False)
    given_names_latin = LatinNameField(
        label=_("Given names as printed"), max_length=150, required=False
    )

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        if d.get("id") and not d.get("number") and not d.get("DELETE"):
            self.add_error("number", _("Enter the number, or tick Remove."))
        return d


class PhoneEditForm(forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    number = forms.CharField(label=_("Phone"), max_length=40, required=False)

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        if d.get("id") and not d.get("number") and not d.get("DELETE"):
            self.add_error("number", _("Enter the number, or tick Remove."))
        return d


# One empty row to add a document or a phone; "+ Add" gives another.
DocumentEditFormSet = forms.formset_factory(
    DocumentEditForm, extra=1, max_num=5, validate_max=True, can_delete=True
)
PhoneEditFormSet = forms.formset_factory(
    PhoneEditForm, extra=1, max_num=5, validate_max=True, can_delete=True
)


def rows_payload(formset: Any, fields: tuple[str, ...]) -> tuple[list[dict[str, Any]], list[int]]:
    """The rows of a documents or phones formset as `person_update` takes them (removed and
    empty rows left out), and the form index of each."""
    rows, index = [], []
    for i, form in enumerate(formset.forms):
        d = form.cleaned_data
        if not d or d.get("DELETE") or not d.get("number"):
            continue
        row: dict[str, Any] = {"id": d["id"]} if d.get("id") else {}
        for name in fields:
            value = d.get(name)
            if hasattr(value, "isoformat"):
                value = value.isoformat()
            if value not in (None, "") or name == "number":
                row[name] = value
        rows.append(row)
        index.append(i)
    return rows, index


def formset_again(formset_class: Any, posted: Any, prefix: str, *, more: bool) -> Any:
    """A documents or phones formset again with what was typed (ticked removals too),
    unvalidated, and its one empty row — with `more`, one more than was sent (the "+ Add"
    buttons, without JavaScript); at the formset's limit, none."""
    count = min(int(posted.get(f"{prefix}-TOTAL_FORMS") or 0), formset_class.max_num)
    names = [*formset_class.form.base_fields, "DELETE"]
    rows = [{name: posted.get(f"{prefix}-{i}-{name}", "") for name in names} for i in range(count)]
    if not more:
        rows = [r for r in rows if r.get("id") or str(r.get("number", "")).strip()]
    return formset_class(prefix=prefix, initial=rows)


class HouseholdMoveForm(forms.Form):
    reference_code = forms.CharField(
        label=_("Reference code of a person in the other household"), max_length=20
    )


class HouseholdAvailableForm(forms.Form):
    available_from = forms.DateTimeField(
        label=_("Available from"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_(
            "The earliest moment the household can set out (the planner plans nothing for it "
            "before then), on the crisis centre's clock. Empty: at once."
        ),
    )
