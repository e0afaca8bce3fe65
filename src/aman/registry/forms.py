from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aman.registry.models import Channel, Eligibility, Intent
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
    intent = forms.ChoiceField(label=_("Intent"), choices=_any(Intent.choices), required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=_any(Channel.choices), required=False)
    eligibility = forms.ChoiceField(
        label=_("Eligibility"), choices=_any(Eligibility.choices), required=False
    )
    mission = forms.IntegerField(widget=forms.HiddenInput, required=False)


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=Status.choices)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
