from __future__ import annotations

from django.contrib import admin

from zonewarden.domains.models import Contact, Domain, Registrar


@admin.register(Registrar)
class RegistrarAdmin(admin.ModelAdmin[Registrar]):
    """The registrars; `email` is where the registry's notices to a registrar go, editable in the list."""

    list_display = ["code", "name", "email", "phone"]
    list_editable = ["email"]
    search_fields = ["code", "name", "email"]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin[Contact]):
    list_display = ["handle", "name", "organization", "email", "unreliable"]
    list_filter = ["unreliable"]
    search_fields = ["handle", "name", "organization", "email"]


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin[Domain]):
    list_display = ["name", "unicode_name", "registrar", "created", "registered"]
    list_filter = ["registered", "registrar"]
    search_fields = ["name", "unicode_name"]
    raw_id_fields = ["registrant", "admin_contact"]
    list_select_related = ["registrar"]
