from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from zonewarden.intake.models import Category, Incident, Ingest


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


@admin.register(Ingest)
class IngestAdmin(admin.ModelAdmin[Ingest]):
    list_display = ["started_at", "file_name", "format", "source", "counts", "rejected_total", "actor"]
    list_filter = ["format", "source"]
    search_fields = ["file_name", "sha256"]
    readonly_fields = [f.name for f in Ingest._meta.concrete_fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
