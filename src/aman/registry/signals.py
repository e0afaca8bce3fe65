"""What other apps are asked about changes of the registry.

* `household_move_conflicts` is sent before people move from one household to another
  (`services.household_update`), with `people` (the Persons that would move, locked) and
  `household` (where they would go, or None for a household of their own): each receiver
  returns a list of texts, in words for the officer, naming its own rows that hold a place
  for a person with the household they would leave (a seat booked with it, a room shared
  with it). Any text refuses the move with every text named: travelling together is
  booked and housed together, so an officer releases the seat or the room first (or splits
  the booking or the stay explicitly) and so sees whom the change leaves behind.
"""

from __future__ import annotations

from django.dispatch import Signal

household_move_conflicts = Signal()
