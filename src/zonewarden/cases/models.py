"""Cases, their audit trail, the policy that paces them and the legal grounds they cite."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from zonewarden.domains.models import Domain


class State(models.TextChoices):
    """The states of a case (DESIGN.md, "Case states")."""

    RECORDED = "recorded", _("recorded")
    NOTIFYING = "notifying", _("notifying")
    RESOLVED = "resolved", _("resolved")
    REJECTED = "rejected", _("rejected")
    ESCALATED = "escalated", _("escalated")
    WITHDRAWN = "withdrawn", _("withdrawn")
    SUSPENDED = "suspended", _("suspended")
    RESTORATION_REQUESTED = "restoration_requested", _("restoration requested")
    RESTORED = "restored", _("restored")
    CLOSED = "closed", _("closed")


# A domain has at most one case in these states at a time.
OPEN_STATES = (
    State.RECORDED,
    State.NOTIFYING,
    State.ESCALATED,
    State.SUSPENDED,
    State.RESTORATION_REQUESTED,
    State.RESTORED,
)


class LegalGround(models.Model):
    """A ground for acting on a name, with its reference in the Rules (data: the Rules get amended)."""

    code = models.SlugField(max_length=64, primary_key=True)
    reference = models.CharField(max_length=300, help_text="e.g. paragraph 16, sub-paragraph 4 of the Rules")
    text_en = models.TextField()
    text_ru = models.TextField(blank=True)
    text_kk = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} ({self.reference})"


class Policy(models.Model):
    """The pace of the process, one row, edited by an administrator."""

    notice_interval_working_days = models.PositiveSmallIntegerField(
        default=3, help_text="Working days the owner has after each notice before the next one"
    )
    notices_before_escalation = models.PositiveSmallIntegerField(
        default=3, help_text="Notices sent without a fix before the case is due for escalation"
    )
    registry_deadline_business_days = models.PositiveSmallIntegerField(
        default=1, help_text="Business days the registry has to act on a request"
    )
    registrar_deadline_working_days = models.PositiveSmallIntegerField(
        default=10, help_text="Working days a registrar has to report after a suspension"
    )
    auto_escalate = models.BooleanField(
        default=False, help_text="Let the clock escalate cases due for escalation without an analyst"
    )
    unreachable_counts_as_fixed = models.BooleanField(
        default=False,
        help_text="Count a site that no longer resolves or refuses connections as fixed "
        "(off: it is still there, as it may come back)",
    )
    escalation_ground = models.ForeignKey(
        LegalGround,
        on_delete=models.PROTECT,
        related_name="+",
        default="unremedied-incident",
        help_text="The ground cited when an owner does not eliminate an incident",
    )
    unreliable_registrant_ground = models.ForeignKey(
        LegalGround,
        on_delete=models.PROTECT,
        related_name="+",
        default="unreliable-registrant",
        help_text="The ground cited when the registrant data is unreliable",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "policy"

    def __str__(self) -> str:
        return "Policy"

    @classmethod
    def current(cls) -> Policy:
        """Return the policy row, creating it with the defaults on first use."""
        policy, _ = cls.objects.get_or_create(pk=1)
        return policy


class Case(models.Model):
    """Everything done about one registered name while its incidents are open."""

    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="cases")
    state = models.CharField(max_length=32, choices=State.choices, default=State.RECORDED, db_index=True)
    grounds = models.ManyToManyField(LegalGround, blank=True, related_name="cases")
    opened_at = models.DateTimeField()
    notices_sent = models.PositiveSmallIntegerField(default=0)
    last_notice_at = models.DateTimeField(null=True, blank=True)
    owner_deadline = models.DateTimeField(
        null=True, blank=True, help_text="End of the owner's time after the last notice"
    )
    escalation_due_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    registry_deadline = models.DateTimeField(null=True, blank=True)
    registry_late = models.BooleanField(default=False)
    suspended_at = models.DateTimeField(null=True, blank=True)
    fix_verified_at = models.DateTimeField(
        null=True, blank=True, help_text="When re-checks found every incident gone while suspended"
    )
    registrar_deadline = models.DateTimeField(null=True, blank=True)
    registrar_late = models.BooleanField(default=False)
    closed_at = models.DateTimeField(null=True, blank=True)
    # What the clock must look at next, whatever it is; the tick polls this column.
    next_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at"]
        # The case lists page through cases newest first; without this every page sorts them all.
        indexes = [models.Index(fields=["-opened_at", "-id"], name="case_newest_first")]
        constraints = [
            models.UniqueConstraint(
                fields=["domain"],
                condition=models.Q(state__in=[s.value for s in OPEN_STATES]),
                name="one_open_case_per_domain",
            )
        ]

    def __str__(self) -> str:
        return f"case {self.pk} ({self.domain_id}, {self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class ImmutableQuerySet(models.QuerySet["CaseEvent"]):
    """A queryset that refuses to change audit records in bulk."""

    def update(self, **kwargs: Any) -> int:
        raise PermissionError("case events are never updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("case events are never deleted")


class CaseEvent(models.Model):
    """One step of a case: who, what, on which ground, when; chained by hash to the step before."""

    seq = models.PositiveBigIntegerField(unique=True, help_text="Position in the audit chain")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    actor = models.CharField(max_length=150, help_text="user:NAME, or system:tick / system:worker")
    action = models.CharField(max_length=64, help_text="Dotted code, e.g. case.escalated")
    grounds = models.CharField(
        max_length=300, blank=True, help_text="Codes of the legal grounds, comma-separated"
    )
    at = models.DateTimeField()  # read by case (its index) in seq order; no index of its own
    state_before = models.CharField(max_length=32)
    state_after = models.CharField(max_length=32)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    # Checked by `audit verify` along the chain; an index on it would only slow every insert.
    hash = models.CharField(max_length=64)

    objects: ClassVar[models.Manager[CaseEvent]] = ImmutableQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} on case {self.case_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("case events are never updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("case events are never deleted")


class AuditHead(models.Model):
    """The end of the audit chain: its last position and hash, locked by each writer in turn."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"audit head #{self.seq}"
