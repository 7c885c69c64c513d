"""Checks of incidents (what a URL served at a time, and the verdict) and the rules behind verdicts."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Verdict(models.TextChoices):
    PRESENT = "present", _("still there")
    GONE = "gone", _("gone")
    UNREACHABLE = "unreachable", _("unreachable (no such host, or it refuses)")
    REFUSED = "refused", _("not checked: the address is not public")
    ERROR = "error", _("not checked: error")


class Purpose(models.TextChoices):
    MANUAL = "manual", "asked for"
    REMINDER = "reminder", "before a reminder"
    ESCALATION = "escalation", "before escalation"
    OWNER_REPORT = "owner_report", "the owner reported a fix"
    REGISTRY = "registry", "before the registry acts"
    RESTORATION = "restoration", "before restoration"
    ADHOC = "adhoc", "a URL checked from the command line"


class Check(models.Model):
    """One fetch of an incident's URL and what it showed; kept as evidence, never changed."""

    incident = models.ForeignKey(
        "intake.Incident", null=True, blank=True, on_delete=models.CASCADE, related_name="checks"
    )
    url = models.TextField()
    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.MANUAL)
    at = models.DateTimeField(db_index=True)
    duration_ms = models.PositiveIntegerField(default=0)
    final_url = models.TextField(blank=True)
    redirects = models.JSONField(default=list, blank=True)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    content_type = models.CharField(max_length=200, blank=True)
    body_size = models.PositiveIntegerField(default=0)
    body_sha256 = models.CharField(max_length=64, blank=True)
    body_head = models.BinaryField(blank=True, default=b"", help_text="The first bytes, as evidence")
    title = models.CharField(max_length=500, blank=True)
    simhash = models.CharField(max_length=16, blank=True, help_text="Fuzzy hash of the page's text")
    credential_form = models.BooleanField(default=False)
    addresses = models.JSONField(default=list, blank=True)
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    reason = models.TextField(blank=True)
    screenshot = models.BinaryField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["incident", "-at"])]

    def __str__(self) -> str:
        return f"{self.url[:80]}: {self.verdict}"


class VerdictRule(models.Model):
    """One way a category's incident counts as still there; any active rule that holds is enough.

    kinds and their parameters:
      credential_form   — the page has a password field (no parameter)
      same_title        — the title equals the first check's (no parameter)
      similar_body      — the text's fuzzy hash is within {"min_similarity": 0.8} of the first check's
      same_payload      — the body's SHA-256 equals the first check's (no parameter)
      content_type      — {"types": [...]} the served type is one of these, or the body starts like
                          an executable or archive ({"magic": true})
      marker_text       — {"markers": [...]} one of these texts (case-insensitive) is on the page;
                          the incident's own `marker`/`defacer` evidence is added
    """

    class Kind(models.TextChoices):
        CREDENTIAL_FORM = "credential_form", "a credential form"
        SAME_TITLE = "same_title", "the same title"
        SIMILAR_BODY = "similar_body", "a similar body (fuzzy hash)"
        SAME_PAYLOAD = "same_payload", "the same payload (SHA-256)"
        CONTENT_TYPE = "content_type", "an executable or archive is served"
        MARKER_TEXT = "marker_text", "the defacer's marker text"

    category = models.ForeignKey("intake.Category", on_delete=models.CASCADE, related_name="verdict_rules")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    parameters = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["category", "kind"]
        constraints = [models.UniqueConstraint(fields=["category", "kind"], name="one_rule_per_kind")]

    def __str__(self) -> str:
        return f"{self.category_id}: {self.get_kind_display()}"
