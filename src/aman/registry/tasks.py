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


@shared_task(name="aman.registry.intake_process")
def _intake_process() -> int:
    """Register queued submissions until none is left. The flag is cleared first: a
    submission queued from now on asks for the next run."""
    from django.core.cache import cache

    from aman.registry.services import registrations_process_pending

    cache.delete(INTAKE_SCHEDULED)
    return registrations_process_pending()


INTAKE_SCHEDULED = "aman:intake:scheduled"
# A run starts this long after the first submission that asked for it, so that the
# submissions of a surge are registered together (one INSERT per table for up to 200).
INTAKE_GATHER_SECONDS = 1.0


class _IntakeDispatch:
    """Ask for queued registrations to be processed: at most one request to the worker
    at a time, however many submissions arrive (a flag in the shared cache, which expires
    should a run die); in the embedded demo on a thread; inline in tests."""

    @staticmethod
    def dispatch() -> None:
        from django.core.cache import cache

        mode = settings.AMAN_IMPORTS_RUN or (
            "thread" if settings.CELERY_TASK_ALWAYS_EAGER else "worker"
        )
        if mode == "worker":
            if cache.add(INTAKE_SCHEDULED, 1, timeout=30):
                _intake_process.apply_async(countdown=INTAKE_GATHER_SECONDS)
        elif mode == "thread":
            if cache.add(INTAKE_SCHEDULED, 1, timeout=30):
                threading.Thread(target=_intake_in_thread, daemon=True).start()
        else:
            _intake_process()


def _intake_in_thread() -> None:
    import time

    from django.db import connection

    from aman.core.context import origin

    time.sleep(INTAKE_GATHER_SECONDS)
    try:
        with origin(via="task"):
            _intake_process()
    except Exception:
        logger.exception("processing queued registrations failed")
    finally:
        connection.close()


intake_process = _IntakeDispatch()
