"""The Django admin, for superusers. Every save and delete here is written to the audit log."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.forms import ModelForm
from django.http import HttpRequest

from aman.core.audit import audit_write
from aman.core.models import ApiToken, AuditEntry, Crisis, Mission, User


class AuditedAdmin(admin.ModelAdmin):
    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        actor = request.user if isinstance(request.user, User) else None
        # Password fields are never written to the log, not even hashed.
        changes = {
            name: [form.initial.get(name), form.cleaned_data.get(name)]
            for name in form.changed_data
            if "password" not in name
        }
        audit_write(
            actor=actor,
            verb="admin_save",
            action=AuditEntry.Action.UPDATE if change else AuditEntry.Action.CREATE,
            obj=obj,
            changes={
                k: [str(a) if a is not None else None, str(b) if b is not None else None]
                for k, (a, b) in changes.items()
            },
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        actor = request.user if isinstance(request.user, User) else None
        audit_write(actor=actor, verb="admin_delete", action=AuditEntry.Action.DELETE, obj=obj)
        super().delete_model(request, obj)


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
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = (
        "user",
        "name",
        "prefix",
        "digest",
        "created_at",
        "last_used_at",
        "revoked_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
