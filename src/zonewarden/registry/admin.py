from __future__ import annotations

from django.contrib import admin

from zonewarden.registry.models import RegistrarUser


@admin.register(RegistrarUser)
class RegistrarUserAdmin(admin.ModelAdmin[RegistrarUser]):
    """Which user acts for which registrar (`zonewarden users add --role registrar` makes these too)."""

    list_display = ["user", "registrar"]
    list_filter = ["registrar"]
    search_fields = ["user__username", "user__email", "registrar__code", "registrar__name"]
    autocomplete_fields = ["user", "registrar"]
    list_select_related = ["user", "registrar"]
