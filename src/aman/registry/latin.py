"""Names in passport Latin as the registry proposes them: ICAO Doc 9303 with the Kazakh
letters (`identity.translit`), and the ministry's own letters over them where the
`AMAN_TRANSLIT_EXTRA` setting gives some. Registration, vouchers and manifests use this;
a name printed in a document is kept as printed, never regenerated."""

from __future__ import annotations

from django.conf import settings

from aman.registry.identity.translit import to_passport_latin


def passport_latin(text: str) -> str:
    return to_passport_latin(text, extra=getattr(settings, "AMAN_TRANSLIT_EXTRA", None) or None)
