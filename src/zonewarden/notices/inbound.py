"""Mail that comes back: bounces, automatic and personal replies, and our own archive copies.

`take_in` stores each message once (by the SHA-256 of its bytes), finds the notice it is about
through the Message-IDs it refers to (the returned message's id inside a delivery-status report,
In-Reply-To, References), and acts, in the same transaction as the row it stores:

  hard bounce   — the case's registrant or administrative contact whose address failed is marked
                  unreliable, and the open case gets the unreliable-registrant ground with the
                  report as evidence (`notice.bounced`, `registrant.unreliable`)
  soft bounce   — noted on the case (`notice.soft_bounce`); the address is not judged on it
  auto-reply    — noted (`notice.auto_reply`)
  reply         — noted on the case for an analyst (`notice.reply_received`)
  archive copy  — a message whose own Message-ID is one of our notices' is the blind copy the
                  archive got: the SMTP server took that notice, so a notice left `sending` or
                  `unconfirmed` by a worker that died is recorded as sent (once)

A message about no notice of ours is stored on no case, for an analyst. Everything read here is
hostile: the parser never raises, and what is stored is cut to size (the raw bytes at `RAW_LIMIT`).

`poll_maildir` reads a Maildir's new/ folder and moves each message to cur/ only after storing it,
so a crash re-reads it and the hash makes that harmless.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from zonewarden import clock
from zonewarden.cases import workflow
from zonewarden.cases.models import Case
from zonewarden.domains.models import Contact
from zonewarden.domains.unreliable import record_unreliable
from zonewarden.notices.mailparse import InboundMessage, classify_message, iter_maildir_new, mark_seen
from zonewarden.notices.models import InboundMail, Notice
from zonewarden.notices.outbox import confirm_sent

__all__ = ["RAW_LIMIT", "PollSummary", "confirm_sent", "notice_referred_to", "poll_maildir", "take_in"]

log = logging.getLogger("zonewarden.inbound")

RAW_LIMIT = 1 << 20  # bytes of a message kept as evidence
CLASSIFY_LIMIT = 8 << 20  # bytes parsed: headers, the report and the text come first
SUMMARY_LIMIT = 4000
KINDS = {
    "hard_bounce": InboundMail.Kind.HARD_BOUNCE,
    "soft_bounce": InboundMail.Kind.SOFT_BOUNCE,
    "auto_reply": InboundMail.Kind.AUTO_REPLY,
    "reply": InboundMail.Kind.REPLY,
    "unknown": InboundMail.Kind.OTHER,
}
EVENTS = {
    InboundMail.Kind.SOFT_BOUNCE: "notice.soft_bounce",
    InboundMail.Kind.AUTO_REPLY: "notice.auto_reply",
    InboundMail.Kind.REPLY: "notice.reply_received",
    InboundMail.Kind.OTHER: "notice.mail_received",
}
_MESSAGE_ID_LENGTH = Notice._meta.get_field("message_id").max_length or 254


# --- Which notice a message is about -------------------------------------------------------------


def _id_key(value: str) -> str | None:
    """Return a Message-ID as compared here: in angle brackets, its domain part lower case.

    The local part stays as it is (it is case-sensitive, and ours is what we generated); mail
    systems that rewrite ids only ever touch the domain's case.
    """
    bare = value.strip().strip("<>").strip()
    if not bare or any(char.isspace() or char in "<>" for char in bare):
        return None
    local, at, domain = bare.rpartition("@")
    key = f"<{local}@{domain.lower()}>" if at else f"<{bare}>"
    return key if len(key) <= _MESSAGE_ID_LENGTH else None


def _id_forms(values: Iterable[str]) -> set[str]:
    """Return the spellings under which the outbox may hold the given ids: as sent, and normalised."""
    forms: set[str] = set()
    for value in values:
        key = _id_key(value)
        if key is None:
            continue
        forms.add(key)
        given = f"<{value.strip().strip('<>').strip()}>"
        if len(given) <= _MESSAGE_ID_LENGTH:
            forms.add(given)
    return forms


def _notices_by_key(ids: list[str]) -> dict[str, Notice]:
    """Return our notices among the given ids, by their normalised id."""
    forms = _id_forms(ids)
    if not forms:
        return {}
    found: dict[str, Notice] = {}
    for notice in Notice.objects.filter(message_id__in=forms).order_by("pk"):
        key = _id_key(notice.message_id)
        if key is not None:
            found.setdefault(key, notice)
    return found


def notice_referred_to(message: InboundMessage) -> Notice | None:
    """Return the notice a bounce or reply is about, or None.

    The returned message's own id inside a delivery-status report names it best; then In-Reply-To;
    then References, newest (last) first, since a reply to a reminder still lists the first notice.
    """
    ordered = [
        *([message.original_message_id] if message.original_message_id else []),
        *message.in_reply_to,
        *reversed(message.references),
    ]
    found = _notices_by_key(ordered)
    for value in ordered:
        key = _id_key(value)
        if key is not None and key in found:
            return found[key]
    return None


def _own_notice(message: InboundMessage) -> Notice | None:
    """Return the notice this message is a copy of (its own Message-ID is the notice's), or None."""
    if not message.message_id:
        return None
    key = _id_key(message.message_id)
    return _notices_by_key([message.message_id]).get(key) if key else None


# --- Taking one message in -----------------------------------------------------------------------


def _summary(message: InboundMessage, notice: Notice | None, kind: str) -> str:
    """Say in one line what was understood of a message."""
    parts = [kind.replace("_", " ")]
    if message.status:
        parts.append(f"status {message.status}")
    if message.failed_recipients:
        parts.append("failed: " + ", ".join(message.failed_recipients[:10]))
    if message.diagnostic:
        parts.append(message.diagnostic[:300])
    if message.reason:
        parts.append(message.reason[:300])
    parts.append(f"about notice {notice.pk} ({notice.message_id})" if notice else "about no notice of ours")
    return "; ".join(parts)[:SUMMARY_LIMIT]


def take_in(raw: bytes, *, actor: str, at: dt.datetime | None = None) -> InboundMail | None:
    """Store one incoming message and act on it; None when the same bytes were taken in before."""
    moment = at or clock.now()
    data = bytes(raw)
    digest = hashlib.sha256(data).hexdigest()
    if InboundMail.objects.filter(sha256=digest).exists():
        return None
    message = classify_message(data[:CLASSIFY_LIMIT])
    own = _own_notice(message)
    notice: Notice | None
    if own is not None:
        kind: str = InboundMail.Kind.ARCHIVE_COPY
        notice = own
    else:
        kind = KINDS.get(message.kind, InboundMail.Kind.OTHER)
        notice = notice_referred_to(message)
    with transaction.atomic():
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
                    summary=_summary(message, notice, kind),
                    raw=data[:RAW_LIMIT],
                    received_at=moment,
                )
        except IntegrityError:
            if InboundMail.objects.filter(sha256=digest).exists():
                return None  # the same message, stored by another reader at the same moment
            raise
        if notice is not None:
            _act(mail, message, notice, actor=actor, at=moment)
    return mail


