"""The outbox: notices are rows; workers claim them, send them once through SMTP, and record it.

A notice is written (state pending) in the transaction that decides it is due. The outbox is a
`zonewarden.queues.Queue`: a worker claims one notice with a conditional UPDATE (pending → sending,
its name and a lease), so two workers never take the same row, and claims the next only after it
has recorded the first: a notice is `sending` only while it is being handed to the SMTP server.
Just before sending, the body is rendered with the deadline counted from that moment, and saved.
After the SMTP server has accepted the message the row becomes sent and the case's clock starts
(`workflow.record_notice_sent` with the same deadline the owner reads).

SMTP trouble (connection refused, timeout, 4xx) puts the row back to pending with a later attempt
(backoff); a 5xx refusal of the recipient fails it for good and counts as a hard bounce.

The moment the message is handed over is recorded (`attempt_started_at`) just before the final
dot of the SMTP DATA: until the dot the server throws away what it got if the conversation breaks,
after it the server may have taken the message. So a notice is in doubt only from the dot until
the server's answer is recorded: if the conversation breaks there without an answer, or the
worker dies, the row becomes `unconfirmed` (at once, or when the lease runs out) and is never sent
again on its own — it is confirmed when its copy turns up (the embedded sink, or the archive copy
read from the Maildir) or by an analyst (`zonewarden notices resolve`). A worker that dies before
the dot leaves a row the server never saw: when its lease runs out it is pending again and the
next worker sends it. A notice claimed but not yet handed over when the database went away is
put back to pending (`zonewarden.queues.holding`), not left to become unconfirmed."""

from __future__ import annotations

import datetime as dt
import logging
import re
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from zonewarden import clock
from zonewarden.cases import workflow
from zonewarden.cases.models import Case, Policy, State
from zonewarden.cases.ownerlink import max_age, owner_url
from zonewarden.domains.unreliable import record_unreliable
from zonewarden.notices.models import Notice, RecipientLanguage, SinkMessage
from zonewarden.queues import Queue, handed_over, holding, settle_later, taken_back
from zonewarden.workdays.calendar import WorkingCalendar

log = logging.getLogger("zonewarden.outbox")
KNOWN_LANGUAGES = ("kk", "ru", "en")
SUBJECT_WORDS = {
    "kk": ("Хабарлама", "Еске салу"),
    "ru": ("Уведомление", "Напоминание"),
    "en": ("Notice", "Reminder"),
}


def incident_address() -> str:
    return f"incident@{settings.ZONEWARDEN_CERT_DOMAIN}"


def info_address() -> str:
    return f"info@{settings.ZONEWARDEN_CERT_DOMAIN}"


def languages_for(address: str) -> list[str]:
    """The languages a notice to `address` is written in: its own setting, else the default."""
    row = RecipientLanguage.objects.filter(email=address.strip().lower()).first()
    chosen = row.languages.split(",") if row else list(settings.ZONEWARDEN_NOTICE_LANGUAGES)
    known = [code.strip() for code in chosen if code.strip() in KNOWN_LANGUAGES]
    return known or ["ru", "en"]


# --- writing a notice ------------------------------------------------------------------------


def queue_owner_notice(case: Case, *, number: int, at: dt.datetime, actor: workflow.Actor) -> Notice | None:
    """Put notice `number` of `case` into the outbox once (None when it is there already).

    Call inside the transaction that decided it. A name without a notice address gets a failed
    notice, an event saying so, and the unreliable-registrant ground.
    """
    key = f"owner:{case.pk}:{number}"
    if Notice.objects.filter(dedupe_key=key).exists():
        return None
    domain = case.domain
    address = domain.notice_email.strip()
    notice = Notice(
        case=case,
        kind=Notice.Kind.OWNER,
        number=number,
        dedupe_key=key,
        recipients=[address] if address else [],
        languages=",".join(languages_for(address)),
        from_email=incident_address(),
        reply_to=info_address(),
        message_id=make_msgid(idstring=f"case{case.pk}.n{number}", domain=settings.ZONEWARDEN_CERT_DOMAIN),
        next_attempt_at=at,
        created_at=at,
    )
    if not address:
        notice.state = Notice.State.FAILED
        notice.last_error = f"{domain.name} has no administrative contact e-mail to send the notice to"
    try:
        with transaction.atomic():
            notice.save()
    except IntegrityError:
        return None  # another worker queued it first
    if not address:
        workflow.record_event(
            case,
            action="notice.no_address",
            actor=actor,
            at=at,
            state_before=case.state,
            detail={"number": number, "notice": notice.pk},
        )
        contact = domain.admin_contact or domain.registrant
        if contact is not None:
            record_unreliable(
                contact, reason="no e-mail address to send notices to", evidence={}, actor=actor, at=at
            )
    return notice


