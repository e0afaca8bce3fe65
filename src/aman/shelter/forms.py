"""Forms of the shelter pages. They only carry what was typed: the services validate (one set
of rules for the pages and the API) and the views place their errors on the forms
(`aman.transport.forms.service_errors`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aman.shelter.models import Meals, Payer, RoomBlock, RoomType, TourOperator

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def operator_choices() -> list[tuple[str, str]]:
    operators = TourOperator.objects.values_list("pk", "name")
    return [("", "—")] + [(str(pk), name) for pk, name in operators]


class HotelForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    country = forms.CharField(
        label=_("Country"),
        max_length=2,
        help_text=_("ISO code: AZ, TR, AE"),
        widget=forms.TextInput(attrs={"list": "countries", "autocomplete": "off", "size": 4}),
    )
    city = forms.CharField(
        label=_("City"),
        max_length=60,
        required=False,
        help_text=_("Place id or code from the reference data (optional; sets the hotel's clock)."),
        widget=forms.TextInput(attrs={"list": "cities", "autocomplete": "off"}),
    )
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    latitude = forms.CharField(label=_("Latitude"), max_length=20, required=False)
    longitude = forms.CharField(label=_("Longitude"), max_length=20, required=False)
    contact = forms.CharField(label=_("Contact person"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.CharField(label=_("Email"), max_length=254, required=False)
    tour_operator = forms.ChoiceField(label=_("Partner tour operator"), required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tour_operator"].choices = operator_choices()  # type: ignore[attr-defined]

    @staticmethod
    def initial_for(hotel: Any) -> dict[str, Any]:
        place = hotel.place
        return {
            "name": place.name,
            "country": place.country.code if place.country_id else "",
            "city": hotel.city.code or str(hotel.city_id) if hotel.city_id else "",
            "address": hotel.address,
            "latitude": "" if place.latitude is None else place.latitude,
            "longitude": "" if place.longitude is None else place.longitude,
            "contact": hotel.contact,
            "phone": hotel.phone,
            "email": hotel.email,
            "tour_operator": str(hotel.tour_operator_id or ""),
            "notes": hotel.notes,
        }


class BlockForm(forms.Form):
    room_type = forms.ChoiceField(label=_("Room type"), choices=RoomType.choices)
    beds = forms.CharField(
        label=_("Beds per room"),
        required=False,
        help_text=_("Blank: the usual number for the room type."),
        widget=forms.NumberInput(attrs={"min": 1, "max": 12}),
    )
    rooms = forms.CharField(
        label=_("Rooms"), widget=forms.NumberInput(attrs={"min": 1, "max": 5000})
    )
    rooms_from = forms.CharField(
        label=_("Rooms from the night of"),
        required=False,
        widget=DATE,
        help_text=_(
            "A new number of rooms applies from this night to the last night; the nights "
            "before keep the rooms they had. Blank: from tonight (the hotel's), or from the "
            "first night when the block starts later."
        ),
    )
    first_night = forms.CharField(label=_("First night"), widget=DATE)
    last_night = forms.CharField(label=_("Last night"), widget=DATE)
    rate = forms.CharField(
        label=_("Rate per room and night"),
        max_length=20,
        help_text=_(
            "A new rate or currency prices the nights booked from then on; the nights booked "
            "already keep the price they were booked at."
        ),
    )
    currency = forms.CharField(
        label=_("Currency"), max_length=3, help_text=_("ISO code: USD, AZN, TRY")
    )
    meals = forms.ChoiceField(label=_("Meals"), choices=Meals.choices)
    payer = forms.ChoiceField(label=_("Who pays"), choices=Payer.choices)
    tour_operator = forms.ChoiceField(
        label=_("Through tour operator"),
        required=False,
        help_text=_("Required when a tour operator pays."),
    )
    contract_ref = forms.CharField(label=_("Contract reference"), max_length=100, required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, change: bool = False, **kwargs: Any) -> None:
        """`change`: the form changes a block (a new block has no night to change from)."""
        super().__init__(*args, **kwargs)
        self.fields["tour_operator"].choices = operator_choices()  # type: ignore[attr-defined]
        if not change:
            del self.fields["rooms_from"]

    @staticmethod
    def initial_for(block: RoomBlock) -> dict[str, Any]:
        return {
            "room_type": block.room_type,
            "beds": block.beds,
            "rooms": block.rooms,
            "first_night": block.first_night.isoformat(),
            "last_night": block.last_night.isoformat(),
            "rate": block.rate,
            "currency": block.currency,
            "meals": block.meals,
            "payer": block.payer,
            "tour_operator": str(block.tour_operator_id or ""),
            "contract_ref": block.contract_ref,
            "notes": block.notes,
        }


class TourOperatorForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    contact = forms.CharField(label=_("Contact person"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.CharField(label=_("Email"), max_length=254, required=False)
    import_source = forms.ChoiceField(
        label=_("Its lists in the registry"),
        required=False,
        help_text=_("The import source its lists of tourists come under."),
    )

    def __init__(self, *args: Any, operator: TourOperator | None = None, **kwargs: Any) -> None:
        """`operator`: the tour operator being changed (its own lists stay on offer)."""
        from django.db.models import Q

        from aman.registry.models import ImportSource

        super().__init__(*args, **kwargs)
        offered = Q(kind=ImportSource.Kind.TOUR_OPERATOR, tour_operator__isnull=True)
        if operator is not None and operator.import_source_id:
            offered |= Q(pk=operator.import_source_id)
        sources = ImportSource.objects.filter(offered).values_list("name", flat=True)
        self.fields["import_source"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (name, name) for name in sources
        ]

    @staticmethod
    def initial_for(operator: TourOperator) -> dict[str, Any]:
        return {
            "name": operator.name,
            "contact": operator.contact,
            "phone": operator.phone,
            "email": operator.email,
            "import_source": operator.import_source.name if operator.import_source else "",
        }


class ManualHouseForm(forms.Form):
    """One household in a hotel the officer chooses (the rooms that suit it best there)."""

    household = forms.CharField(
        label=_("Household"),
        max_length=40,
        help_text=_("Household number (H12) or a member's reference code."),
    )
    people = forms.CharField(
        label=_("Only these members"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "K7M2-QX9P"}),
        help_text=_("Reference codes, when the household is split; blank: everyone."),
    )
    hotel = forms.ChoiceField(label=_("Hotel"))
    first_night = forms.CharField(label=_("First night"), widget=DATE)
    last_night = forms.CharField(label=_("Last night"), widget=DATE)
    split_reason = forms.CharField(
        label=_("Reason for splitting the household"), max_length=300, required=False
    )
    payer = forms.ChoiceField(
        label=_("Who pays"),
        required=False,
        help_text=_("Blank: the block's payer, or the tourists' own tour operator."),
    )

    def __init__(self, *args: Any, hotels: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["hotel"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (str(h.pk), str(h)) for h in hotels
        ]
        self.fields["payer"].choices = [("", "—"), *Payer.choices]  # type: ignore[attr-defined]


class RoomsForm(ManualHouseForm):
    """One household in rooms the officer chooses: `room_<k>` is the block of room k, and
    `guest_<person id>` the room each member sleeps in (blank: no room, which splits the
    household and needs the reason). What was typed on the first step travels hidden."""

    HIDDEN = ("household", "people", "hotel", "first_night", "last_night")

    def __init__(
        self,
        *args: Any,
        members: list[Any],
        blocks: list[tuple[RoomBlock, int]],
        first_night: date,
        **kwargs: Any,
    ) -> None:
        """`members`: the people who may be housed; `blocks`: the hotel's blocks with their
        free rooms. A full block is offered only when it is the one chosen already, so that
        its refusal is shown on its field."""
        super().__init__(*args, **kwargs)
        for name in self.HIDDEN:
            self.fields[name].widget = forms.HiddenInput()
        self.members = members
        self.first = first_night
        self.slots = list(range(1, len(members) + 1))
        chosen = {self.data.get(f"room_{k}") for k in self.slots} if self.is_bound else set()
        for k in self.slots:
            self.fields[f"room_{k}"] = forms.ChoiceField(
                label=_("Room %(n)d") % {"n": k},
                required=False,
                choices=[("", "—")]
                + [
                    (str(b.pk), block_label(b, free))
                    for b, free in blocks
                    if free > 0 or str(b.pk) in chosen
                ],
            )
        rooms = [("", _("no room"))] + [(str(k), str(k)) for k in self.slots]
        for person in members:
            self.fields[f"guest_{person.pk}"] = forms.ChoiceField(
                label=f"{person.surname} {person.given_names}",
                required=False,
                choices=rooms,
            )

    def room_fields(self) -> list[forms.BoundField]:
        return [self[f"room_{k}"] for k in self.slots]

    def guest_fields(self) -> list[tuple[Any, int | None, forms.BoundField]]:
        """Each member with their age on the first night and their field."""
        return [(p, p.age_on(self.first), self[f"guest_{p.pk}"]) for p in self.members]


def block_label(block: RoomBlock, free: int) -> str:
    return _("%(type)s · beds: %(beds)d · free rooms: %(free)d · %(rate)s %(currency)s a night") % {
        "type": block.get_room_type_display(),
        "beds": block.beds,
        "free": free,
        "rate": block.rate,
        "currency": block.currency,
    }


def split_codes(text: str) -> list[str]:
    import re

    return [c for c in re.split(r"[\s,;]+", text or "") if c]
