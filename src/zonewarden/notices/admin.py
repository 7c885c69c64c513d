"""Admin pages of the outbox, the mail that came back, the sink, and recipients' languages."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from zonewarden.notices.models import InboundMail, Notice, RecipientLanguage, SinkMessage


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Notice)
class NoticeAdmin(ReadOnly):
    list_display = ["pk", "kind", "number", "case", "state", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["state", "kind"]
    search_fields = ["message_id", "recipients", "case__domain__name"]
    date_hierarchy = "created_at"


@admin.register(InboundMail)
class InboundMailAdmin(ReadOnly):
    list_display = ["pk", "kind", "from_address", "subject", "case", "received_at", "handled"]
    list_filter = ["kind", "handled"]
    search_fields = ["message_id", "from_address", "subject"]
    exclude = ["raw"]


@admin.register(SinkMessage)
class SinkMessageAdmin(ReadOnly):
    list_display = ["pk", "subject", "from_email", "recipients", "received_at"]
    search_fields = ["message_id", "subject", "recipients"]


@admin.register(RecipientLanguage)
class RecipientLanguageAdmin(admin.ModelAdmin):
    list_display = ["email", "languages"]
    search_fields = ["email"]
