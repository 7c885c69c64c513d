from __future__ import annotations

from django.contrib import admin

from zonewarden.workdays.models import ExtraDay


@admin.register(ExtraDay)
class ExtraDayAdmin(admin.ModelAdmin[ExtraDay]):
    list_display = ["date", "kind", "note"]
    list_filter = ["kind"]
    search_fields = ["note"]