def defanged(url: str) -> str:
    """The URL as notices show it: not clickable (hxxp, [.] in the host), as CERTs write them."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url.replace(".", "[.]")
    host, slash, tail = rest.partition("/")
    scheme = {"http": "hxxp", "https": "hxxps"}.get(scheme, scheme)
    return f"{scheme}://{host.replace('.', '[.]')}{slash}{tail}"


def _evidence_summary(evidence: dict[str, Any]) -> str:
    parts = []
    for key in ("feed", "threat", "status", "tags", "reporter", "target", "defacer"):
        value = evidence.get(key)
        if value in (None, "", []):
            continue
        if isinstance(value, list):
            value = ", ".join(str(item) for item in value[:10])
        parts.append(f"{key} {str(value)[:120]}")
    return "; ".join(parts)


def _local_date(moment: dt.datetime) -> str:
    return timezone.localtime(moment).date().isoformat()


def render_owner_notice(notice: Notice, *, at: dt.datetime) -> None:
    """Write subject and bodies of an owner notice, the deadline counted from `at`."""
    assert notice.case is not None
    case = notice.case
    policy = Policy.current()
    working_days = policy.notice_interval_working_days
    deadline = WorkingCalendar.load().deadline_after(at, working_days)
    ground = policy.escalation_ground
    incidents = [
        {
            "url": defanged(incident.url),
            "category_kk": incident.category.name_kk or incident.category.name_en,
            "category_ru": incident.category.name_ru or incident.category.name_en,
            "category_en": incident.category.name_en,
            "first_seen": _local_date(incident.first_seen),
            "evidence": _evidence_summary(incident.evidence if isinstance(incident.evidence, dict) else {}),
        }
        for incident in case.incidents.select_related("category").order_by("first_seen", "pk")[:50]
    ]
    context = {
        "number": notice.number,
        "cert_name": settings.ZONEWARDEN_CERT_NAME,
        "domain": case.domain.unicode_name or case.domain.name,
        "alabel": case.domain.name,
        "incidents": incidents,
        "deadline": _local_date(deadline - dt.timedelta(seconds=1)),
        "working_days": working_days,
        "ground_reference": ground.reference if ground else "",
        "ground_kk": (ground.text_kk or ground.text_en) if ground else "",
        "ground_ru": (ground.text_ru or ground.text_en) if ground else "",
        "ground_en": ground.text_en if ground else "",
        "owner_url": owner_url(case),
        "link_valid_until": _local_date(at + max_age()),
        "info_email": info_address(),
    }
    languages = notice.languages.split(",")
    reminder = notice.number > 1
    words = " / ".join(SUBJECT_WORDS[lang][reminder] for lang in languages)
    number = f" {notice.number}" if reminder else ""
    notice.subject = f"[{settings.ZONEWARDEN_CERT_NAME}] {words}{number}: {context['domain']}"
    sections = [
        {"lang": lang, "text": render_to_string(f"notices/owner/{lang}.txt", context).strip()}
        for lang in languages
    ]
    notice.body_text = (
        "\n\n" + ("\n\n" + "—" * 40 + "\n\n").join(section["text"] for section in sections) + "\n"
    )
    notice.body_html = render_to_string(
        "notices/message.html",
        {"sections": sections, "subject": notice.subject, "owner_url": context["owner_url"]},
    )
    notice.deadline = deadline


def _queue_rendered(
    case: Case,
    *,
    kind: str,
    key: str,
    address: str,
    template: str,
    subject_words: dict[str, str],
    extra: dict[str, Any],
    at: dt.datetime,
) -> Notice | None:
    """Write a notice whose text is fixed when it is queued (registrar notices, restoration news)."""
    if Notice.objects.filter(dedupe_key=key).exists():
        return None
    domain = case.domain
    languages = languages_for(address)
    context = {
        "cert_name": settings.ZONEWARDEN_CERT_NAME,
        "registry": settings.ZONEWARDEN_REGISTRY_NAME,
        "domain": domain.unicode_name or domain.name,
        "alabel": domain.name,
        "date": _local_date(at),
        "info_email": info_address(),
        **extra,
    }
    sections = [
        {"lang": lang, "text": render_to_string(f"notices/{template}/{lang}.txt", context).strip()}
        for lang in languages
    ]
    subject = f"[{settings.ZONEWARDEN_CERT_NAME}] {' / '.join(subject_words[lang] for lang in languages)}: {context['domain']}"
    notice = Notice(
        case=case,
        kind=kind,
        number=1,
        dedupe_key=key,
        recipients=[address] if address else [],
        languages=",".join(languages),
        from_email=incident_address(),
        reply_to=info_address(),
        subject=subject,
        body_text="\n\n" + ("\n\n" + "—" * 40 + "\n\n").join(section["text"] for section in sections) + "\n",
        body_html=render_to_string(
            "notices/message.html",
            {"sections": sections, "subject": subject, "owner_url": extra.get("owner_url", "")},
        ),
        message_id=make_msgid(idstring=f"case{case.pk}.{kind}", domain=settings.ZONEWARDEN_CERT_DOMAIN),
        next_attempt_at=at,
        created_at=at,
    )
    if not address:
        notice.state = Notice.State.FAILED
        notice.last_error = f"no e-mail address for the {kind} notice of {domain.name}"
    try:
        with transaction.atomic():
            notice.save()
    except IntegrityError:
        return None
    return notice


REGISTRAR_WORDS = {
    "suspended": {
        "kk": "Домендік атау тоқтатылды",
        "ru": "Доменное имя приостановлено",
        "en": "Domain name suspended",
    },
    "restored": {
        "kk": "Делегация қайта жаңартылды",
        "ru": "Делегирование возобновлено",
        "en": "Delegation restored",
    },
}


def queue_registrar_notice(case: Case, *, what: str, at: dt.datetime, actor: workflow.Actor) -> Notice | None:
    """Tell the name's registrar that it was suspended (and by when to report) or restored."""
    registrar = case.domain.registrar
    policy = Policy.current()
    deadline = case.registrar_deadline
    extra = {
        "what": what,
        "grounds": "; ".join(ground.reference for ground in case.grounds.all()) or "—",
        "deadline": _local_date(deadline - dt.timedelta(seconds=1)) if deadline else "",
        "working_days": policy.registrar_deadline_working_days,
    }
    notice = _queue_rendered(
        case,
        kind=Notice.Kind.REGISTRAR,
        key=f"registrar:{case.pk}:{what}:{case.suspended_at.isoformat() if case.suspended_at else ''}",
        address=registrar.email.strip() if registrar else "",
        template="registrar",
        subject_words=REGISTRAR_WORDS[what],
        extra=extra,
        at=at,
    )
    if notice is not None and notice.state == Notice.State.FAILED:
        workflow.record_event(
            case,
            action="notice.no_address",
            actor=actor,
            at=at,
            state_before=case.state,
            detail={"notice": notice.pk, "to": "registrar"},
        )
    return notice


