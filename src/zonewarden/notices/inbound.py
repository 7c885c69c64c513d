"""Mail that comes back: bounces, automatic and personal replies, and our own archive copies.

`take_in` stores each message once (by its SHA-256), finds the notice it is about through the
Message-IDs it refers to (In-Reply-To, References, the returned message inside a delivery-status
report), and acts:

  hard bounce   — the contact whose address failed is marked unreliable and the case gets the
                  unreliable-registrant ground with the report as evidence (`notice.bounced`)
  soft bounce   — noted on the case (`notice.soft_bounce`); the address is not judged on it
  auto-reply    — noted (`notice.auto_reply`)
  reply         — attached to the case for an analyst (`notice.reply_received`)
  archive copy  — a message whose own Message-ID is one of our notices' is the blind copy the
                  archive got: the SMTP server took that notice, so a notice left `sending` or
                  `unconfirmed` by a worker that died is recorded as sent (once)

`poll_maildir` reads a Maildir's new/ folder and moves each message to cur/ only after storing it,
so a crash re-reads it and the hash makes that harmless.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from zonewarden.cases import workflow
from zonewarden.cases.models import Case
from zonewarden.domains.models import Contact
from zonewarden.domains.unreliable import record_unreliable
from zonewarden.notices.mailparse import InboundMessage, classify_message, iter_maildir_new, mark_seen
from zonewarden.notices.models import InboundMail, Notice
from zonewarden.notices.outbox import confirm_sent

log = logging.getLogger("zonewarden.inbound")
RAW_LIMIT = 1 << 20
KINDS = {
    "hard_bounce": InboundMail.Kind.HARD_BOUNCE,
    "soft_bounce": InboundMail.Kind.SOFT_BOUNCE,
    "auto_reply": InboundMail.Kind.AUTO_REPLY,
    "reply": InboundMail.Kind.REPLY,
    "unknown": InboundMail.Kind.OTHER,
}


def _bracketed(ids: list[str | None]) -> set[str]:
    found = set()
    for item in ids:
        if item:
            bare = item.strip().strip("<>")
            found |= {f"<{bare}>", bare}
    return found


def _summary(message: InboundMessage) -> str:
    parts = [message.kind.replace("_", " ")]
    if message.status:
        parts.append(f"status {message.status}")
    if message.failed_recipients:
        parts.append("failed: " + ", ".join(message.failed_recipients[:10]))
    if message.diagnostic:
        parts.append(message.diagnostic[:300])
    if message.reason:
        parts.append(message.reason[:300])
    return "; ".join(parts)


def take_in(raw: bytes, *, actor: str = "system:mail", at: dt.datetime | None = None) -> InboundMail | None:
    """Store and act on one incoming message; None when the same bytes were taken in before."""
    moment = at or timezone.now()
    data = bytes(raw)
    digest = hashlib.sha256(data).hexdigest()
    if InboundMail.objects.filter(sha256=digest).exists():
        return None
    message = classify_message(data)
    own = (
        Notice.objects.filter(message_id__in=_bracketed([message.message_id])).first()
        if message.message_id
        else None
    )
    if own is not None:
        kind = InboundMail.Kind.ARCHIVE_COPY
        notice: Notice | None = own
    else:
        kind = KINDS.get(message.kind, InboundMail.Kind.OTHER)
        referred = _bracketed([message.original_message_id, *message.in_reply_to, *message.references])
        notice = Notice.objects.filter(message_id__in=referred).order_by("-pk").first() if referred else None
    try:
        with transaction.atomic():
            mail = InboundMail.objects.create(
                message_id=(message.message_id or "")[:998],
                sha256=digest,
                kind=kind,
                notice=notice,
                case_id=notice.case_id if notice else None,
                from_address=(message.from_address or "")[:998],
                subject=message.subject[:998],
                summary=_summary(message)[:4000],
                raw=data[:RAW_LIMIT],
                received_at=moment,
            )
            if notice is not None:
                _act(mail, message, notice, actor=actor, at=moment)
    except IntegrityError:
        return None  # the same message, stored by another reader at the same moment
    return mail


def _act(mail: InboundMail, message: InboundMessage, notice: Notice, *, actor: str, at: dt.datetime) -> None:
    if mail.kind == InboundMail.Kind.ARCHIVE_COPY:
        if notice.state in (Notice.State.SENDING, Notice.State.UNCONFIRMED):
            sent_at = notice.attempt_started_at or message.received_at or at
            confirm_sent(notice, at=sent_at, actor=actor, how=f"its archive copy arrived (inbound {mail.pk})")
        return
    case = Case.objects.filter(pk=notice.case_id).first() if notice.case_id else None
    if case is None:
        return
    detail = {
        "inbound": mail.pk,
        "notice": notice.pk,
        "from": mail.from_address,
        "subject": mail.subject[:200],
    }
    if mail.kind == InboundMail.Kind.HARD_BOUNCE:
        detail |= {
            "status": message.status,
            "diagnostic": (message.diagnostic or "")[:300],
            "failed": message.failed_recipients[:10],
        }
        workflow.record_event(
            case, action="notice.bounced", actor=actor, at=at, state_before=case.state, detail=detail
        )
        failed = {address.lower() for address in message.failed_recipients} or {
            r.lower() for r in notice.recipients
        }
        domain = case.domain
        for contact in _contacts(domain.registrant_id, domain.admin_contact_id):
            if contact.email.strip().lower() in failed and case.is_open:
                record_unreliable(
                    contact,
                    reason="a notice to the contact's address bounced",
                    evidence={
                        "status": message.status,
                        "diagnostic": (message.diagnostic or "")[:300],
                        "message_id": notice.message_id,
                        "inbound": mail.pk,
                    },
                    actor=actor,
                    at=at,
                    cases=[case],
                )
    else:
        action = {
            InboundMail.Kind.SOFT_BOUNCE: "notice.soft_bounce",
            InboundMail.Kind.AUTO_REPLY: "notice.auto_reply",
            InboundMail.Kind.REPLY: "notice.reply_received",
        }.get(InboundMail.Kind(mail.kind), "notice.mail_received")
        workflow.record_event(case, action=action, actor=actor, at=at, state_before=case.state, detail=detail)


def _contacts(*ids: int | None) -> list[Contact]:
    wanted = [pk for pk in ids if pk is not None]
    return list(Contact.objects.filter(pk__in=wanted)) if wanted else []


@dataclass
class PollSummary:
    read: int = 0
    stored: int = 0
    duplicate: int = 0
    kinds: dict[str, int] = field(default_factory=dict)


def poll_maildir(
    path: str | Path | None = None, *, actor: str = "system:worker", at: dt.datetime | None = None
) -> PollSummary:
    """Take in every new message of the Maildir (ZONEWARDEN_MAILDIR by default), then mark it seen."""
    summary = PollSummary()
    folder = path or settings.ZONEWARDEN_MAILDIR
    if not folder:
        return summary
    for file, data in iter_maildir_new(folder):
        summary.read += 1
        mail = take_in(data, actor=actor, at=at)
        if mail is None:
            summary.duplicate += 1
        else:
            summary.stored += 1
            summary.kinds[mail.kind] = summary.kinds.get(mail.kind, 0) + 1
        try:
            mark_seen(file)
        except FileNotFoundError:
            continue  # another poller moved it meanwhile
    return summary
