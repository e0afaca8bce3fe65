"""Linkage runs for superusers, read only: what each run found and, for a failed run, the
technical detail that officers are not shown (they read `LinkageRun.failure_text`)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from aman.dedup.models import LinkageRun


@admin.register(LinkageRun)
class LinkageRunAdmin(admin.ModelAdmin):
    list_display = ("pk", "crisis", "status", "failure", "created_at", "heartbeat_at", "records")
    list_filter = ("status", "failure")
    exclude = ("model",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in LinkageRun._meta.fields if f.name != "model"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
