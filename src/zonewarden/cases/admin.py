from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from zonewarden.cases.models import Case, CaseEvent, LegalGround, Policy
from zonewarden.records_admin import RecordAdmin


@admin.register(LegalGround)
class LegalGroundAdmin(admin.ModelAdmin[LegalGround]):
    list_display = ["code", "reference", "active"]
    list_filter = ["active"]


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin[Policy]):
    list_display = [
        "__str__",
        "notice_interval_working_days",
        "notices_before_escalation",
        "registry_deadline_business_days",
        "registrar_deadline_working_days",
        "auto_escalate",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not Policy.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CaseEventInline(admin.TabularInline[CaseEvent, Case]):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ("seq", "at", "actor", "action", "state_before", "state_after", "grounds", "detail")
    readonly_fields = fields
    ordering = ["seq"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin[Case]):
    list_display = ["id", "domain", "state", "notices_sent", "next_due_at", "registry_late", "registrar_late"]
    list_filter = ["state", "registry_late", "registrar_late"]
    search_fields = ["domain__name", "domain__unicode_name"]
    raw_id_fields = ["domain"]
    # The state moves only through the workflow's operations, never by editing the row.
    readonly_fields = [f.name for f in Case._meta.concrete_fields if f.name != "id"]
    inlines = [CaseEventInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CaseEvent)
class CaseEventAdmin(RecordAdmin[CaseEvent]):
    list_display = ["seq", "at", "case", "actor", "action", "state_before", "state_after", "grounds"]
    list_filter = ["action"]
    search_fields = ["actor", "action", "case__domain__name"]
    readonly_fields = [f.name for f in CaseEvent._meta.concrete_fields]
