"""The optimizer's codes in the officer's language: what is wrong with a scenario
(`ScenarioError`: its code and parameters) and the independent checker's violations
(`check.Problem`). The optimizer has no Django: it gives codes with parameters and its own
English words (for headless use); these are the same words, translated (as the planner's
reasons are, `views.REASONS`)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from aman.planning.optimizer.check import Problem
from aman.planning.optimizer.scenario import ScenarioError

# Translators: what is wrong with a field of a scenario file (its path is said before it,
# e.g. "$.legs[3].seats: must be a whole number"); a value in quotes is as the file has it.
SCENARIO_ERRORS = {
    "required": _("is required"),
    "not_string": _("must be a non-empty string"),
    "not_choice": _("must be one of %(choices)s, not %(value)s"),
    "not_whole": _("must be a whole number"),
    "not_number": _("must be a number"),
    "out_of_range": _("is out of range: %(value)s"),
    "not_bool": _("must be true or false"),
    "moment_type": _("must be a date-time like 2026-03-02T08:00:00+03:30"),
    "not_moment": _("is not a date-time: %(value)s"),
    "no_offset": _("needs a UTC offset (e.g. +05:00 or Z)"),
    "not_day": _("is not a date like 2026-03-02: %(value)s"),
    "not_clock": _("is not a time like 08:00: %(value)s"),
    "not_zone": _("is not a time zone: %(value)s"),
    "not_list": _("must be a list"),
    "no_steps": _("must be a non-empty list of steps"),
    "not_object": _("must be an object"),
    "rooms_map": _('must map nights to rooms: {"2026-03-02": [{"beds": 2, "count": 10}]}'),
    "rooms_list": _('must list the rooms: [{"beds": 2, "count": 10}]'),
    "rooms_twice": _("rooms of %(beds)s beds are listed twice"),
    "rooms_beds": _("the rooms hold %(held)s beds, the hotel's beds that night are %(beds)s"),
    "rooms_missing": _("gives no rooms for the night of %(night)s"),
    "not_json_object": _("a scenario is a JSON object"),
    "format": _("must be %(format)s"),
    "end_before_start": _("must be after the start"),
    "horizon": _("the horizon is at most %(days)s days"),
    "no_affected": _("must list at least one country code"),
    "home_affected": _("cannot be one of the affected countries"),
    "no_places": _("must list at least one place"),
    "twice": _("%(value)s is listed twice"),
    "no_place": _("names no place: %(value)s"),
    "not_crossing": _("%(value)s is not a place of kind crossing"),
    "opens_closes": _("give both opens and closes, or neither"),
    "closed_spans": _('must be a list of {"from", "to"}'),
    "to_before_from": _("must be after from"),
    "entry_affected": _("must be outside the affected countries"),
    "crossing_missing": _("the crossing %(value)s has no crossing entry"),
    "arrival_before": _("is before the departure"),
    "same_place": _("is the same place as from"),
    "used": _("%(value)s is already used"),
    "no_departures": _("must list at least one time"),
    "last_before_first": _("is before first_day"),
    "by_day_map": _("must be an object of days"),
    "hotel_affected": _("hotels are planned outside the affected countries"),
    "beds_map": _('must map nights to beds: {"2026-03-02": 40}'),
    "permits_map": _("must map crossings to approved/pending/refused"),
    "no_crossing": _("names no crossing: %(value)s"),
    "permit_days_map": _("must map crossings to lists of days"),
    "no_days": _("must list at least one day"),
    "connection_map": _("must map place kinds to minutes"),
    "not_place_kind": _("is not a place kind"),
    "not_json": _("not JSON: %(error)s at line %(line)s"),
    "not_between": _("must be from %(low)s to %(high)s, not %(value)s"),
    "not_at_least": _("must be at least %(low)s, not %(value)s"),
}

# Translators: a violation of a scenario's rules by a plan, found by `aman plan check`.
CHECK_PROBLEMS = {
    "not_a_plan": _("the plan is not an aman.plan/1 document"),
    "expected_string": _("%(path)s: expected a string, not %(got)s"),
    "expected_list": _("%(path)s: expected a list, not %(got)s"),
    "expected_object": _("%(path)s: expected an object, not %(got)s"),
    "expected_number": _("%(path)s: expected a whole number, not %(got)s"),
    "expected_type": _("%(path)s: expected one of %(choices)s, not %(got)s"),
    "required": _("%(path)s: is required"),
    "unknown_household": _("household %(household)s is not in the scenario"),
    "twice": _("household %(household)s appears %(n)s times in the plan"),
    "missing": _("household %(household)s is neither planned nor listed as unassigned"),
    "declined": _("household %(household)s declined but is planned"),
    "split": _("household %(household)s travels with %(n)s people, not all %(size)s"),
    "lock_moved": _("household %(household)s is locked to another itinerary, still possible"),
    "lock_unplanned": _(
        "household %(household)s is locked to an itinerary still possible, but has none"
    ),
    "no_steps": _("household %(household)s has an itinerary without steps"),
    "no_bed": _(
        "household %(household)s spends the night of %(night)s at %(place)s without a hotel bed"
    ),
    "never_leaves": _("household %(household)s is planned but never leaves the affected countries"),
    "after_home": _("household %(household)s, step %(step)s comes after the household is home"),
    "pass_elsewhere": _(
        "household %(household)s, step %(step)s: passes %(crossing)s without being there"
    ),
    "pass_early": _(
        "household %(household)s, step %(step)s: passes %(crossing)s at %(at)s before arriving "
        "(%(ready)s)"
    ),
    "pass_overnight": _(
        "household %(household)s, step %(step)s: waits overnight at the crossing %(crossing)s"
    ),
    "pass_closed": _("household %(household)s, step %(step)s: %(crossing)s is closed at %(at)s"),
    "pass_permit": _(
        "household %(household)s, step %(step)s: passes %(crossing)s without an approved "
        "transit permit"
    ),
    "pass_permit_day": _(
        "household %(household)s, step %(step)s: passes %(crossing)s on %(day)s, a day its "
        "permit does not name"
    ),
    "pass_horizon": _(
        "household %(household)s, step %(step)s: passes %(crossing)s outside the horizon"
    ),
    "never_open": _(
        "household %(household)s, step %(step)s: %(crossing)s does not open before the horizon ends"
    ),
    "no_hotel": _("household %(household)s, step %(step)s: no hotel %(hotel)s"),
    "hotel_elsewhere": _(
        "household %(household)s, step %(step)s: the hotel %(hotel)s is not where the household is"
    ),
    "not_night": _("household %(household)s, step %(step)s: %(value)s is not a night"),
    "hotel_no_beds": _(
        "household %(household)s, step %(step)s: the hotel %(hotel)s has no beds the night of "
        "%(night)s"
    ),
    "hotel_no_rooms": _(
        "household %(household)s, step %(step)s: the hotel %(hotel)s has no rooms for %(n)s "
        "people for every night from %(first)s to %(last)s"
    ),
    "no_crossing": _("household %(household)s, step %(step)s: no crossing %(crossing)s or no time"),
    "no_leg": _("household %(household)s, step %(step)s: no leg %(leg)s"),
    "no_pool": _("household %(household)s, step %(step)s: no bus pool %(pool)s or no time"),
    "pool_departure": _(
        "household %(household)s, step %(step)s: %(pool)s has no departure at %(at)s"
    ),
    "leaves_elsewhere": _(
        "household %(household)s, step %(step)s: leaves %(origin)s but the household is at "
        "%(place)s"
    ),
    "departs_early": _(
        "household %(household)s, step %(step)s: departs %(at)s before the household can board "
        "(%(ready)s)"
    ),
    "departs_horizon": _("household %(household)s, step %(step)s: departs outside the horizon"),
    "no_escort": _(
        "household %(household)s, step %(step)s: needs a medical escort, which the leg lacks"
    ),
    "step_type": _("household %(household)s, step %(step)s: unknown step type %(kind)s"),
    "leg_full": _("leg %(leg)s: %(n)s people on %(seats)s seats"),
    "crossing_full": _("crossing %(crossing)s on %(day)s: %(n)s people, %(capacity)s a day"),
    "hotel_full": _("hotel %(hotel)s the night of %(night)s: %(n)s people in %(beds)s beds"),
    "rooms_full": _(
        "hotel %(hotel)s the night of %(night)s: %(n)s rooms of %(beds)s beds needed, %(free)s free"
    ),
    "pool_full": _("bus pool %(pool)s on %(day)s: %(n)s buses, %(buses)s that day"),
}


def _words(templates: dict[str, Any], code: str, params: dict[str, str], english: str) -> str:
    template = templates.get(code)
    if template is None:
        return english
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return english


def scenario_error_text(error: ScenarioError) -> str:
    """What is wrong with a scenario, in the active language: the field's path and why."""
    message = _words(SCENARIO_ERRORS, error.code, error.params, error.message)
    return f"{error.where}: {message}"


def problem_text(problem: Problem) -> str:
    """One of the checker's violations, in the active language."""
    return _words(CHECK_PROBLEMS, problem.code, problem.params, problem.text)
