"""A batch linkage pair's match weight in words, for officers.

The match weight is the sum of one partial weight per comparison plus the prior (how rare a
match is among all pairs): each partial weight is log2 of how much more often that level is
seen between two records of one person than between two strangers (`docs/dedup.md`). +10 is
about a thousand times more likely the same person; −10 a thousand times less.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

COMPARISONS = {
    "surname": _("Surname"),
    "given_names": _("Given names"),
    "birth_date": _("Birth date"),
    "sex": _("Sex"),
    "iin": _("IIN"),
    "document": _("Document number"),
    "phone": _("Phone"),
    "city": _("City"),
}
LEVELS = {
    "exact_key": _("the same (in any script or spelling)"),
    "other_key": _("one name in common"),
    "similar": _("similar"),
    "somewhat_similar": _("somewhat similar"),
    "different": _("different"),
    "exact": _("the same"),
    "one_digit": _("one digit differs"),
    "transposed": _("two digits, or day and month, swapped"),
    "within_year": _("within a year"),
    "agree": _("the same"),
    "disagree": _("different"),
}


def explain(explanation: dict[str, Any]) -> list[str]:
    """`["Document number: the same (+14.2)", ...]`, the strongest parts first; comparisons
    with nothing to compare (a value missing on one side) are left out."""
    levels: dict[str, str] = explanation.get("levels") or {}
    weights: dict[str, float] = explanation.get("weights") or {}
    parts = []
    for name, level in levels.items():
        if level == "null":
            continue
        weight = float(weights.get(name, 0.0))
        parts.append(
            (
                -abs(weight),
                f"{COMPARISONS.get(name, name)}: {LEVELS.get(level, level)} ({weight:+.1f})",
            )
        )
    return [text for _weight, text in sorted(parts)]