def _act(mail: InboundMail, message: InboundMessage, notice: Notice, *, actor: str, at: dt.datetime) -> None:
    """Do what a message about one of our notices calls for; a case that moved on is only noted."""
    try:
        with transaction.atomic():
            if mail.kind == InboundMail.Kind.ARCHIVE_COPY:
                _confirm_from_copy(mail, message, notice, actor=actor, at=at)
                return
            if notice.case_id is None:
                return
            # Locked, so that the case cannot close between the look and the ground.
            case = Case.objects.select_for_update().get(pk=notice.case_id)
            if mail.kind == InboundMail.Kind.HARD_BOUNCE:
                _hard_bounce(mail, message, notice, case, actor=actor, at=at)
            else:
                detail = _detail(mail, notice)
                if mail.kind == InboundMail.Kind.SOFT_BOUNCE:
                    detail |= {"status": message.status, "diagnostic": (message.diagnostic or "")[:300]}
                action = EVENTS.get(InboundMail.Kind(mail.kind), "notice.mail_received")
                workflow.record_event(
                    case, action=action, actor=actor, at=at, state_before=case.state, detail=detail
                )
    except workflow.WorkflowError as exc:
        # The case or notice moved on meanwhile (a notice out of order, a case closed): keep the
        # message for an analyst and say why nothing was done.
        log.warning("inbound %s about notice %s: not acted on: %s", mail.pk, notice.pk, exc)
        mail.summary = f"{mail.summary}; not acted on: {exc}"[:SUMMARY_LIMIT]
        InboundMail.objects.filter(pk=mail.pk).update(summary=mail.summary)


