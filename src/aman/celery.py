"""Celery application. Tasks are thin interfaces: load ids, call a service."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aman.settings")

app = Celery("aman")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
