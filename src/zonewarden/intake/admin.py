from __future__ import annotations

from django.contrib import admin

from zonewarden.intake.models import Category, Incident


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin[Category]):
    list_display = ["code", "name_en", "name_ru", "name_kk"]


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin[Incident]):
    list_display = ["url", "category", "domain", "status", "first_seen", "last_seen"]
    list_filter = ["category", "status"]
    search_fields = ["url", "domain__name"]
    raw_id_fields = ["domain", "case"]
    list_select_related = ["category"]
    date_hierarchy = "last_seen"
