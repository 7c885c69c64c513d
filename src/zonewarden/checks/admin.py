"""Admin pages: checks are evidence (read-only); verdict rules are data an administrator edits."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from zonewarden.checks.models import Check, VerdictRule


@admin.register(Check)
class CheckAdmin(admin.ModelAdmin[Check]):
    list_display = ["pk", "url", "purpose", "verdict", "status", "at"]
    list_filter = ["verdict", "purpose"]
    search_fields = ["url", "final_url", "body_sha256"]
    exclude = ["body_head", "screenshot"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(VerdictRule)
class VerdictRuleAdmin(admin.ModelAdmin[VerdictRule]):
    list_display = ["category", "kind", "parameters", "active"]
    list_filter = ["category", "active"]
