import base64
import secrets
from typing import Any

from cryptography.fernet import Fernet
from django.utils.translation import gettext_lazy

from aman.core.commands import AmanCommand


class Command(AmanCommand):
    help = gettext_lazy(
        "Print new secrets for the environment: SECRET_KEY, AMAN_FIELD_KEYS, AMAN_HASH_KEY."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"SECRET_KEY={secrets.token_urlsafe(50)}")
        self.stdout.write(f"AMAN_FIELD_KEYS={Fernet.generate_key().decode()}")
        self.stdout.write(
            f"AMAN_HASH_KEY={base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}"
        )
