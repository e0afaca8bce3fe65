"""Celery application. Tasks are thin interfaces: load ids, call a service."""

import os
from contextvars import Token
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

from aman.core.context import Origin, reset_origin, set_origin

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aman.settings")

app = Celery("aman")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

_origins: dict[str, Token[Origin]] = {}


@task_prerun.connect
def _task_origin_start(task_id: str, **kwargs: Any) -> None:
    """Audit entries written by a task say they came from a task."""
    _origins[task_id] = set_origin(Origin(via="task"))


@task_postrun.connect
def _task_origin_end(task_id: str, **kwargs: Any) -> None:
    token = _origins.pop(task_id, None)
    if token is not None:
        reset_origin(token)
