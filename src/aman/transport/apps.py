from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransportConfig(AppConfig):
    name = "aman.transport"
    label = "transport"
    verbose_name = _("Transport")

    def ready(self) -> None:
        from aman.dedup.signals import person_merged
        from aman.transport.services import bookings_after_merge

        person_merged.connect(bookings_after_merge, dispatch_uid="transport.bookings_after_merge")
