from typing import Any

from django.conf import settings
from django.core.checks import Error, register


@register(deploy=True)
def secret_key_set(app_configs: Any, **kwargs: Any) -> list[Error]:
    if settings.SECRET_KEY.startswith("aman-embedded-demo-key"):
        return [
            Error(
                "SECRET_KEY is the embedded demo key.",
                hint="Set SECRET_KEY in the environment (50+ random characters).",
                id="aman.E001",
            )
        ]
    return []


@register(deploy=True)
def field_keys_set(app_configs: Any, **kwargs: Any) -> list[Error]:
    from aman.core.crypto import uses_derived_keys

    if uses_derived_keys():
        return [
            Error(
                "Personal data would be encrypted with keys derived from SECRET_KEY.",
                hint="Set AMAN_FIELD_KEYS (Fernet keys: aman generatekeys) and AMAN_HASH_KEY.",
                id="aman.E002",
            )
        ]
    return []
