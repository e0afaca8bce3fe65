"""The public forms: small, no JavaScript needed, every field optional that can be."""

from __future__ import annotations

import copy
import secrets
from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aman.core.models import Crisis
from aman.geo.models import Country
from aman.public.crises import open_crises
from aman.registry.forms import (
    DATE_INPUT,
    DAY_ERRORS,
    CountryNameField,
    LatinNameField,
    check_citizenship,
    country_local_names,
)
from aman.registry.models import Eligibility, Intent, Sex

DATE = DATE_INPUT


class ListedCrisisField(forms.ModelChoiceField):
    """A choice among the crises the form was given, found and listed without asking the
    database again (the public form is the busiest page of a surge)."""

    listed: dict[str, Crisis] = {}  # set per form by `list`

    def list(self, crises: list[Crisis]) -> None:
        self.listed = {str(c.pk): c for c in crises}
        self.widget.choices = [(str(c.pk), str(c)) for c in crises]

    def to_python(self, value: Any) -> Crisis | None:
        if value in self.empty_values:
            return None
        found = self.listed.get(str(value))
        if found is None:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return found


class RegistrationForm(forms.Form):
    crisis = ListedCrisisField(
        label=_("Where are you?"), queryset=Crisis.objects.none(), empty_label=None
    )
    country = forms.ChoiceField(label=_("Country you are in now"))
    city = forms.CharField(label=_("City"), max_length=100)
    address = forms.CharField(
        label=_("Address or hotel"),
        max_length=300,
        required=False,
        help_text=_("Where the embassy can find you."),
    )
    phone = forms.CharField(
        label=_("Your phone number"),
        max_length=40,
        required=False,
        help_text=_(
            "With the country code, e.g. +7 701 123 45 67. WhatsApp or Telegram if you have them."
        ),
    )
    email = forms.EmailField(label=_("Email"), required=False, max_length=254)
    intent = forms.ChoiceField(
        label=_("Do you want to leave?"),
        choices=Intent.choices,
        initial=Intent.LEAVE,
        widget=forms.RadioSelect,
    )
    consent = forms.BooleanField(
        label=_(
            "I agree that the Ministry of Foreign Affairs processes this personal data to help "
            "me and the people I register, and shares what is needed with carriers, hotels "
            "and partner ministries for our evacuation."
        ),
    )
    # Left empty by people; filled by bots that fill every field.
    website = forms.CharField(
        required=False,
        label="Website",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    form_token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, crises: list[Crisis], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["crisis"].list(crises)  # type: ignore[attr-defined]
        if len(crises) == 1:
            self.fields["crisis"].widget = forms.HiddenInput()
            self.fields["crisis"].initial = crises[0].pk
        countries = sorted(
            {c for crisis in crises for c in crisis.near_countries},  # type: ignore[attr-defined]
            key=lambda c: c.local_name,
        )
        self.fields["country"].choices = [("", "—")] + [(c.code, c.local_name) for c in countries]  # type: ignore[attr-defined]
        self.fields["form_token"].initial = secrets.token_urlsafe(16)

    def citizenships(self) -> list[str]:
        """The names the members' citizenship is chosen from (one list for the page)."""
        return country_local_names()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("phone") and not data.get("email"):
            raise forms.ValidationError(
                _("Give a phone number or an email so that we can reach you.")
            )
        return data


def home_countries() -> list[Country]:
    """The home countries of the crises open to the public form: the citizenship a citizen
    holds (one, in practice: the Ministry's)."""
    return list({c.home_country_id: c.home_country for c in open_crises()}.values())


def _home_country_name() -> str:
    """The citizenship a person is given on a blank form: the home country's name."""
    homes = home_countries()
    return homes[0].local_name if homes else ""


class MemberForm(forms.Form):
    surname = forms.CharField(label=_("Surname"), max_length=100)
    given_names = forms.CharField(label=_("Given names"), max_length=150)
    birth_date = forms.DateField(label=_("Birth date"), widget=DATE, error_messages=DAY_ERRORS)
    sex = forms.ChoiceField(label=_("Sex"), choices=[("", "—"), *Sex.choices], required=False)
    # Not required: a form sent without them (an older page) is a citizen's.
    eligibility = forms.ChoiceField(
        label=_("Eligibility"),
        choices=Eligibility.choices,
        initial=Eligibility.CITIZEN,
        required=False,
    )
    nationality = CountryNameField(
        label=_("Citizenship"), max_length=100, required=False, initial=_home_country_name
    )
    passport = forms.CharField(label=_("Passport number"), max_length=30, required=False)
    surname_latin = LatinNameField(
        label=_("Surname as in the passport (Latin letters)"), max_length=100, required=False
    )
    given_names_latin = LatinNameField(
        label=_("Given names as in the passport (Latin letters)"),
        max_length=150,
        required=False,
        help_text=_("Only if your passport spells your name differently."),
    )
    pregnant = forms.BooleanField(label=_("Pregnant"), required=False)
    medical_need = forms.BooleanField(label=_("Needs medical care or medicines"), required=False)
    reduced_mobility = forms.BooleanField(label=_("Cannot walk far"), required=False)
    disability = forms.BooleanField(label=_("Has a disability"), required=False)
    unaccompanied_minor = forms.BooleanField(
        label=_("A child without a parent or guardian here"), required=False
    )
    needs_note = forms.CharField(label=_("What help is needed?"), max_length=500, required=False)

    def clean_birth_date(self) -> Any:
        value = self.cleaned_data.get("birth_date")
        if value is not None and not date(1900, 1, 1) <= value <= timezone.localdate():
            raise forms.ValidationError(_("Enter a birth date between 1900 and today."))
        return value

    def clean(self) -> dict[str, Any]:
        """A citizen holds the home country's citizenship, a family member of a citizen or
        a partner-state national another one (or none given)."""
        data = super().clean() or {}
        check_citizenship(self, home_countries())
        return data

    # Fields that come filled in on a blank person: sent as they came, they type no one.
    PREFILLED = ("eligibility", "nationality")

    def has_changed(self) -> bool:
        """Whether anything was typed for this person (the formset asks it of every form
        to count the empty ones): but for the prefilled ones (PREFILLED) no field has an
        initial value, so any non-blank value sent is a change — without parsing every
        field a second time as Django does."""
        if not self.is_bound:
            return False
        return any(
            str(self.data.get(self.add_prefix(name), "")).strip()
            for name in self.fields
            if name not in self.PREFILLED
        )


class _SharedFields(dict[str, forms.Field]):
    """A form's declared fields, shared by its instances instead of deep-copied for each
    (Django copies them all so that `__init__` may change any), but for those named as
    changed per instance. A household of four is five forms a request; the copies were
    the public form's largest single cost after rendering."""

    def __init__(self, fields: dict[str, forms.Field], changed: tuple[str, ...] = ()) -> None:
        super().__init__(fields)
        self.changed = changed

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, forms.Field]:
        out = dict(self)
        for name in self.changed:
            out[name] = copy.deepcopy(out[name], memo)
        return out


