"""The moment a notice is handed over: the final dot of SMTP DATA, and what a break before or after it means.

Before the dot the server throws away what it got, so a worker that dies there leaves a notice the
next worker sends; after it the server may have the message, so the notice is `unconfirmed` and
never sent again by itself (the fault suite, tests/faults/, kills real processes at those moments).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator

import pytest
from django.conf import settings
from django.test import override_settings

from tests.conftest import almaty
from tests.smtpserver import SMTPServer, smtp_server
from zonewarden.cases import workflow
from zonewarden.cases.models import Case
from zonewarden.jobs.queue import run_due_jobs
from zonewarden.notices import outbox
from zonewarden.notices.models import Notice
from zonewarden.notices.outbox import recover_stale, send_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]
T0 = almaty(2026, 3, 18, 10)


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with smtp_server() as server, override_settings(**server.settings()):
        yield server


def notice_due(make_case: Callable[..., Case]) -> Notice:
    case = workflow.confirm(make_case(T0), actor="user:analyst", at=T0)
    run_due_jobs(T0, worker="test")
    return Notice.objects.get(case=case)


def after_the_lease() -> dt.datetime:
    return T0 + dt.timedelta(seconds=settings.ZONEWARDEN_SEND_LEASE_SECONDS + 1)


def test_no_answer_after_the_dot_leaves_the_notice_unconfirmed_and_never_sends_it_twice(
    smtp: SMTPServer, make_case: Callable[..., Case]
) -> None:
    notice = notice_due(make_case)
    smtp.handler.data_delay = 2.5  # the server takes the message, and answers after we gave up
    with override_settings(EMAIL_TIMEOUT=1):
        assert str(send_due(T0, worker="w")) == "unconfirmed 1"
    notice.refresh_from_db()
    assert notice.state == Notice.State.UNCONFIRMED and notice.attempt_started_at == T0
    assert "SMTPServerDisconnected" in notice.last_error
    assert notice.case is not None
    assert notice.case.events.filter(action="notice.unconfirmed").count() == 1
    # Later rounds leave it alone: only its copy turning up, or an analyst, decides.
    smtp.handler.data_delay = 0
    assert not send_due(after_the_lease(), worker="w")
    notice.refresh_from_db()
    assert (notice.state, notice.attempts) == (Notice.State.UNCONFIRMED, 1)
    assert smtp.received == []  # aiosmtpd dropped it with the connection: it did not come twice


def test_a_refusal_after_the_dot_is_an_answer_the_notice_is_tried_again(
    smtp: SMTPServer, make_case: Callable[..., Case]
) -> None:
    notice = notice_due(make_case)
    smtp.handler.data_reply = "451 4.3.0 try again later"
    assert str(send_due(T0, worker="w")) == "retrying 1"
    notice.refresh_from_db()
    assert notice.state == Notice.State.PENDING
    smtp.handler.data_reply = None
    assert send_due(T0 + dt.timedelta(minutes=2), worker="w").sent == 1
    assert len(smtp.received) == 1


def test_a_worker_that_died_before_the_dot_leaves_its_notice_to_the_next(
    smtp: SMTPServer, make_case: Callable[..., Case]
) -> None:
    notice = notice_due(make_case)
    [claimed] = outbox.claim(T0, worker="dead")  # … and the process dies before the dot
    assert claimed.pk == notice.pk
    notice.refresh_from_db()
    assert notice.state == Notice.State.SENDING and notice.attempt_started_at is None
    assert recover_stale(T0 + dt.timedelta(minutes=1)) == 0  # its lease still runs
    assert recover_stale(after_the_lease()) == 0  # nothing in doubt: the server never saw it
    notice.refresh_from_db()
    assert notice.state == Notice.State.PENDING
    assert send_due(after_the_lease(), worker="next").sent == 1
    assert [received.message["Message-ID"] for received in smtp.received] == [notice.message_id]
    assert notice.case is not None
    assert not notice.case.events.filter(action="notice.unconfirmed").exists()


def test_a_worker_that_died_after_the_dot_leaves_its_notice_in_doubt(make_case: Callable[..., Case]) -> None:
    notice = notice_due(make_case)
    outbox.claim(T0, worker="dead")
    outbox.OUTBOX.settle(notice.pk, "dead", attempt_started_at=T0)  # what send_one does at the dot
    assert recover_stale(after_the_lease()) == 1
    notice.refresh_from_db()
    assert notice.state == Notice.State.UNCONFIRMED


def test_the_text_goes_out_whole_with_its_dots_and_the_hand_over_comes_before_the_last_one(
    smtp: SMTPServer, make_case: Callable[..., Case]
) -> None:
    notice = notice_due(make_case)
    notice.subject = "dots"
    notice.body_text = "first\n.\n.leading dot\n..two\nlast"
    notice.body_html = ""
    seen: list[int] = []
    outbox._transmit(notice, lambda: seen.append(len(smtp.received)))
    assert seen == [0]  # handed over before the server had it
    [received] = smtp.received
    text = received.message.get_content()
    assert text.splitlines() == ["first", ".", ".leading dot", "..two", "last"]


def test_a_hand_over_that_fails_sends_nothing(smtp: SMTPServer, make_case: Callable[..., Case]) -> None:
    notice = notice_due(make_case)

    def refuse() -> None:
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        outbox._transmit(notice, refuse)
    time.sleep(0.2)  # a dot would have arrived by now
    assert smtp.received == []
