"""What other apps hear about merges. `person_merged` is sent inside the merge's
transaction, after every row was moved, with `merge` (the Merge) and `actor`: an app whose
rows cannot simply move (one seat per person on a leg) settles them there."""

from django.dispatch import Signal

person_merged = Signal()