def queue_owner_restored(case: Case, *, at: dt.datetime, actor: workflow.Actor) -> Notice | None:
    """Tell the owner that the delegation is back and the case is closed."""
    return _queue_rendered(
        case,
        kind=Notice.Kind.OTHER,
        key=f"restored:{case.pk}",
        address=case.domain.notice_email.strip(),
        template="restored",
        subject_words=REGISTRAR_WORDS["restored"],
        extra={},
        at=at,
    )


# --- sending ---------------------------------------------------------------------------------


@dataclass
class SendSummary:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    unconfirmed: int = 0

    def __bool__(self) -> bool:
        return any((self.sent, self.retrying, self.failed, self.cancelled, self.unconfirmed))

    def __str__(self) -> str:
        return (
            ", ".join(f"{name} {value}" for name, value in vars(self).items() if value) or "nothing to send"
        )


OUTBOX = Queue(
    "outbox",
    Notice,
    due_field="next_attempt_at",
    lease_setting="ZONEWARDEN_SEND_LEASE_SECONDS",
    working=Notice.State.SENDING,
    lapsed_in_doubt=True,
    order=("next_attempt_at", "pk"),
)


def claim(now: dt.datetime, *, worker: str, limit: int = 1) -> list[Notice]:
    """Claim up to `limit` due notices (pending → sending); each is claimed by exactly one worker.

    The worker sends what it claims straight away: `send_due` claims one at a time.
    """
    # attempt_started_at is set when the message is handed over (see send_one), not before.
    won = OUTBOX.claim(now, worker=worker, limit=limit, attempt_started_at=None)
    return list(Notice.objects.filter(pk__in=won).select_related("case__domain").order_by("pk"))


