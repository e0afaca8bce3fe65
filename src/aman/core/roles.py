"""Roles and what each may do. `User.has_cap` reads ROLE_CAPS; everything else asks it
(through `aman.core.access`)."""

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

StrOrPromise = str | Promise


class Role(models.TextChoices):
    CRISIS_MANAGER = "crisis_manager", _("Crisis manager")
    OPERATOR = "operator", _("Hotline operator")
    CONSUL = "consul", _("Consul")
    LOGISTICS = "logistics", _("Logistics officer")
    DUTY_OFFICER = "duty_officer", _("Airport or border duty officer")
    PARTNER_LIAISON = "partner_liaison", _("Partner liaison")
    OBSERVER = "observer", _("Observer")


class Cap(models.TextChoices):
    """Capabilities. A view or endpoint asks for one; roles grant sets of them."""

    CRISIS_MANAGE = "crisis.manage", _("Open, edit and close crises; manage missions")
    AUDIT_VIEW = "audit.view", _("Browse the audit log")
    GEO_STATUS = "geo.status", _("Change the status of crossings and airports")
    PERSONAL_DATA = "personal_data", _("See personal data (scoped by mission for consuls)")
    API_TOKENS = "api.tokens", _("Create API tokens")
    REGISTER = "registry.write", _("Register people and change their records")
    MERGE = (
        "dedup.decide",
        _(
            "Decide on possible duplicates: merge records, undo merges, say two records are "
            "different people, search the whole crisis for duplicates"
        ),
    )
    TRANSPORT = "transport.manage", _("Create legs, book people on them, export manifests")
    BOARDING = "transport.board", _("Check people in and board them at the gate")
    SHELTER = "shelter.manage", _("Contract hotel rooms, house households, keep the cost ledger")
    PLAN = "planning.run", _("Run the planner and what-ifs, review plans, lock households")
    PLAN_PUBLISH = "planning.publish", _("Publish a plan: it becomes bookings and stays")


ROLE_CAPS: dict[str, frozenset[str]] = {
    Role.CRISIS_MANAGER: frozenset(
        {
            Cap.CRISIS_MANAGE,
            Cap.AUDIT_VIEW,
            Cap.GEO_STATUS,
            Cap.PERSONAL_DATA,
            Cap.API_TOKENS,
            Cap.REGISTER,
            Cap.MERGE,
            Cap.TRANSPORT,
            Cap.BOARDING,
            Cap.SHELTER,
            Cap.PLAN,
            Cap.PLAN_PUBLISH,
        }
    ),
    Role.OPERATOR: frozenset({Cap.PERSONAL_DATA, Cap.API_TOKENS, Cap.REGISTER, Cap.MERGE}),
    Role.CONSUL: frozenset({Cap.PERSONAL_DATA, Cap.API_TOKENS, Cap.REGISTER, Cap.MERGE}),
    Role.LOGISTICS: frozenset(
        {
            Cap.GEO_STATUS,
            Cap.PERSONAL_DATA,
            Cap.API_TOKENS,
            Cap.TRANSPORT,
            Cap.BOARDING,
            Cap.SHELTER,
            Cap.PLAN,
            Cap.PLAN_PUBLISH,
        }
    ),
    Role.DUTY_OFFICER: frozenset({Cap.PERSONAL_DATA, Cap.API_TOKENS, Cap.REGISTER, Cap.BOARDING}),
    Role.PARTNER_LIAISON: frozenset({Cap.API_TOKENS}),
    Role.OBSERVER: frozenset(),
}

ROLE_DESCRIPTIONS: dict[str, StrOrPromise] = {
    Role.CRISIS_MANAGER: _("Everything in a crisis: opens and closes it, signs off plans."),
    Role.OPERATOR: _("Registers people by phone, finds and merges records."),
    Role.CONSUL: _("Works the people and cases of their own mission's countries only."),
    Role.LOGISTICS: _("Legs, crossings, hotels; runs the planner."),
    Role.DUTY_OFFICER: _("Checks people in and boards them at airports and borders."),
    Role.PARTNER_LIAISON: _("Exchanges seats and manifests with partner ministries."),
    Role.OBSERVER: _("Aggregates only, no personal data."),
}
