"""HTML → PDF with WeasyPrint, for manifests and boarding passes.

The templates name fonts that cover Kazakh and Russian Cyrillic (DejaVu Sans, Noto Sans,
Liberation Sans: Debian's `fonts-dejavu-core` is enough); images are data URIs, so nothing
is fetched from the network while rendering.
"""

from __future__ import annotations

import logging


def html_to_pdf(html: str) -> bytes:
    try:
        from weasyprint import HTML
    except OSError as exc:  # WeasyPrint loads Pango at import; a server without it fails here
        from django.utils.translation import gettext as _

        from aman.core.errors import ApplicationError

        raise ApplicationError(
            _(
                "This server cannot make PDF files: the Pango library is missing "
                "(Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)."
            ),
            {"missing": "pango"},
        ) from exc

    # WeasyPrint reports every unsupported CSS property at WARNING; they are not ours to fix.
    # Its progress log says "Step 2 - Fetching and parsing CSS" at INFO on every document.
    for name in ("weasyprint", "weasyprint.progress"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return HTML(string=html, base_url=None).write_pdf()
