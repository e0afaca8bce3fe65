"""Forms of the transport pages. They only carry what was typed: the services validate
(one set of rules for the pages, the API and imports) and the views place their errors."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aman.core.errors import ApplicationError
from aman.transport.models import Mode

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class LegForm(forms.Form):
    mode = forms.ChoiceField(label=_("Mode"), choices=Mode.choices)
    origin = forms.CharField(
        label=_("From"),
        max_length=60,
        help_text=_(
            "Airport code (ALA, GYD), crossing id (IR-AZ-ASTARA) or place id (reference data)."
        ),
        widget=forms.TextInput(attrs={"list": "places", "autocomplete": "off"}),
    )
    destination = forms.CharField(
        label=_("To"),
        max_length=60,
        widget=forms.TextInput(attrs={"list": "places", "autocomplete": "off"}),
    )
    departure_planned = forms.CharField(
        label=_("Planned departure"),
        widget=DATETIME,
        help_text=_("Local time at the place of departure."),
    )
    arrival_planned = forms.CharField(
        label=_("Planned arrival"),
        required=False,
        widget=DATETIME,
        help_text=_("Local time at the destination."),
    )
    capacity = forms.CharField(
        label=_("Seats"), widget=forms.NumberInput(attrs={"min": 1, "max": 2000})
    )
    carrier = forms.CharField(label=_("Carrier"), max_length=200, required=False)
    number = forms.CharField(label=_("Vehicle or flight number"), max_length=40, required=False)
    contact = forms.CharField(label=_("Contact on board"), max_length=200, required=False)
    cost = forms.CharField(label=_("Cost"), max_length=20, required=False)
    currency = forms.CharField(
        label=_("Currency"), max_length=3, required=False, help_text=_("ISO code: KZT, USD, AZN")
    )
    fare = forms.CharField(
        label=_("Economy fare per person"),
        max_length=20,
        required=False,
        help_text=_("The amount of an undertaking to repay, where the crisis asks for one."),
    )
    escort = forms.BooleanField(
        label=_("Medical escort on board"),
        required=False,
        help_text=_("People who need a medical escort are planned only on legs that have one."),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    @staticmethod
    def initial_for(leg: Any) -> dict[str, Any]:
        def local(value: Any) -> str:
            return value.strftime("%Y-%m-%dT%H:%M") if value else ""

        return {
            "mode": leg.mode,
            "origin": leg.origin.iata or leg.origin.code
            if leg.origin.kind in ("airport", "crossing")
            else str(leg.origin_id),
            "destination": leg.destination.iata or leg.destination.code
            if leg.destination.kind in ("airport", "crossing")
            else str(leg.destination_id),
            "departure_planned": local(leg.departure_local),
            "arrival_planned": local(leg.arrival_local),
            "capacity": leg.capacity,
            "carrier": leg.carrier,
            "number": leg.number,
            "contact": leg.contact,
            "cost": leg.cost if leg.cost is not None else "",
            "currency": leg.currency,
            "fare": leg.fare if leg.fare is not None else "",
            "escort": leg.escort,
            "notes": leg.notes,
        }


def _local(value: Any) -> str:
    return value.strftime("%Y-%m-%dT%H:%M") if value else ""


class ActualTimesForm(forms.Form):
    """A departed or arrived leg: when it really departed and arrived, to correct."""

    departure_actual = forms.CharField(
        label=_("Actual departure"),
        widget=DATETIME,
        help_text=_("Local time at the place of departure."),
    )
    arrival_actual = forms.CharField(
        label=_("Actual arrival"),
        widget=DATETIME,
        help_text=_("Local time at the destination."),
    )

    def __init__(self, *args: Any, leg: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "departure_actual": _local(leg.departure_actual_local),
                "arrival_actual": _local(leg.arrival_actual_local),
            },
        )
        super().__init__(*args, **kwargs)
        if leg.status != "arrived":
            del self.fields["arrival_actual"]


class BookForm(forms.Form):
    people = forms.CharField(
        label=_("Reference codes"),
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "K7M2-QX9P"}),
        help_text=_(
            "One or more, separated by spaces, commas or lines: every member of a household "
            "who travels, or give the reason for splitting it."
        ),
    )
    split_reason = forms.CharField(
        label=_("Reason for splitting a household"),
        max_length=300,
        required=False,
        help_text=_("Only when some members of a household must stay behind."),
    )

    def codes(self) -> list[str]:
        import re

        return [c for c in re.split(r"[\s,;]+", self.cleaned_data["people"]) if c]


class LegImportForm(forms.Form):
    file = forms.FileField(label=_("CSV or XLSX file"))


def service_errors(form: forms.Form, exc: ApplicationError) -> None:
    """A service's refusal shown on the form: on the fields it names, else above it."""
    named = exc.extra.get("errors") if isinstance(exc.extra.get("errors"), dict) else None
    if not named:
        form.add_error(None, exc.message)
        return
    for name, problems in named.items():
        for problem in problems:
            form.add_error(name if name in form.fields else None, str(problem))
