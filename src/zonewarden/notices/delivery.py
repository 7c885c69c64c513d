"""Send the owner's notice of a case and record it; the job handler for `notice.send`.

This is the plain first version: one text message in Kazakh, Russian and English to the
administrative contact, through Django's configured mail backend.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone

from zonewarden.cases import workflow
from zonewarden.cases.models import Case, Policy, State
from zonewarden.jobs.models import Job
from zonewarden.jobs.queue import PermanentFailure, handler
from zonewarden.workdays.calendar import WorkingCalendar

WORKER_ACTOR = "system:worker"


def _body(case: Case, number: int, deadline: dt.datetime) -> str:
    lines = [
        f"{settings.ZONEWARDEN_CERT_NAME}: {case.domain}",
        f"Хабарлама / Уведомление / Notice No. {number}",
        "",
    ]
    for incident in case.incidents.select_related("category").order_by("first_seen"):
        first_seen = timezone.localtime(incident.first_seen).date().isoformat()
        lines.append(f"- {incident.category.name_en}: {incident.url} (first seen {first_seen})")
    due = timezone.localtime(deadline - dt.timedelta(seconds=1)).date().isoformat()
    lines += [
        "",
        f"Мерзімі / Срок / Deadline: {due}",
        f"info@{settings.ZONEWARDEN_CERT_DOMAIN}",
    ]
    return "\n".join(lines)


@handler("notice.send")
def send_notice(job: Job, now: dt.datetime) -> None:
    """Send notice number N of the job's case, unless the case moved on or it went out already."""
    number = int(job.payload.get("number", 1))
    if job.case_id is None:
        raise PermanentFailure("a notice job must name its case")
    case = Case.objects.select_related("domain__admin_contact", "domain__registrant").get(pk=job.case_id)
    if case.state != State.NOTIFYING or case.notices_sent >= number:
        return  # fixed, escalated or already recorded meanwhile: nothing to send
    address = case.domain.notice_email
    if not address:
        raise PermanentFailure(f"{case.domain_id} has no administrative contact e-mail to notify")
    deadline = WorkingCalendar.load().deadline_after(now, Policy.current().notice_interval_working_days)
    message = EmailMessage(
        subject=f"[{settings.ZONEWARDEN_CERT_NAME}] {case.domain} — notice {number}",
        body=_body(case, number, deadline),
        from_email=f"incident@{settings.ZONEWARDEN_CERT_DOMAIN}",
        to=[address],
        reply_to=[f"info@{settings.ZONEWARDEN_CERT_DOMAIN}"],
    )
    message.send()
    workflow.record_notice_sent(case, number=number, actor=WORKER_ACTOR, at=now)
