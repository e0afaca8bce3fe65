"""Background work of the registry. Thin: load ids, call the import module."""

from __future__ import annotations

import logging
import threading

from celery import shared_task
from django.conf import settings

logger = logging.getLogger(__name__)


@shared_task(name="aman.registry.import_run")
def _import_run(batch_id: int) -> dict[str, int]:
    from aman.registry.imports import batch_run

    batch = batch_run(batch_id)
    return {"accepted": batch.accepted_rows, "rejected": batch.rejected_rows}


class _Dispatch:
    """Queue an import: to a worker when a broker is configured; in the embedded demo
    (Celery eager) on a background thread, so the page that started it returns at once."""

    @staticmethod
    def dispatch(batch_id: int) -> None:
        mode = settings.AMAN_IMPORTS_RUN or (
            "thread" if settings.CELERY_TASK_ALWAYS_EAGER else "worker"
        )
        if mode == "worker":
            _import_run.delay(batch_id)
        elif mode == "thread":
            threading.Thread(target=_run_in_thread, args=(batch_id,), daemon=True).start()
        else:
            _import_run(batch_id)


def _run_in_thread(batch_id: int) -> None:
    from django.db import connection

    from aman.core.context import origin
    from aman.registry.imports import batch_run

    try:
        with origin(via="task"):
            batch_run(batch_id)
    except Exception:
        # batch_run has recorded the failure on the batch, where the operator sees it.
        logger.exception("import %s failed", batch_id)
    finally:
        connection.close()


import_run = _Dispatch()
