from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.http import HttpRequest

from zonewarden.accounts.models import LoginFailure
from zonewarden.registry.models import RegistrarUser


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin[LoginFailure]):
    """Failed log-ins in the current window; deleting a user's rows unlocks it at once."""

    list_display = ["key", "at"]
    search_fields = ["key"]
    readonly_fields = ["key", "at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class RegistrarLinkInline(admin.StackedInline[RegistrarUser, User]):
    """The registrar a registrar user acts for (one at most)."""

    model = RegistrarUser
    max_num = 1
    extra = 0
    autocomplete_fields = ["registrar"]


admin.site.unregister(User)


@admin.register(User)
class ZonewardenUserAdmin(UserAdmin):
    """Django's user admin, with the user's registrar (see also `zonewarden users`)."""

    inlines = [RegistrarLinkInline]
    list_display = ["username", "email", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser", "groups", "registrar_membership__registrar"]
