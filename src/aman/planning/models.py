"""Plans (planner runs), what a published plan changed for each household, officers' locks,
bus pools (buses available but trips not fixed), and the crisis's planning policy."""

from __future__ import annotations

from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


def percent(share: float | None) -> str:
    """A share as a percentage for people (0.00091 → "0.09 %"), or "" when unknown."""
    return "" if share is None else f"{share * 100:.2f} %"


class PlanStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    FAILED = "failed", _("Failed")
    DRAFT = "draft", _("Draft: to review")
    PUBLISHING = "publishing", _("Being published")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded")
    DISCARDED = "discarded", _("Discarded")


class Plan(models.Model):
    """One run of the planner: its inputs as they were (the scenario), its result (the
    plan), and its life: running → draft → published → superseded (or failed, discarded).
    A what-if runs on a changed copy of the inputs and is never published."""

    class Kind(models.TextChoices):
        PLAN = "plan", _("Plan")
        WHAT_IF = "what_if", _("What-if")

    crisis = models.ForeignKey("core.Crisis", on_delete=models.PROTECT, related_name="plans")
    number = models.PositiveIntegerField(_("number"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PLAN)
    status = models.CharField(
        _("status"), max_length=12, choices=PlanStatus.choices, default=PlanStatus.RUNNING
    )
    title = models.CharField(_("title"), max_length=300, blank=True)
    # What-if changes as given (see services.WHAT_IF_CHANGES), applied to the scenario.
    changes = models.JSONField(_("changes"), default=list, blank=True)
    method = models.CharField(_("method"), max_length=10, default="auto")
    days = models.PositiveSmallIntegerField(_("days planned"), default=7)
    # The published plan when this one was started: what its diff is against.
    base = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    scenario = models.JSONField(_("inputs"), default=dict)
    input_warnings = models.JSONField(default=list, blank=True)
    result = models.JSONField(_("plan"), null=True, blank=True)
    progress = models.CharField(_("progress"), max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    # Why it failed or could not be published, as a code and its parameters ({"code", ...};
    # services.PLAN_ERRORS), put in words in the reader's language; empty on plans of
    # before the codes, whose `error` is the text.
    error_detail = models.JSONField(default=dict, blank=True)
    people = models.PositiveIntegerField(_("people"), null=True, blank=True)
    people_safe = models.PositiveIntegerField(_("people safe"), null=True, blank=True)
    unassigned = models.PositiveIntegerField(_("households without an itinerary"), null=True)
    gap = models.FloatField(_("gap to the LP bound"), null=True, blank=True)
    seconds = models.FloatField(_("solve time (s)"), null=True, blank=True)
    created_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    published_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        constraints = [
            models.UniqueConstraint(fields=["crisis", "number"], name="plan_number_unique"),
            models.UniqueConstraint(
                fields=["crisis"],
                condition=models.Q(status="published"),
                name="plan_one_published",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="what_if", status__in=("published", "superseded")),
                name="plan_what_if_not_published",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("plan_detail", args=[self.pk])

    @property
    def title_text(self) -> str:
        """A what-if's changes in words, in the reader's language (services.plan_title)."""
        from aman.planning.services import plan_title

        return plan_title(self)

    @property
    def gap_percent(self) -> str:
        return percent(self.gap)

    @property
    def summary(self) -> dict[str, Any]:
        return (self.result or {}).get("summary") or {}


class PlanChange(models.Model):
    """What publishing a plan changed for one household, to be told to it (the sending
    comes with messaging)."""

    class Kind(models.TextChoices):
        NEW = "new", _("New itinerary")
        CHANGED = "changed", _("Itinerary changed")
        CANCELLED = "cancelled", _("Lost its itinerary")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="household_changes")
    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="plan_changes"
    )
    kind = models.CharField(_("change"), max_length=10, choices=Kind.choices)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Cause(models.TextChoices):
        DISPLACED = "displaced", _("its itinerary is no longer possible")
        REASSIGNED = "reassigned", _("moved to bring others out")

    # Why it has no itinerary now (the plan's reason: code, place or crossing).
    reason = models.JSONField(_("reason"), null=True, blank=True)
    # Why a told itinerary changed or was lost (empty for a new one).
    cause = models.CharField(_("cause"), max_length=12, choices=Cause.choices, blank=True)
    told_at = models.DateTimeField(_("told at"), null=True, blank=True)

    class Meta:
        ordering = ["plan", "household"]
        verbose_name = _("change for a household")
        verbose_name_plural = _("changes for households")
        constraints = [
            models.UniqueConstraint(fields=["plan", "household"], name="planchange_unique")
        ]

    def __str__(self) -> str:
        return f"{self.plan}: {self.household} {self.kind}"


class PlanLock(models.Model):
    """An officer's decision: this household keeps this itinerary in every plan until
    unlocked (steps as in a scenario's `locked`)."""

    crisis = models.ForeignKey("core.Crisis", on_delete=models.PROTECT, related_name="+")
    household = models.OneToOneField(
        "registry.Household", on_delete=models.CASCADE, related_name="plan_lock"
    )
    steps = models.JSONField()
    plan = models.ForeignKey(Plan, on_delete=models.SET_NULL, null=True, related_name="+")
    locked_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    locked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("locked itinerary")
        verbose_name_plural = _("locked itineraries")

    def __str__(self) -> str:
        return f"{self.household} locked"


class BusPool(models.Model):
    """Buses available for a route, trips not yet fixed: N buses of S seats a day; the
    planner chooses how many leave at each departure time, and a published plan turns
    the trips it uses into legs."""

    crisis = models.ForeignKey("core.Crisis", on_delete=models.PROTECT, related_name="+")
    origin = models.ForeignKey(
        "geo.Place", on_delete=models.PROTECT, related_name="+", verbose_name=_("from")
    )
    destination = models.ForeignKey(
        "geo.Place", on_delete=models.PROTECT, related_name="+", verbose_name=_("to")
    )
    buses_per_day = models.PositiveSmallIntegerField(_("buses per day"))
    seats = models.PositiveSmallIntegerField(_("seats per bus"))
    travel_minutes = models.PositiveIntegerField(_("travel time (minutes)"))
    departures = models.CharField(_("departure times"), max_length=200, default="06:00,12:00,18:00")
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"))
    escort = models.BooleanField(_("medical escort on board"), default=False)
    cost_per_seat = models.DecimalField(
        _("cost per seat"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    carrier = models.CharField(_("carrier"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # A plan started before a change is not published (`services._pools_as_planned`).
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["first_day", "pk"]
        verbose_name = _("bus pool")
        verbose_name_plural = _("bus pools")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_day__gte=models.F("first_day")), name="buspool_days"
            ),
            models.CheckConstraint(
                condition=~models.Q(origin=models.F("destination")), name="buspool_moves"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.origin} → {self.destination}: {self.buses_per_day} × {self.seats}"

    @property
    def departure_list(self) -> list[str]:
        """The departure times, "HH:MM" each, in order."""
        return [t.strip() for t in self.departures.split(",") if t.strip()]


STABILITY_REWARD_MAX = 10.0
FIRM_HOURS_MAX = 168
# Minutes of a connection or of passing a crossing: at most a day (the scenario format's limit).
MINUTES_MAX = 1440


class PlanningPolicy(models.Model):
    """How a crisis's plans treat what households were already told: itineraries that
    start within the firm hours are kept as told; after that, keeping one household's is
    worth the stability reward times the mean size of the households told, whatever its
    own size (one person without priority brought out at once is worth 1), so a re-plan
    moves a told household only when that brings more out."""

    crisis = models.OneToOneField(
        "core.Crisis", on_delete=models.CASCADE, related_name="planning_policy"
    )
    stability_reward = models.FloatField(
        _("stability reward per household kept"),
        default=1.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(STABILITY_REWARD_MAX)],
    )
    firm_hours = models.PositiveSmallIntegerField(
        _("firm hours"), default=48, validators=[MaxValueValidator(FIRM_HOURS_MAX)]
    )
    # The times the planner leaves between steps (the scenario's `connection_minutes` and a
    # crossing's `minutes`): what the crisis centre knows of its hubs and borders.
    connection_minutes = models.PositiveSmallIntegerField(
        _("minimum connection (minutes)"), default=60, validators=[MaxValueValidator(MINUTES_MAX)]
    )
    airport_connection_minutes = models.PositiveSmallIntegerField(
        _("minimum connection to a flight (minutes)"),
        default=120,
        validators=[MaxValueValidator(MINUTES_MAX)],
    )
    crossing_minutes = models.PositiveSmallIntegerField(
        _("time to pass a border crossing (minutes)"),
        default=60,
        validators=[MaxValueValidator(MINUTES_MAX)],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("planning policy")
        verbose_name_plural = _("planning policies")

    def __str__(self) -> str:
        return f"{self.crisis_id}: reward {self.stability_reward}, firm {self.firm_hours} h"
