from __future__ import annotations

from django.contrib import admin

from zonewarden.jobs.models import Job, WorkerHeartbeat
from zonewarden.records_admin import RecordAdmin


@admin.register(Job)
class JobAdmin(admin.ModelAdmin[Job]):
    list_display = ["id", "kind", "case", "state", "due_at", "attempts", "claimed_by"]
    list_filter = ["state", "kind"]
    raw_id_fields = ["case"]
    readonly_fields = ["created_at", "finished_at", "claimed_by", "lease_until", "last_error"]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(RecordAdmin[WorkerHeartbeat]):
    """The workers' heartbeats, as the workers wrote them: read-only."""

    list_display = ["name", "version", "started_at", "beat_at", "stopped_at", "tick_seconds"]
    search_fields = ["name"]
    readonly_fields = [
        "name",
        "version",
        "started_at",
        "beat_at",
        "stopped_at",
        "tick_at",
        "tick_seconds",
        "lanes",
    ]