def release_orphans(worker: str) -> int:
    """Put back the notices `worker` claimed but never handed over, after its database went away.

    A claim whose commit reached the server while its answer was lost with the connection leaves a
    notice `sending` that this worker does not know it holds. Once the database answers again, the
    mail lane (the one thread of this worker that sends) is between notices, so every notice it
    still has `sending` without a hand-over is one nobody is sending: it waits for the next round
    instead of for its lease to run out.
    """
    return int(
        Notice.objects.filter(state=Notice.State.SENDING, claimed_by=worker, attempt_started_at=None).update(
            state=Notice.State.PENDING, lease_until=None, attempts=F("attempts") - 1
        )
    )


def _still_wanted(notice: Notice) -> str | None:
    """Why an owner notice should no longer go out, or None when it should."""
    if notice.kind != Notice.Kind.OWNER or notice.case is None:
        return None
    case = notice.case
    if case.state != State.NOTIFYING:
        return f"the case is {case.state} now"
    if case.notices_sent >= notice.number:
        return f"notice {notice.number} is recorded as sent already"
    return None


def _email(notice: Notice) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=notice.subject,
        body=notice.body_text,
        from_email=notice.from_email,
        to=list(notice.recipients),
        bcc=[settings.ZONEWARDEN_NOTICE_ARCHIVE] if settings.ZONEWARDEN_NOTICE_ARCHIVE else [],
        reply_to=[notice.reply_to] if notice.reply_to else [],
        headers={"Message-ID": notice.message_id, "Auto-Submitted": "auto-generated"},
    )
    if notice.body_html:
        message.attach_alternative(notice.body_html, "text/html")
    return message


def _transmit(notice: Notice, handing: Callable[[], None]) -> None:
    """Hand the message to the configured backend; raises what the SMTP conversation raised.

    `handing()` runs when the message leaves for good: over SMTP just before the final dot of
    DATA, with any other backend (the embedded sink) just before the backend is called.
    """
    connection = get_connection(fail_silently=False)
    if isinstance(connection, SMTPBackend):
        connection.open()
        try:
            if connection.connection is not None:
                _hand_over_at_the_dot(connection.connection, handing)
            sent = connection.send_messages([_email(notice)])
        finally:
            connection.close()
    else:
        handing()
        sent = connection.send_messages([_email(notice)])
    if not sent:
        raise smtplib.SMTPException("the mail backend did not send the message")


def _hand_over_at_the_dot(smtp: smtplib.SMTP, handing: Callable[[], None]) -> None:
    """Make this SMTP session call `handing()` after a message's text and before its final dot.

    smtplib's own `data` writes the text and the dot at once; this is the same conversation (RFC
    5321, 4.1.1.4) with one step between. If `handing` fails, the connection is dropped before
    the dot, so the server throws away what it got.
    """

    def data(message: bytes | str) -> tuple[int, bytes]:
        smtp.putcmd("data")
        code, reply = smtp.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        text = message if isinstance(message, bytes) else message.encode("ascii")
        text = re.sub(rb"(?m)^\.", b"..", text)  # a line starting with a dot gets a second one
        if not text.endswith(b"\r\n"):
            text += b"\r\n"
        smtp.send(text)
        try:
            handing()
        except BaseException:
            smtp.close()
            raise
        smtp.send(b".\r\n")
        return smtp.getreply()

    smtp.data = data  # type: ignore[assignment]


def after_accept(notice: Notice) -> None:
    """The moment between the SMTP server's acceptance and our record of it (a crash test's hook)."""


