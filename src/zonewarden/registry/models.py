"""Requests to the registry (escalation = suspend these names; restoration = lift the hold), their
items with deadlines and outcomes, and registrars' reports after a suspension."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegistryRequest(models.Model):
    """One formal letter to the registry (and the authorized body), numbered and dated."""

    class Kind(models.TextChoices):
        ESCALATION = "escalation", _("suspension request")
        RESTORATION = "restoration", _("restoration request")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    number = models.CharField(max_length=32, unique=True, help_text="e.g. KZ-CERT/E-2026-0007")
    year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)
    pdf = models.BinaryField()
    pdf_sha256 = models.CharField(max_length=64)
    docx = models.BinaryField()
    docx_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "year", "sequence"], name="one_number_per_kind_year")
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.get_kind_display()}, {self.items.count()} names)"


class RequestItem(models.Model):
    """One name of a request: the registry's deadline, and what it did."""

    class Outcome(models.TextChoices):
        SUSPENDED = "suspended", _("suspended")
        WITHDRAWN = "withdrawn", _("withdrawn (fixed meanwhile)")
        REJECTED = "rejected", _("rejected (not registered, wrong data)")
        RESTORED = "restored", _("restored")

    request = models.ForeignKey(RegistryRequest, on_delete=models.PROTECT, related_name="items")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="registry_items")
    domain = models.ForeignKey("domains.Domain", on_delete=models.PROTECT, related_name="registry_items")
    received_at = models.DateTimeField()
    deadline = models.DateTimeField(db_index=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    reason = models.TextField(blank=True)
    decided_by = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["deadline", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["request", "case"], name="one_item_per_case_and_request")
        ]

    def __str__(self) -> str:
        return f"{self.domain_id} in {self.request.number}: {self.outcome or 'open'}"

    @property
    def is_open(self) -> bool:
        return not self.outcome


class RegistrarReport(models.Model):
    """What a registrar reports having done about a suspended name."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="registrar_reports")
    registrar = models.ForeignKey("domains.Registrar", on_delete=models.PROTECT, related_name="reports")
    text = models.TextField()
    filed_by = models.CharField(max_length=150)
    filed_at = models.DateTimeField()
    late = models.BooleanField(default=False, help_text="Filed after the registrar's deadline")

    class Meta:
        ordering = ["-filed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.registrar} on {self.case.domain_id} ({self.filed_at:%Y-%m-%d})"


class RegistrarUser(models.Model):
    """A user who acts for one registrar: sees that registrar's suspended names only."""

    user = models.OneToOneField("auth.User", on_delete=models.CASCADE, related_name="registrar_membership")
    registrar = models.ForeignKey("domains.Registrar", on_delete=models.CASCADE, related_name="users")

    def __str__(self) -> str:
        return f"{self.user} for {self.registrar}"
