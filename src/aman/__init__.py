"""Aman: crisis response and evacuation for a foreign ministry and its embassies."""

from aman.celery import app as celery_app

__all__ = ["celery_app"]
