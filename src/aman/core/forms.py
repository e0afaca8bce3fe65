from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aman.core.models import AuditEntry, Crisis, Mission
from aman.geo.models import Country


class CountryMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.local_name} ({obj.code})"


class CountryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.local_name} ({obj.code})"


MULTI_HELP = _("Hold Ctrl (⌘ on a Mac) to choose several.")


class LocalCountryOrderMixin:
    """Country choices sorted by the name shown in the user's language."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            queryset = getattr(field, "queryset", None)
            if (
                isinstance(field, forms.ModelChoiceField)
                and queryset is not None
                and queryset.model is Country
            ):
                field.queryset = Country.objects.in_local_order()


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, refusing further attempts while an address or a username has
    too many recent failures."""

    throttled = False

    def clean(self) -> dict[str, Any]:
        from aman.core import login_throttle

        username = self.data.get("username", "")
        if self.request is not None and login_throttle.is_blocked(self.request, str(username)):
            self.throttled = True
            raise forms.ValidationError(
                _("Too many failed sign-ins. Wait 15 minutes, or ask a crisis manager."),
                code="throttled",
            )
        return super().clean()


class CrisisForm(LocalCountryOrderMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    code = forms.SlugField(
        label=_("Code"),
        max_length=40,
        required=False,
        help_text=_("Short identifier; made from the name when left empty."),
    )
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    home_country = CountryChoiceField(label=_("Home country"), queryset=Country.objects.all())
    affected_countries = CountryMultipleChoiceField(
        label=_("Affected countries"),
        queryset=Country.objects.all(),
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=MULTI_HELP,
    )
    missions = forms.ModelMultipleChoiceField(
        label=_("Missions involved"),
        queryset=Mission.objects.all(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text=MULTI_HELP,
    )
    retention_days = forms.IntegerField(
        label=_("Retention (days)"),
        min_value=1,
        max_value=3650,
        initial=180,
        help_text=_("Personal data is anonymised this many days after the crisis closes."),
    )
    public_registration = forms.BooleanField(label=_("Public registration open"), required=False)
    hotline_phone = forms.CharField(
        label=_("Hotline phone"),
        max_length=40,
        required=False,
        help_text=_(
            "The number the public pages tell citizens to call while the crisis is open, "
            "with its country code. Empty: the pages name no number."
        ),
    )
    hotline_note = forms.CharField(
        label=_("Hotline note"),
        max_length=200,
        required=False,
        help_text=_("Shown with the number on the public pages, e.g. 24/7."),
    )

    @classmethod
    def initial_for(cls, crisis: Crisis) -> dict[str, Any]:
        return {
            "name": crisis.name,
            "code": crisis.code,
            "description": crisis.description,
            "home_country": crisis.home_country_id,
            "affected_countries": list(crisis.affected_countries.all()),
            "missions": list(crisis.missions.all()),
            "retention_days": crisis.retention_days,
            "public_registration": crisis.public_registration,
            "hotline_phone": crisis.hotline_display,
            "hotline_note": crisis.hotline_note,
        }


class MissionForm(LocalCountryOrderMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Mission.Kind.choices)
    country = CountryChoiceField(label=_("Host country"), queryset=Country.objects.all())
    city = forms.CharField(label=_("City"), max_length=200, required=False)
    area = CountryMultipleChoiceField(
        label=_("Countries covered"),
        queryset=Country.objects.all(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_(
            "Consuls of this mission see people and cases in these countries only. "
            "Empty: the host country."
        ),
    )
    email = forms.EmailField(label=_("Email"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    @classmethod
    def initial_for(cls, mission: Mission) -> dict[str, Any]:
        return {
            "name": mission.name,
            "kind": mission.kind,
            "country": mission.country_id,
            "city": mission.city,
            "area": list(mission.area.all()),
            "email": mission.email,
            "phone": mission.phone,
            "active": mission.active,
        }


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=_("Actor"), required=False)
    action = forms.ChoiceField(
        label=_("Action"),
        choices=[("", _("any")), *AuditEntry.Action.choices],
        required=False,
    )
    object_type = forms.CharField(label=_("Object type"), required=False)
    object_id = forms.CharField(label=_("Object id"), required=False)
    crisis = forms.ModelChoiceField(
        label=_("Crisis"), queryset=Crisis.objects.all(), required=False
    )
    since = forms.DateField(
        label=pgettext_lazy("date range", "From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = forms.DateField(
        label=pgettext_lazy("date range", "To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("What the token is for, e.g. the hotline dialler."),
    )
