"""The job handler for `notice.send`: put the owner's notice N of a case into the outbox.

Confirming a case and the tick's reminders queue this job in their transaction; the worker turns
it into an outbox row (once: the row's key is the case and the number) and the outbox sends it.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from zonewarden.cases.models import Case, State
from zonewarden.domains.registrant_review import review_registrant
from zonewarden.jobs.models import Job
from zonewarden.jobs.queue import PermanentFailure, handler
from zonewarden.notices.outbox import queue_owner_notice

WORKER_ACTOR = "system:worker"


@handler("notice.send")
def send_notice(job: Job, now: dt.datetime) -> None:
    """Queue notice number N of the job's case, unless the case moved on or it is queued already."""
    number = int(job.payload.get("number", 1))
    if job.case_id is None:
        raise PermanentFailure("a notice job must name its case")
    with transaction.atomic():
        case = Case.objects.select_related("domain__admin_contact", "domain__registrant").get(pk=job.case_id)
        if case.state != State.NOTIFYING or case.notices_sent >= number:
            return  # fixed, escalated or already recorded meanwhile: nothing to send
        if number == 1:
            review_registrant(
                case, actor=WORKER_ACTOR, at=now
            )  # before the first notice: is the address real?
        queue_owner_notice(case, number=number, at=now, actor=WORKER_ACTOR)
