"""Staff edit reference data here. Every save is written to the audit log."""

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from aman.core.admin import AuditedAdmin
from aman.geo.loaders import search_text
from aman.geo.models import Country, Place, PlaceStatusEvent


@admin.register(Country)
class CountryAdmin(AuditedAdmin):
    list_display = ("code", "code3", "name", "name_ru", "name_kk")
    search_fields = ("code", "code3", "name", "name_ru", "name_kk")


class PlaceStatusEventInline(admin.TabularInline):
    model = PlaceStatusEvent
    extra = 0
    can_delete = False
    readonly_fields = ("status", "reason", "effective_at", "recorded_at", "recorded_by")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Place)
class PlaceAdmin(AuditedAdmin):
    list_display = ("name", "kind", "country", "iata", "icao", "status")
    list_filter = ("kind", "status")
    search_fields = ("name", "name_ru", "name_kk", "code", "iata", "icao")
    autocomplete_fields = ("country", "entry_country")
    readonly_fields = ("status", "status_changed_at")
    exclude = ("search_text",)
    inlines = [PlaceStatusEventInline]

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        obj.search_text = search_text(
            obj.name, obj.name_ru, obj.name_kk, obj.alt_names, obj.code, obj.iata
        )
        super().save_model(request, obj, form, change)
