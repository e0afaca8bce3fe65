from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransportConfig(AppConfig):
    name = "aman.transport"
    label = "transport"
    verbose_name = _("Transport")

    def ready(self) -> None:
        from aman.dedup.signals import merge_conflicts, person_merged
        from aman.registry.signals import household_move_conflicts
        from aman.transport.services import (
            bookings_after_merge,
            bookings_merge_conflicts,
            bookings_move_conflicts,
        )

        merge_conflicts.connect(
            bookings_merge_conflicts, dispatch_uid="transport.bookings_merge_conflicts"
        )
        person_merged.connect(bookings_after_merge, dispatch_uid="transport.bookings_after_merge")
        household_move_conflicts.connect(
            bookings_move_conflicts, dispatch_uid="transport.bookings_move_conflicts"
        )
