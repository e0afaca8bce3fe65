"""Priority under a crisis's policy, with its explanation.

A policy is a list of groups with weights. In `weights` mode a person's priority is the sum
of the weights of the groups they belong to; in `strict` mode it is the highest weight
among them, so groups act as ranked classes. A household's priority is its highest
member's, because a household travels together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

GROUPS: dict[str, Any] = {
    "unaccompanied_minor": gettext_lazy("unaccompanied minor"),
    "pregnant": gettext_lazy("pregnant"),
    "medical_need": gettext_lazy("medical need"),
    "disability": gettext_lazy("disability"),
    "reduced_mobility": gettext_lazy("reduced mobility"),
    "elderly": gettext_lazy("elderly"),
    "child": gettext_lazy("child"),
    "woman": gettext_lazy("woman"),
}

# As the ministry announced in March 2026: the elderly, women and children first, and
# pregnant women and people with medical needs or disabilities.
DEFAULT_RULES: list[dict[str, Any]] = [
    {"group": "unaccompanied_minor", "weight": 5},
    {"group": "pregnant", "weight": 4},
    {"group": "medical_need", "weight": 4},
    {"group": "disability", "weight": 3},
    {"group": "reduced_mobility", "weight": 3},
    {"group": "elderly", "weight": 2, "min_age": 60},
    {"group": "child", "weight": 2, "max_age": 17},
    {"group": "woman", "weight": 1},
]
MAX_PRIORITY = 100


class PolicyError(ValueError):
    pass


def validate_rules(rules: Any) -> list[dict[str, Any]]:
    """The rules, checked and normalised, or PolicyError naming what is wrong."""
    if not isinstance(rules, list) or not rules:
        raise PolicyError(_("A policy names at least one group."))
    seen: set[str] = set()
    clean = []
    for rule in rules:
        if not isinstance(rule, dict) or rule.get("group") not in GROUPS:
            raise PolicyError(
                _("Unknown group %(group)r; the groups are: %(groups)s.")
                % {
                    "group": rule.get("group") if isinstance(rule, dict) else rule,
                    "groups": ", ".join(GROUPS),
                }
            )
        group = rule["group"]
        if group in seen:
            raise PolicyError(_("Group %(group)s is listed twice.") % {"group": group})
        seen.add(group)
        weight = rule.get("weight")
        if not isinstance(weight, int) or isinstance(weight, bool) or not 0 <= weight <= 20:
            raise PolicyError(
                _("The weight of %(group)s must be a whole number from 0 to 20.") % {"group": group}
            )
        item: dict[str, Any] = {"group": group, "weight": weight}
        if group == "elderly":
            item["min_age"] = _age(rule.get("min_age", 60), group)
        if group == "child":
            item["max_age"] = _age(rule.get("max_age", 17), group)
        clean.append(item)
    return clean


def _age(value: Any, group: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 120:
        raise PolicyError(_("The age limit of %(group)s must be from 0 to 120.") % {"group": group})
    return value


@dataclass(frozen=True)
class Facts:
    birth_date: date | None
    sex: str
    pregnant: bool
    medical_need: bool
    disability: bool
    reduced_mobility: bool
    unaccompanied_minor: bool


def _age_on(birth: date | None, day: date) -> int | None:
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def assess(
    facts: Facts, rules: list[dict[str, Any]], mode: str, today: date
) -> tuple[int, list[dict[str, Any]]]:
    """Priority and the reasons: [{"group", "weight", "age"?}], highest weight first."""
    age = _age_on(facts.birth_date, today)
    adult = age is None or age >= 18
    reasons = []
    for rule in rules:
        group = rule["group"]
        member = {
            "unaccompanied_minor": facts.unaccompanied_minor,
            "pregnant": facts.pregnant,
            "medical_need": facts.medical_need,
            "disability": facts.disability,
            "reduced_mobility": facts.reduced_mobility,
            "elderly": age is not None and age >= rule.get("min_age", 60),
            "child": age is not None and age <= rule.get("max_age", 17),
            "woman": facts.sex == "F" and adult,
        }[group]
        if member and rule["weight"] > 0:
            reason: dict[str, Any] = {"group": group, "weight": rule["weight"]}
            if group in ("elderly", "child"):
                reason["age"] = age
            reasons.append(reason)
    reasons.sort(key=lambda r: -r["weight"])
    weights = [r["weight"] for r in reasons]
    priority = (max(weights) if mode == "strict" else sum(weights)) if weights else 0
    return min(priority, MAX_PRIORITY), reasons


def explain(priority: int, reasons: list[dict[str, Any]]) -> str:
    """“priority 4: 71 years old, medical need”."""
    if not reasons:
        return _("priority %(n)d: no priority group") % {"n": priority}
    parts = []
    for reason in reasons:
        if reason["group"] in ("elderly", "child") and reason.get("age") is not None:
            parts.append(_("%(age)d years old") % {"age": reason["age"]})
        else:
            parts.append(str(GROUPS[reason["group"]]))
    return _("priority %(n)d: %(reasons)s") % {"n": priority, "reasons": ", ".join(parts)}
