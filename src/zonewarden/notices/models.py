"""The outbox of notices, the mail that comes back (bounces, replies), and the embedded mail sink."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Notice(models.Model):
    """One message to send: composed, claimed by one worker, sent once, its fate recorded.

    States: pending (waiting for its next attempt) → sending (claimed; a worker is talking to the
    SMTP server) → sent, or back to pending with a later attempt when SMTP failed, or failed for
    good. A worker that died while sending leaves the row `sending`; when its lease runs out the
    row becomes `unconfirmed`: the SMTP server may have taken the message, so it is not sent again
    unless its copy is found (the archive copy, the embedded sink) or an analyst decides.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        UNCONFIRMED = "unconfirmed", _("unconfirmed (the worker died while sending)")
        CANCELLED = "cancelled", _("cancelled (the case moved on before it went out)")

    class Kind(models.TextChoices):
        OWNER = "owner", _("notice to the owner")
        REGISTRAR = "registrar", _("notice to the registrar")
        OTHER = "other", _("other")

    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="notices"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.OWNER)
    number = models.PositiveSmallIntegerField(default=1, help_text="Notice 1, reminder 2, 3, … of the case")
    dedupe_key = models.CharField(max_length=200, unique=True, help_text="One notice per key, ever")
    recipients = models.JSONField(default=list)
    languages = models.CharField(max_length=32, help_text="Languages of the body in order, e.g. kk,ru,en")
    from_email = models.CharField(max_length=254)
    reply_to = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=400, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    message_id = models.CharField(max_length=254, unique=True)
    deadline = models.DateTimeField(null=True, blank=True, help_text="The owner's deadline the body states")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=10)
    next_attempt_at = models.DateTimeField(db_index=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    attempt_started_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number} ({self.state}) {', '.join(self.recipients)}"


class InboundMail(models.Model):
    """A message that came back: a delivery-status report, an automatic reply, or a person's reply."""

    class Kind(models.TextChoices):
        HARD_BOUNCE = "hard_bounce", _("hard bounce")
        SOFT_BOUNCE = "soft_bounce", _("soft bounce")
        AUTO_REPLY = "auto_reply", _("automatic reply")
        REPLY = "reply", _("reply")
        ARCHIVE_COPY = "archive_copy", _("our own copy of a notice")
        OTHER = "other", _("other")

    message_id = models.CharField(max_length=998, blank=True, db_index=True)
    sha256 = models.CharField(max_length=64, unique=True, help_text="Of the raw message: read once")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    notice = models.ForeignKey(
        Notice, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound"
    )
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_mail"
    )
    from_address = models.CharField(max_length=998, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    summary = models.TextField(blank=True, help_text="What was understood: status, failed recipients")
    raw = models.BinaryField(help_text="The message as received, size-capped")
    received_at = models.DateTimeField()
    handled = models.BooleanField(default=False, help_text="An analyst has looked at it")

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject[:80]}"


class SinkMessage(models.Model):
    """A message the embedded mail sink took instead of sending it (the default outside production)."""

    message_id = models.CharField(max_length=998, blank=True, db_index=True)
    from_email = models.CharField(max_length=998, blank=True)
    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=998, blank=True)
    raw = models.TextField()
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.subject[:80]} → {', '.join(self.recipients)}"


class RecipientLanguage(models.Model):
    """The languages notices to one address are written in, where the default does not suit."""

    email = models.CharField(max_length=254, unique=True, help_text="Compared without regard to case")
    languages = models.CharField(
        max_length=32, help_text="Codes in order, comma-separated, from kk, ru, en; e.g. ru,en or en"
    )

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return f"{self.email}: {self.languages}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)  # type: ignore[arg-type]
