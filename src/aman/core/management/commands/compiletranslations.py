from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.utils.translation import gettext_lazy, ngettext

from aman.core.commands import AmanCommand


class Command(AmanCommand):
    help = gettext_lazy(
        "Compile the kk/ru/en translation catalogues (.po → .mo) without system gettext."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        compiled = 0
        for root in settings.LOCALE_PATHS:
            for po_path in sorted(Path(root).glob("*/LC_MESSAGES/*.po")):
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
                compiled += 1
        self.stdout.write(
            ngettext("%(count)d catalogue compiled.", "%(count)d catalogues compiled.", compiled)
            % {"count": compiled}
        )
