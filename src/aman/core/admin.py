"""The Django admin, for superusers. Every save and delete here is written to the audit log."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from aman.core.audit import audit_write
from aman.core.models import ApiToken, AuditEntry, Crisis, Mission, User


class AuditedAdmin(admin.ModelAdmin):
    """Every addition, change (including a password reset) and deletion (including the
    bulk "delete selected" action) made in the admin goes to the audit log, through the
    admin's own logging hooks, which every admin write path calls. Field names are logged,
    never values: the admin edits personal data and passwords."""

    def _actor(self, request: HttpRequest) -> User | None:
        return request.user if isinstance(request.user, User) else None

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        audit_write(
            actor=self._actor(request),
            verb="admin_add",
            action=AuditEntry.Action.CREATE,
            obj=obj,
            changes={"fields": [None, _changed_fields(message)]},
        )
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        audit_write(
            actor=self._actor(request),
            verb="admin_change",
            obj=obj,
            changes={"fields": [None, _changed_fields(message)]},
        )
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        for obj in queryset:
            audit_write(
                actor=self._actor(request),
                verb="admin_delete",
                action=AuditEntry.Action.DELETE,
                obj=obj,
            )
        return super().log_deletions(request, queryset)


def _changed_fields(message: Any) -> list[str]:
    """Field names from the admin's change message ([{"changed": {"fields": [...]}}])."""
    fields: list[str] = []
    if isinstance(message, list):
        for part in message:
            for change in part.values() if isinstance(part, dict) else []:
                fields += (
                    [str(f) for f in change.get("fields", [])] if isinstance(change, dict) else []
                )
    elif message:
        fields.append(str(message)[:200])
    return fields


@admin.register(User)
class AmanUserAdmin(AuditedAdmin, UserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "mission", "is_active")
    list_filter = ("role", "mission", "is_active")
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("Aman", {"fields": ("role", "mission", "current_crisis")}),
    )


@admin.register(Mission)
class MissionAdmin(AuditedAdmin):
    list_display = ("name", "kind", "country", "city", "active")
    filter_horizontal = ("area",)


@admin.register(Crisis)
class CrisisAdmin(admin.ModelAdmin):
    """Read-only here: crises change through the operator UI so every change is audited."""

    list_display = ("name", "code", "status", "opened_at", "closed_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_name", "action", "verb", "object_type", "object_id", "ip")
    list_filter = ("action", "object_type")
    search_fields = ("actor_name", "verb", "object_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read-only: tokens are created and revoked on the account page, audited."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
