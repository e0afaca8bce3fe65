"""A person's journey: the statuses and which transitions make sense."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    VERIFIED = "verified", _("Verified")
    ASSIGNED = "assigned", _("Assigned to an itinerary")
    AT_ASSEMBLY_POINT = "at_assembly_point", _("At the assembly point")
    BOARDED = "boarded", _("Boarded")
    ACCOMMODATED = "accommodated", _("Accommodated")
    CROSSED_BORDER = "crossed_border", _("Out of the affected country (safe)")
    ARRIVED_HOME = "arrived_home", _("Arrived home")
    DECLINED = "declined", _("Declined the offer")
    STAYING = "staying", _("Staying")
    WITHDRAWN = "withdrawn", _("Registration withdrawn")


S = Status
TRANSITIONS: dict[str, frozenset[str]] = {
    S.REGISTERED: frozenset(
        {
            S.VERIFIED,
            S.ASSIGNED,
            S.ACCOMMODATED,
            S.CROSSED_BORDER,
            S.ARRIVED_HOME,
            S.DECLINED,
            S.STAYING,
            S.WITHDRAWN,
        }
    ),
    S.VERIFIED: frozenset(
        {
            S.ASSIGNED,
            S.ACCOMMODATED,
            S.CROSSED_BORDER,
            S.ARRIVED_HOME,
            S.DECLINED,
            S.STAYING,
            S.WITHDRAWN,
        }
    ),
    S.ASSIGNED: frozenset(
        {
            S.VERIFIED,
            S.AT_ASSEMBLY_POINT,
            S.BOARDED,
            S.ACCOMMODATED,
            S.CROSSED_BORDER,
            S.ARRIVED_HOME,
            S.DECLINED,
            S.WITHDRAWN,
        }
    ),
    S.AT_ASSEMBLY_POINT: frozenset({S.ASSIGNED, S.BOARDED, S.CROSSED_BORDER, S.DECLINED}),
    S.BOARDED: frozenset({S.ASSIGNED, S.ACCOMMODATED, S.CROSSED_BORDER, S.ARRIVED_HOME}),
    S.ACCOMMODATED: frozenset(
        {
            S.VERIFIED,  # left the hotel, waiting again (no seat yet)
            S.ASSIGNED,
            S.AT_ASSEMBLY_POINT,
            S.BOARDED,
            S.CROSSED_BORDER,
            S.ARRIVED_HOME,
            S.DECLINED,
            S.STAYING,
            S.WITHDRAWN,
        }
    ),
    S.CROSSED_BORDER: frozenset({S.ACCOMMODATED, S.BOARDED, S.ASSIGNED, S.ARRIVED_HOME}),
    S.ARRIVED_HOME: frozenset(),
    S.DECLINED: frozenset({S.REGISTERED, S.VERIFIED, S.STAYING, S.WITHDRAWN}),
    S.STAYING: frozenset({S.REGISTERED, S.VERIFIED, S.WITHDRAWN}),
    S.WITHDRAWN: frozenset({S.REGISTERED}),
}
SAFE = frozenset({S.CROSSED_BORDER, S.ARRIVED_HOME})
