"""Incidents and the taxonomy they are sorted by."""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from zonewarden import clock
from zonewarden.domains.models import Domain


class Category(models.Model):
    """A category of the incident taxonomy (phishing, malware, defacement, compromised, other)."""

    code = models.SlugField(max_length=32, primary_key=True)
    name_en = models.CharField(max_length=100)
    name_ru = models.CharField(max_length=100, blank=True)
    name_kk = models.CharField(max_length=100, blank=True)
    feed_labels = models.JSONField(
        default=list,
        blank=True,
        help_text="Feeds' own category labels that map to this one, e.g. malware_download",
    )

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name_en

    @property
    def label(self) -> str:
        """The name in the active language (Kazakh, Russian), else the English one."""
        language = (get_language() or "en")[:2]
        return str(getattr(self, f"name_{language}", "") or self.name_en or self.code)


class Incident(models.Model):
    """One normalized URL of one category on a registered name; reported again, it grows its sources."""

    class Status(models.TextChoices):
        REPORTED = "reported", _("reported")
        CONFIRMED = "confirmed", _("confirmed")
        REJECTED = "rejected", _("rejected")
        GONE = "gone", _("gone")

    key = models.CharField(max_length=64, unique=True, help_text="SHA-256 of category and normalized URL")
    # Indexed through the (domain, status) index below, which serves look-ups by domain alone too.
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="incidents", db_index=False)
    url = models.TextField()
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="incidents")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REPORTED)
    sources = models.JSONField(default=list, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    evidence = models.JSONField(default=dict, blank=True)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents"
    )
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["-last_seen"]
        indexes = [models.Index(fields=["domain", "status"])]

    def __str__(self) -> str:
        return f"{self.category_id}: {self.url}"


class Ingest(models.Model):
    """One file taken in: what it was, what came of each row, who brought it and when."""

    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField(default=0)
    format = models.CharField(max_length=32)
    source = models.CharField(max_length=64)
    counts = models.JSONField(
        default=dict, help_text="read, rejected, no_domain, outside_zone, in_zone, new, duplicate"
    )
    rejected_rows = models.JSONField(default=list, help_text='[{"line": N, "reason": "…"}]')
    rejected_total = models.PositiveIntegerField(default=0)
    actor = models.CharField(max_length=150)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.format}, {self.started_at:%Y-%m-%d %H:%M})"
