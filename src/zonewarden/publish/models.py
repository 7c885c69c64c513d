"""Suspensions and restorations on their way to the DNS (see the module docs of publish.service)."""

from __future__ import annotations

from django.db import models


class Publication(models.Model):
    """One change of a name's delegation to publish: applied once, retried until it is."""

    class Action(models.TextChoices):
        SUSPEND = "suspend", "remove the delegation"
        RESTORE = "restore", "put the delegation back"

    class State(models.TextChoices):
        PENDING = "pending", "pending"
        APPLIED = "applied", "applied and read back"
        FAILED = "failed", "failed for good"

    domain = models.ForeignKey("domains.Domain", on_delete=models.PROTECT, related_name="publications")
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="publications"
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    dedupe_key = models.CharField(max_length=300, unique=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    results = models.JSONField(default=dict, blank=True, help_text="What each publisher did")
    readback = models.JSONField(
        default=dict, blank=True, help_text="What the authoritative server answered after"
    )
    created_at = models.DateTimeField()
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.action} {self.domain_id}: {self.state}"
