"""Two workers sending the outbox at the same moment on one PostgreSQL: every notice arrives once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
from django.test import override_settings

from tests.conftest import almaty
from tests.smtpserver import smtp_server
from tests.test_concurrency import in_parallel
from zonewarden.cases import workflow
from zonewarden.cases.models import Case
from zonewarden.jobs.queue import run_due_jobs
from zonewarden.notices.models import Notice
from zonewarden.notices.outbox import send_due

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres_only,
    pytest.mark.usefixtures("defaults"),
]


def test_two_workers_send_each_notice_once(make_case: Callable[..., Case]) -> None:
    at = almaty(2026, 4, 1, 11)
    for _ in range(30):
        workflow.confirm(make_case(at), actor="user:analyst", at=at)
    run_due_jobs(at, worker="jobs")
    assert Notice.objects.filter(state=Notice.State.PENDING).count() == 30
    with smtp_server() as server, override_settings(**server.settings()):
        first, second = in_parallel(lambda: send_due(at, worker="a"), lambda: send_due(at, worker="b"))
    assert first.sent + second.sent == 30
    ids = Counter(received.message["Message-ID"] for received in server.received)
    assert len(ids) == 30 and set(ids.values()) == {1}
    assert set(Notice.objects.values_list("state", flat=True)) == {Notice.State.SENT}
    assert set(Case.objects.values_list("notices_sent", flat=True)) == {1}
