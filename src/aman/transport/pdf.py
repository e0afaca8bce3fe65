"""HTML → PDF with WeasyPrint, for manifests and boarding passes.

The templates name fonts that cover Kazakh and Russian Cyrillic (DejaVu Sans, Noto Sans,
Liberation Sans: Debian's `fonts-dejavu-core` is enough); images are data URIs, so nothing
is fetched from the network while rendering.

Each thread keeps one WeasyPrint font configuration: making a new one for every document
(WeasyPrint's default) loads the fonts again, about 20 ms — a quarter of a single boarding
pass (bench/RESULTS.md). A long document can be laid out in parts (`htmls_to_pdf`), which
reports its progress after each part and holds the laid-out pages only, not every part's
HTML tree and styles, until the PDF is written.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

_local = threading.local()


def _weasyprint() -> Any:
    try:
        import weasyprint
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
    return weasyprint


def _font_config() -> Any:
    """This thread's font configuration (Pango's font map is not shared between threads)."""
    config = getattr(_local, "font_config", None)
    if config is None:
        from weasyprint.text.fonts import FontConfiguration

        config = _local.font_config = FontConfiguration()
    return config


def html_to_pdf(html: str) -> bytes:
    weasyprint = _weasyprint()
    pdf: bytes = weasyprint.HTML(string=html, base_url=None).write_pdf(font_config=_font_config())
    return pdf


def htmls_to_pdf(parts: Iterable[str], progress: Callable[[int], None] | None = None) -> bytes:
    """Several HTML documents laid out one after the other and written as one PDF, their
    pages in order; `progress` is told the number of pages laid out after each part."""
    weasyprint = _weasyprint()
    font_config = _font_config()
    documents = []
    pages = 0
    for html in parts:
        document = weasyprint.HTML(string=html, base_url=None).render(font_config=font_config)
        documents.append(document)
        pages += len(document.pages)
        if progress is not None:
            progress(pages)
    if not documents:
        raise ValueError("no document to write")
    pdf: bytes = documents[0].copy([p for d in documents for p in d.pages]).write_pdf()
    return pdf