def _detail(mail: InboundMail, notice: Notice) -> dict[str, Any]:
    return {
        "inbound": mail.pk,
        "notice": notice.pk,
        "number": notice.number,
        "from": mail.from_address[:320],
        "subject": mail.subject[:200],
    }


def _confirm_from_copy(
    mail: InboundMail, message: InboundMessage, notice: Notice, *, actor: str, at: dt.datetime
) -> None:
    """Record a notice as sent when its archive copy arrived and no worker recorded it."""
    locked = Notice.objects.select_for_update().get(pk=notice.pk)
    if locked.state not in (Notice.State.SENDING, Notice.State.UNCONFIRMED):
        return  # sent already, or settled otherwise (an analyst had it sent again): as it is
    sent_at = locked.attempt_started_at
    if sent_at is None:
        # The copy's Date is the sender's word: believe it only between the notice's creation and now.
        stated = message.received_at
        sent_at = stated if stated is not None and locked.created_at <= stated <= at else at
    confirm_sent(locked, at=sent_at, actor=actor, how=f"its archive copy arrived (inbound {mail.pk})")


def _addresses(values: Iterable[str]) -> set[str]:
    """Return the bare addresses in a list of recipients, lower case."""
    return {address.strip().lower() for _, address in getaddresses(list(values)) if "@" in address}


def _hard_bounce(
    mail: InboundMail,
    message: InboundMessage,
    notice: Notice,
    case: Case,
    *,
    actor: str,
    at: dt.datetime,
) -> None:
    """Note the bounce, and mark the case's contacts whose address failed as unreliable."""
    sent_to = _addresses(notice.recipients)
    # A report that names no recipient is about the notice's address(es); one that names others
    # (a forward that failed further on) does not make the notice address unreliable.
    failed = _addresses(message.failed_recipients) if message.failed_recipients else sent_to
    failed &= sent_to
    domain = case.domain
    wanted = {pk for pk in (domain.registrant_id, domain.admin_contact_id) if pk is not None}
    contacts = [
        contact
        for contact in Contact.objects.filter(pk__in=wanted).order_by("pk")
        if contact.email.strip().lower() in failed
    ]
    workflow.record_event(
        case,
        action="notice.bounced",
        actor=actor,
        at=at,
        state_before=case.state,
        detail=_detail(mail, notice)
        | {
            "status": message.status,
            "diagnostic": (message.diagnostic or "")[:300],
            "failed": message.failed_recipients[:10],
            "contacts": [contact.handle for contact in contacts],
        },
    )
    for contact in contacts:
        record_unreliable(
            contact,
            reason="a notice to the contact's address bounced",
            evidence={
                "address": contact.email.strip().lower(),
                "status": message.status,
                "diagnostic": (message.diagnostic or "")[:300],
                "message_id": notice.message_id,
                "inbound": mail.pk,
            },
            actor=actor,
            at=at,
            cases=[case] if case.is_open else [],
        )


# --- The Maildir ---------------------------------------------------------------------------------


@dataclass
class PollSummary:
    """What one pass over the Maildir did."""

    read: int = 0
    stored: int = 0
    duplicate: int = 0
    matched: int = 0
    failed: int = 0
    kinds: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "stored": self.stored,
            "duplicate": self.duplicate,
            "matched": self.matched,
            "failed": self.failed,
            "by_kind": dict(self.kinds),
        }


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
        try:
            mail = take_in(data, actor=actor, at=at)
        except Exception:
            # Left in new/ to be tried again (a database that went away comes back); one such
            # message must not keep the rest of the Maildir from being read.
            log.exception("could not take in %s; it stays in new/", file)
            summary.failed += 1
            continue
        if mail is None:
            summary.duplicate += 1
        else:
            summary.stored += 1
            summary.matched += mail.notice_id is not None
            summary.kinds[mail.kind] = summary.kinds.get(mail.kind, 0) + 1
        try:
            mark_seen(file)
        except FileNotFoundError:
            continue  # another poller moved it meanwhile
    return summary
