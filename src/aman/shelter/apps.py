from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShelterConfig(AppConfig):
    name = "aman.shelter"
    label = "shelter"
    verbose_name = _("Shelter")

    def ready(self) -> None:
        from aman.dedup.signals import person_merged
        from aman.shelter.services import stays_after_merge

        person_merged.connect(stays_after_merge, dispatch_uid="shelter.stays_after_merge")