def _permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def send_one(notice: Notice, now: dt.datetime, *, worker: str, actor: str = "system:worker") -> str:
    """Send one claimed notice and record what happened; return the outcome's name."""
    reason = _still_wanted(notice)
    if reason:
        OUTBOX.settle(notice.pk, worker, state=Notice.State.CANCELLED, last_error=reason, lease_until=None)
        return "cancelled"
    if notice.kind == Notice.Kind.OWNER:
        render_owner_notice(notice, at=now)
        Notice.objects.filter(pk=notice.pk).update(
            subject=notice.subject,
            body_text=notice.body_text,
            body_html=notice.body_html,
            deadline=notice.deadline,
        )
    handed = False

    def handing() -> None:
        nonlocal handed
        # The last moment before the server may have it: say so first, so that a worker dying
        # from here on leaves the notice in doubt, and one dying before leaves it to be sent.
        if not OUTBOX.settle(notice.pk, worker, attempt_started_at=now):
            raise smtplib.SMTPException(f"notice {notice.pk} is no longer {worker}'s to send")
        handed_over()
        handed = True

    try:
        _transmit(notice, handing)
    except (smtplib.SMTPException, OSError) as exc:
        if handed and not isinstance(exc, smtplib.SMTPResponseException):
            return _in_doubt(notice, exc, now, worker=worker, actor=actor)
        taken_back()  # the server did not take it: if the database is gone, the notice goes back
        return _failed(notice, exc, now, worker=worker, actor=actor)
    after_accept(notice)

    def record() -> None:
        confirm_sent(notice, at=now, actor=actor, how="the mail server accepted it")

    settle_later(record)  # the server has it: once the database is back, say so (not "unconfirmed")
    record()
    return "sent"


def confirm_sent(notice: Notice, *, at: dt.datetime, actor: str, how: str) -> bool:
    """Record a notice as sent at `at` (once), and start the owner's clock; False if it was already."""
    with transaction.atomic():
        locked = Notice.objects.select_for_update().get(pk=notice.pk)
        if locked.state == Notice.State.SENT:
            return False
        locked.state, locked.sent_at, locked.lease_until, locked.last_error = Notice.State.SENT, at, None, ""
        locked.save(update_fields=["state", "sent_at", "lease_until", "last_error"])
        if locked.kind == Notice.Kind.OWNER and locked.case is not None:
            workflow.record_notice_sent(
                locked.case,
                number=locked.number,
                actor=actor,
                at=at,
                message_id=locked.message_id,
                owner_deadline=locked.deadline,
            )
        log.debug("notice %s (%s) sent: %s", locked.pk, locked.message_id, how)
    notice.state, notice.sent_at = Notice.State.SENT, at
    return True


def _failed(notice: Notice, exc: Exception, now: dt.datetime, *, worker: str, actor: str) -> str:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    permanent = _permanent(exc) or notice.attempts >= notice.max_attempts
    log.warning("notice %s attempt %s failed: %s", notice.pk, notice.attempts, error)
    with transaction.atomic():
        outcome, updated = OUTBOX.retry_or_fail(
            notice.pk,
            worker,
            now=now,
            attempts=notice.attempts,
            permanent=permanent,
            failed=Notice.State.FAILED,
            error=error,
        )
        if not updated or not permanent or notice.case is None:
            return outcome
        case = Case.objects.select_related("domain__admin_contact", "domain__registrant").get(
            pk=notice.case.pk
        )
        workflow.record_event(
            case,
            action="notice.failed",
            actor=actor,
            at=now,
            state_before=case.state,
            detail={"notice": notice.pk, "number": notice.number, "error": error},
        )
        if _permanent(exc) and notice.kind == Notice.Kind.OWNER:
            contact = case.domain.admin_contact or case.domain.registrant
            if contact is not None:
                record_unreliable(
                    contact,
                    reason="the mail server refused the notice address",
                    evidence={"error": error, "message_id": notice.message_id},
                    actor=actor,
                    at=now,
                    cases=[case],
                )
    return "failed"


