from typing import Any

from django.apps import apps
from django.db import transaction
from django.utils.translation import gettext_lazy, ngettext

from aman.core.commands import AmanCommand
from aman.core.crypto import EncryptedJSONField, EncryptedTextField


class Command(AmanCommand):
    help = gettext_lazy(
        "Re-encrypt personal data with the newest key of AMAN_FIELD_KEYS (after adding one)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for model in apps.get_models():
            fields = [
                f.name
                for f in model._meta.concrete_fields
                if isinstance(f, EncryptedTextField | EncryptedJSONField)
            ]
            if not fields:
                continue
            done = 0
            last = 0
            while True:
                with transaction.atomic():
                    batch = list(
                        model._default_manager.select_for_update()
                        .filter(pk__gt=last)
                        .order_by("pk")
                        .only("pk", *fields)[:1000]
                    )
                    if not batch:
                        break
                    # Reading decrypts with any configured key; saving encrypts with the first.
                    model._default_manager.bulk_update(batch, fields)
                    last = batch[-1].pk
                    done += len(batch)
            self.stdout.write(
                ngettext(
                    "%(model)s: %(count)d row re-encrypted",
                    "%(model)s: %(count)d rows re-encrypted",
                    done,
                )
                % {"model": model._meta.label, "count": done}
            )
