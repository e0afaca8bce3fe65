from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "aman.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from aman.core import checks, hot, signals  # noqa: F401
