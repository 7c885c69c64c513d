from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from zonewarden.accounts.models import LoginFailure


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin[LoginFailure]):
    """Failed log-ins in the current window; deleting a user's rows unlocks it at once."""

    list_display = ["key", "at"]
    search_fields = ["key"]
    readonly_fields = ["key", "at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
