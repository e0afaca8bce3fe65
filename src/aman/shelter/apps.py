from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShelterConfig(AppConfig):
    name = "aman.shelter"
    label = "shelter"
    verbose_name = _("Shelter")

    def ready(self) -> None:
        from aman.dedup.signals import merge_conflicts, person_merged, person_unmerged
        from aman.registry.signals import household_move_conflicts
        from aman.shelter.services import (
            stays_after_merge,
            stays_after_unmerge,
            stays_merge_conflicts,
            stays_move_conflicts,
        )

        merge_conflicts.connect(stays_merge_conflicts, dispatch_uid="shelter.stays_conflicts")
        person_merged.connect(stays_after_merge, dispatch_uid="shelter.stays_after_merge")
        person_unmerged.connect(stays_after_unmerge, dispatch_uid="shelter.stays_after_unmerge")
        household_move_conflicts.connect(stays_move_conflicts, dispatch_uid="shelter.stays_moves")
