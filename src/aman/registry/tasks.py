"""Background work of the registry. Thin: load ids, call the import module."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from celery import shared_task
from django.conf import settings

logger = logging.getLogger(__name__)


@shared_task(name="aman.registry.import_run")
def _import_run(batch_id: int) -> dict[str, int]:
    from aman.registry.imports import batch_run

    batch = batch_run(batch_id)
    return {"accepted": batch.accepted_rows, "rejected": batch.rejected_rows}


def _mode() -> str:
    """Where background work runs: `worker` (a broker is configured), `thread` (the
    embedded demo: Celery eager, so the page that started it returns at once), `inline`."""
    return settings.AMAN_IMPORTS_RUN or (
        "thread" if settings.CELERY_TASK_ALWAYS_EAGER else "worker"
    )


def _in_thread(what: str, fn: Any, *args: Any, delay: float = 0.0) -> None:
    """Run `fn` on a background thread of this process, as a task would (audit origin
    `task`, its own database connection); a failure is logged."""

    def run() -> None:
        from django.db import connection

        from aman.core.context import origin

        time.sleep(delay)
        try:
            with origin(via="task"):
                fn(*args)
        except Exception:
            logger.exception("%s failed", what)
        finally:
            connection.close()

    threading.Thread(target=run, daemon=True).start()


def dispatch(task: Any, what: str, *args: Any) -> None:
    """Run a Celery task where background work runs (see `_mode`): on a worker, on a thread
    of this process, or here and now. The task records its own failure where the officer
    sees it (an import batch, a linkage run)."""
    mode = _mode()
    if mode == "worker":
        task.delay(*args)
    elif mode == "thread":
        _in_thread(what, task, *args)
    else:
        task(*args)


class _Dispatch:
    """Queue an import (see `_mode`)."""

    @staticmethod
    def dispatch(batch_id: int) -> None:
        dispatch(_import_run, f"import {batch_id}", batch_id)


import_run = _Dispatch()


@shared_task(name="aman.registry.priority_recompute")
def _priority_recompute(crisis_id: int, run: int, actor_id: int | None = None) -> int | None:
    from aman.registry.services import priority_recompute_run

    return priority_recompute_run(crisis_id=crisis_id, run=run, actor_id=actor_id)


class _RecomputeDispatch:
    """Recompute everyone's priority after a policy change (see `_mode`)."""

    @staticmethod
    def dispatch(crisis_id: int, run: int, actor_id: int | None) -> None:
        what = f"priority recompute {crisis_id}/{run}"
        dispatch(_priority_recompute, what, crisis_id, run, actor_id)


priority_recompute = _RecomputeDispatch()


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

        mode = _mode()
        if mode == "inline":
            _intake_process()
        elif cache.add(INTAKE_SCHEDULED, 1, timeout=30):
            if mode == "worker":
                _intake_process.apply_async(countdown=INTAKE_GATHER_SECONDS)
            else:
                _in_thread(
                    "processing queued registrations",
                    _intake_process,
                    delay=INTAKE_GATHER_SECONDS,
                )


intake_process = _IntakeDispatch()


# How far back the daily run of `priority_ages_refresh` looks: a birthday on a day the
# worker was down is made up by the next runs within this many days.
AGE_REFRESH_DAYS = 7


@shared_task(name="aman.registry.priority_ages_refresh")
def priority_ages_refresh() -> dict[str, int]:
    """Daily (the worker's beat, settings.CELERY_BEAT_SCHEDULE): in every open crisis,
    the priority of the people whose age changed in the last days, as of today."""
    from datetime import timedelta

    from django.utils import timezone

    from aman.core.models import Crisis
    from aman.registry.services import priority_ages_refresh as refresh

    today = timezone.localdate()
    since = today - timedelta(days=AGE_REFRESH_DAYS)
    return {
        crisis.code: refresh(crisis=crisis, since=since, today=today)
        for crisis in Crisis.objects.filter(status=Crisis.Status.OPEN).order_by("pk")
    }
