"""What other apps hear about merges.

* `merge_conflicts` is sent before a merge moves anything, with `survivor` and `absorbed`
  (both locked): each receiver returns a list of `MergeConflict`, the rows of its own that
  would put the one person in two places at once (two rooms on one night, two seats at one
  time). Any conflict refuses the merge with every conflict named, so that an officer
  resolves them first: a merge never frees a room or a seat by itself, and so an unmerge
  never has to take one back.
* `person_merged` is sent inside the merge's transaction, after every row was moved, with
  `merge` (the Merge), `actor` and `households` ({"to": the household the person is in
  now, or None; "left": the households the person's records left}): an app that keeps
  something counted per person (the guests of a stay) counts it again there, and an app
  whose rows name a household with the person (a booking, a stay) points those of the
  households left at the one the person is in now. It returns what it changed,
  {"app_label.model": {"id": [household before, household after]}}: the unmerge puts
  each back (where it is still as the merge left it).
* `person_unmerged` is sent inside the unmerge's transaction, after the rows were moved
  back (and their households put back), with `merge` and `actor`: the same counts again,
  as they were.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.dispatch import Signal

merge_conflicts = Signal()
person_merged = Signal()
person_unmerged = Signal()


@dataclass
class MergeConflict:
    """Two rows, one of each record, that the one person cannot both hold."""

    kind: str  # "stays" or "bookings"
    text: str  # in words, for the officer: both rows named
    refs: dict[str, Any] = field(default_factory=dict)  # the rows' ids, for the API

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, **self.refs}