def _in_doubt(notice: Notice, exc: Exception, now: dt.datetime, *, worker: str, actor: str) -> str:
    """The conversation broke after the whole message was handed over, with no answer: the server
    may have it. It is not sent again by itself (the owner would be told twice): `unconfirmed`."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    log.warning("notice %s: no answer after the message was handed over: %s", notice.pk, error)
    with transaction.atomic():
        if (
            OUTBOX.settle(
                notice.pk, worker, state=Notice.State.UNCONFIRMED, lease_until=None, last_error=error
            )
            and notice.case is not None
        ):
            case = Case.objects.get(pk=notice.case.pk)
            workflow.record_event(
                case,
                action="notice.unconfirmed",
                actor=actor,
                at=now,
                state_before=case.state,
                detail={
                    "notice": notice.pk,
                    "message_id": notice.message_id,
                    "worker": worker,
                    "error": error,
                },
            )
    return "unconfirmed"


def recover_stale(now: dt.datetime, *, actor: str = "system:worker") -> int:
    """Turn notices whose sender died after handing them over into `unconfirmed` (confirm those
    found in the sink); put back those it died with before, which the server never saw."""
    stale = list(Notice.objects.filter(OUTBOX.lapsed(now)).select_related("case"))
    count = 0
    for notice in stale:
        if notice.attempt_started_at is None:
            Notice.objects.filter(OUTBOX.lapsed(now), pk=notice.pk, attempt_started_at__isnull=True).update(
                state=Notice.State.PENDING, lease_until=None
            )
            continue
        with transaction.atomic():
            if not Notice.objects.filter(
                OUTBOX.lapsed(now), pk=notice.pk, attempt_started_at__isnull=False
            ).update(state=Notice.State.UNCONFIRMED, lease_until=None):
                continue  # its worker finished after all, or another one got here first
            count += 1
            if notice.case is not None:
                workflow.record_event(
                    notice.case,
                    action="notice.unconfirmed",
                    actor=actor,
                    at=now,
                    state_before=notice.case.state,
                    detail={
                        "notice": notice.pk,
                        "message_id": notice.message_id,
                        "worker": notice.claimed_by,
                    },
                )
        copy = SinkMessage.objects.filter(message_id=notice.message_id).first()
        if copy is not None:
            confirm_sent(
                notice, at=notice.attempt_started_at or copy.received_at, actor=actor, how="found in the sink"
            )
    return count


def send_due(
    now: dt.datetime | None = None,
    *,
    worker: str,
    limit: int | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> SendSummary:
    """Recover notices of dead workers, then send the due ones, one at a time, until none is left.

    Each notice is claimed just before it is handed to the SMTP server and recorded right after,
    so a worker that dies leaves at most that one in doubt; the rest stay pending for the next.
    Stops after `limit` notices, or between two when `stop()` says so. Without `now`, each notice
    is claimed at the clock's time of its own attempt (its lease runs from then).
    """
    summary = SendSummary(unconfirmed=recover_stale(now or clock.now()))
    handled = 0
    while (limit is None or handled < limit) and not stop():
        moment = now or clock.now()
        claimed = claim(moment, worker=worker)
        if not claimed:
            break
        notice = claimed[0]
        with holding(OUTBOX, [notice.pk], worker):
            outcome = send_one(notice, moment, worker=worker)
        setattr(summary, outcome, getattr(summary, outcome) + 1)
        handled += 1
    return summary


def resolve(notice: Notice, *, sent: bool, actor: workflow.Actor, at: dt.datetime | None = None) -> None:
    """An analyst's decision on an unconfirmed (or failed) notice: it went out, or send it again."""
    moment = at or clock.now()
    if notice.state not in (Notice.State.UNCONFIRMED, Notice.State.FAILED):
        raise workflow.WorkflowError(
            f"notice {notice.pk} is {notice.state}: only unconfirmed or failed ones are resolved"
        )
    label = workflow.actor_label(actor)
    if sent:
        confirm_sent(notice, at=notice.attempt_started_at or moment, actor=label, how=f"confirmed by {label}")
    else:
        Notice.objects.filter(pk=notice.pk, state=notice.state).update(
            state=Notice.State.PENDING, next_attempt_at=moment, last_error=""
        )
    if notice.case is not None:
        with transaction.atomic():
            workflow.record_event(
                notice.case,
                action="notice.resolved",
                actor=label,
                at=moment,
                state_before=notice.case.state,
                detail={"notice": notice.pk, "decision": "sent" if sent else "send again"},
            )