RegistrationForm.base_fields = _SharedFields(
    RegistrationForm.base_fields, changed=("crisis", "country", "form_token")
)
MemberForm.base_fields = _SharedFields(MemberForm.base_fields)

MemberFormSet = forms.formset_factory(
    MemberForm, extra=0, min_num=1, max_num=10, validate_min=True, validate_max=True
)


class LookupForm(forms.Form):
    reference_code = forms.CharField(label=_("Reference code"), max_length=20)
    birth_date = forms.DateField(label=_("Birth date"), widget=DATE, error_messages=DAY_ERRORS)


class SelfUpdateForm(forms.Form):
    """The status page's update: every field may be left as it is. The country comes chosen
    as it is; an empty city and address change nothing (only an address keeps the city),
    but another country with no city leaves no city of the old one; no answer to the intent
    question keeps the answer given before."""

    country = forms.ChoiceField(label=_("Country you are in now"), required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    address = forms.CharField(label=_("Address or hotel"), max_length=300, required=False)
    household = forms.BooleanField(
        label=_("This is where my whole household is"),
        required=False,
        initial=True,
        help_text=_("The new city or address is recorded for everyone registered with you."),
    )
    phone = forms.CharField(label=_("New phone number"), max_length=40, required=False)
    email = forms.EmailField(label=_("Email"), required=False, max_length=254)
    # Messenger handles: one sent replaces the one given before for that messenger; the
    # page never shows them (as it never shows the phones), an empty field changes nothing.
    telegram = forms.CharField(
        label="Telegram",  # a name, the same in every language
        max_length=100,
        required=False,
        help_text=_("Your username (@name) or number. Empty: as before."),
    )
    whatsapp = forms.CharField(
        label="WhatsApp",  # a name, the same in every language
        max_length=100,
        required=False,
        help_text=_("The number WhatsApp runs on, with the country code. Empty: as before."),
    )
    intent = forms.ChoiceField(
        label=_("Do you want to leave?"),
        choices=Intent.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    pregnant = forms.BooleanField(label=_("Pregnant"), required=False)
    medical_need = forms.BooleanField(label=_("Needs medical care or medicines"), required=False)
    reduced_mobility = forms.BooleanField(label=_("Cannot walk far"), required=False)
    disability = forms.BooleanField(label=_("Has a disability"), required=False)
    unaccompanied_minor = forms.BooleanField(
        label=_("A child without a parent or guardian here"), required=False
    )
    needs_note = forms.CharField(label=_("What help is needed?"), max_length=500, required=False)

    def _handle(self, messenger: str) -> str:
        """A handle as the registry keeps it (a number without its spaces), or the reason
        it cannot be one (`registry.schemas.messenger_handles`)."""
        from aman.registry.schemas import messenger_handles

        value = self.cleaned_data.get(messenger) or ""
        try:
            return messenger_handles({messenger: value}).get(messenger, "")
        except ValueError:
            raise forms.ValidationError(
                _("One word, without spaces: a username such as @name, or a phone number.")
            ) from None

    def clean_telegram(self) -> str:
        return self._handle("telegram")

    def clean_whatsapp(self) -> str:
        return self._handle("whatsapp")

    def __init__(
        self,
        *args: Any,
        countries: list[Country],
        with_household: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [(c.code, c.local_name) for c in countries]  # type: ignore[attr-defined]
        if not with_household:
            del self.fields["household"]
