from django import forms
from django.utils.translation import gettext_lazy as _

from aman.geo.models import Place, PlaceStatus


class PlaceStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=PlaceStatus.choices)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)
    effective_at = forms.DateTimeField(
        label=_("Since"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Empty: now."),
    )


class CrossingForm(forms.Form):
    hours = forms.CharField(
        label=_("Opening hours"), max_length=11, help_text=_("24h or HH:MM-HH:MM")
    )
    daily_capacity = forms.IntegerField(label=_("People per day"), min_value=0, max_value=100000)
    transit_permit = forms.ChoiceField(label=_("Transit permit"), choices=Place.Permit.choices)


class PlaceSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("any")), *Place.Kind.choices], required=False
    )
    country = forms.CharField(label=_("Country code"), required=False, max_length=2)
