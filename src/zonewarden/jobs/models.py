"""Work queued inside a transaction and done by a worker after it commits."""

from __future__ import annotations

from django.db import models


class Job(models.Model):
    """One piece of queued work: a notice to send, a check to run, a DNS change to publish."""

    class State(models.TextChoices):
        PENDING = "pending", "pending"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    kind = models.CharField(max_length=64, help_text="Dotted name of the handler, e.g. notice.send")
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="jobs"
    )
    payload = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(
        max_length=200, unique=True, null=True, blank=True, help_text="The same work queued twice is one job"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    due_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=8)
    claimed_by = models.CharField(max_length=100, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["state", "due_at"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state})"


class WorkerHeartbeat(models.Model):
    """A worker's sign of life: written when it starts, on every round of its loop, and when it stops."""

    name = models.CharField(max_length=300, unique=True, help_text="host:pid of the worker process")
    version = models.CharField(max_length=40, blank=True, help_text="zonewarden's version in that process")
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(help_text="The last round of the worker's loop")
    stopped_at = models.DateTimeField(
        null=True, blank=True, help_text="When it stopped cleanly; empty while it runs (or if it died)"
    )
    tick_at = models.DateTimeField(null=True, blank=True, help_text="When this worker last ran the tick")
    tick_seconds = models.FloatField(null=True, blank=True, help_text="How long that tick took, in seconds")
    lanes = models.JSONField(
        default=dict,
        blank=True,
        help_text="Per lane the worker runs: its last finished round and item, since when it works "
        "on the current one, the last error",
    )

    class Meta:
        ordering = ["-beat_at"]

    def __str__(self) -> str:
        return self.name
