"""The outbox against a real SMTP server on loopback: what arrives, retries, refusals, crashes."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client, override_settings

from tests.conftest import almaty
from tests.smtpserver import SMTPServer, smtp_server
from zonewarden import clock
from zonewarden.cases import workflow
from zonewarden.cases.models import Case, Policy
from zonewarden.cases.ownerlink import case_for_token, owner_token
from zonewarden.jobs.queue import run_due_jobs
from zonewarden.notices import outbox
from zonewarden.notices.models import Notice, RecipientLanguage, SinkMessage
from zonewarden.notices.outbox import send_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]
ANALYST = "user:analyst"
T0 = almaty(2026, 3, 18, 10)  # a Wednesday before Nauryz (21–25 March 2026 off)


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with smtp_server() as server, override_settings(**server.settings()):
        yield server


def confirmed(make_case: Callable[..., Case], at: dt.datetime = T0, **kwargs: Any) -> Case:
    case = workflow.confirm(make_case(at, **kwargs), actor=ANALYST, at=at)
    run_due_jobs(at, worker="test")  # the job puts notice 1 into the outbox
    return case


def test_the_notice_arrives_once_with_everything_the_owner_needs(
    smtp: SMTPServer, make_case: Callable[..., Case]
) -> None:
    case = confirmed(make_case)
    assert str(send_due(T0, worker="w")) == "sent 1"
    [received] = smtp.received
    assert received.recipients == ["admin@example.kz"]
    message = received.message
    notice = Notice.objects.get(case=case)
    assert message["Message-ID"] == notice.message_id
    assert message["From"] == "incident@cert.kz"
    assert message["Reply-To"] == "info@cert.kz"
    assert message["Subject"].strip() == f"[KZ-CERT] Хабарлама / Уведомление / Notice: {case.domain_id}"
    text = message.get_body(preferencelist=("plain",)).get_content()
    # Kazakh, then Russian, with English below.
    kk, ru, en = (text.index(word) for word in ("ХАБАРЛАМА", "УВЕДОМЛЕНИЕ", "NOTICE"))
    assert kk < ru < en
    # Three working days after 18 March: 19, 20, and (Nauryz skipped) 26 March.
    assert text.count("2026-03-26") == 3
    assert f"hxxp://{case.domain_id.replace('.', '[.]')}/login.php" in text
    assert "paragraph 16" in text or "16-тармақ" in text or "пункт 16" in text
    # The signed link opens this case (its signature carries the second it was made, so compare
    # what it opens, not its text).
    found = re.search(r"http://127\.0\.0\.1:8000/owner/([^/\s]+)/", text)
    assert found is not None and case_for_token(found.group(1)).pk == case.pk
    link = found.group(0)
    html = message.get_body(preferencelist=("html",)).get_content()
    assert f'<a href="{link}">' in html
    case.refresh_from_db()
    assert case.notices_sent == 1 and case.last_notice_at == T0
    assert case.owner_deadline == almaty(2026, 3, 27)  # midnight after the 26th
    assert notice.deadline == case.owner_deadline
    assert send_due(T0 + dt.timedelta(hours=1), worker="w").sent == 0
    assert len(smtp.received) == 1


def test_the_owner_link_opens_its_own_case_only(
    make_case: Callable[..., Case], client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = confirmed(make_case)
    other = confirmed(make_case)
    page = client.get(f"/owner/{owner_token(case)}/")
    assert page.status_code == 200
    assert case.domain_id in page.content.decode()
    assert other.domain_id not in page.content.decode()
    token = owner_token(other)
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    refused = client.get(f"/owner/{tampered}/")
    assert refused.status_code == 403 and "not valid" in refused.content.decode()
    with time_machine.travel(clock.now() - dt.timedelta(days=91), tick=False):
        old = owner_token(case)
    expired = client.get(f"/owner/{old}/")
    assert expired.status_code == 403 and "expired" in expired.content.decode()


def test_languages_follow_the_recipient(smtp: SMTPServer, make_case: Callable[..., Case]) -> None:
    RecipientLanguage.objects.create(email="Admin@Example.kz", languages="en")
    confirmed(make_case)
    send_due(T0, worker="w")
    message = smtp.received[0].message
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "NOTICE" in text and "УВЕДОМЛЕНИЕ" not in text and "ХАБАРЛАМА" not in text
    assert message["Subject"].strip().startswith("[KZ-CERT] Notice: ")


def test_hostile_incident_text_is_inert_in_the_html_part(
    smtp: SMTPServer, make_case: Callable[..., Case]
) -> None:
    case = confirmed(make_case)
    case.incidents.update(url=f'http://{case.domain_id}/<script>alert(1)</script>?a=1&b="x"')
    send_due(T0, worker="w")
    html = smtp.received[0].message.get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_smtp_down_means_later_not_lost(make_case: Callable[..., Case]) -> None:
    server = SMTPServer()  # not started: connections are refused
    with override_settings(**server.settings()):
        case = confirmed(make_case)
        assert send_due(T0, worker="w").retrying == 1
        notice = Notice.objects.get(case=case)
        assert (notice.state, notice.attempts) == (Notice.State.PENDING, 1)
        assert "Connection refused" in notice.last_error or "Errno" in notice.last_error
        assert notice.next_attempt_at == T0 + dt.timedelta(minutes=1)
        assert send_due(T0 + dt.timedelta(seconds=30), worker="w").retrying == 0  # not due yet
        assert send_due(T0 + dt.timedelta(minutes=1), worker="w").retrying == 1
        case.refresh_from_db()
        assert case.notices_sent == 0  # the clock has not started
        server.start()
        try:
            later = T0 + dt.timedelta(days=2)
            assert send_due(later, worker="w").sent == 1
        finally:
            server.stop()
    assert len(server.received) == 1
    case.refresh_from_db()
    # The clock runs from the real sending: 20 March + 3 working days = 26, 27, 30 March.
    assert case.last_notice_at == T0 + dt.timedelta(days=2)
    assert case.owner_deadline == almaty(2026, 3, 31)
    assert "2026-03-30" in server.received[0].message.get_body(preferencelist=("plain",)).get_content()


def test_a_temporary_refusal_is_retried(smtp: SMTPServer, make_case: Callable[..., Case]) -> None:
    case = confirmed(make_case)
    smtp.handler.data_reply = "451 4.3.0 try again later"
    assert send_due(T0, worker="w").retrying == 1
    smtp.handler.data_reply = None
    assert send_due(T0 + dt.timedelta(minutes=1), worker="w").sent == 1
    assert len(smtp.received) == 1
    assert Notice.objects.get(case=case).attempts == 2


def test_a_refused_address_fails_for_good_and_makes_the_registrant_data_unreliable(
    smtp: SMTPServer, make_case: Callable[..., Case]
) -> None:
    case = confirmed(make_case)
    smtp.handler.rcpt_reply = "550 5.1.1 no such user"
    assert send_due(T0, worker="w").failed == 1
    notice = Notice.objects.get(case=case)
    assert notice.state == Notice.State.FAILED and "550" in notice.last_error
    assert send_due(T0 + dt.timedelta(hours=7), worker="w").failed == 0  # never tried again
    case.refresh_from_db()
    assert list(case.grounds.values_list("code", flat=True)) == [
        Policy.current().unreliable_registrant_ground_id
    ]
    assert case.domain.admin_contact is not None
    assert case.domain.admin_contact.unreliable
    assert set(case.events.values_list("action", flat=True)) >= {"notice.failed", "registrant.unreliable"}


class Crash(BaseException):
    """The worker process dying: nothing after it runs, no except clause catches it."""


def crash_after_accept(notice: Notice) -> None:
    raise Crash


def test_a_worker_dying_after_the_server_accepted_never_sends_twice(
    smtp: SMTPServer, make_case: Callable[..., Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    case = confirmed(make_case)
    monkeypatch.setattr(outbox, "after_accept", crash_after_accept)
    with pytest.raises(Crash):
        send_due(T0, worker="dead")
    monkeypatch.undo()
    assert len(smtp.received) == 1
    notice = Notice.objects.get(case=case)
    assert notice.state == Notice.State.SENDING
    # Other workers come by while the lease runs, and after it ran out.
    assert not send_due(T0 + dt.timedelta(minutes=1), worker="w2")
    summary = send_due(T0 + dt.timedelta(minutes=11), worker="w2")
    assert (summary.unconfirmed, summary.sent) == (1, 0)
    assert not send_due(T0 + dt.timedelta(days=1), worker="w2")
    assert len(smtp.received) == 1
    notice.refresh_from_db()
    assert notice.state == Notice.State.UNCONFIRMED
    assert case.events.filter(action="notice.unconfirmed").count() == 1
    # An analyst looks at the server's log and confirms: the clock runs from the attempt.
    call_command("notices", "resolve", str(notice.pk), "--sent")
    notice.refresh_from_db()
    case.refresh_from_db()
    assert notice.state == Notice.State.SENT and notice.sent_at == T0
    assert case.notices_sent == 1 and case.last_notice_at == T0
    assert len(smtp.received) == 1


def test_a_worker_dying_after_the_sink_took_it_is_confirmed_from_the_sink(
    make_case: Callable[..., Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    with override_settings(EMAIL_BACKEND="zonewarden.notices.sink.SinkBackend"):
        case = confirmed(make_case)
        monkeypatch.setattr(outbox, "after_accept", crash_after_accept)
        with pytest.raises(Crash):
            send_due(T0, worker="dead")
        monkeypatch.undo()
        summary = send_due(T0 + dt.timedelta(minutes=11), worker="w2")
    assert summary.unconfirmed == 1
    notice = Notice.objects.get(case=case)
    assert notice.state == Notice.State.SENT
    assert SinkMessage.objects.filter(message_id=notice.message_id).count() == 1
    case.refresh_from_db()
    assert case.notices_sent == 1 and case.last_notice_at == T0


def test_a_notice_for_a_case_that_moved_on_is_not_sent(
    smtp: SMTPServer, make_case: Callable[..., Case]
) -> None:
    case = confirmed(make_case)
    workflow.mark_fixed(case, actor=ANALYST, at=T0)
    assert send_due(T0, worker="w").cancelled == 1
    assert smtp.received == []
    assert Notice.objects.get(case=case).state == Notice.State.CANCELLED


def test_the_sink_keeps_the_mail_and_the_cert_reads_it(
    make_case: Callable[..., Case], client: Client, django_user_model: Any
) -> None:
    with override_settings(EMAIL_BACKEND="zonewarden.notices.sink.SinkBackend"):
        case = confirmed(make_case)
        send_due(T0, worker="w")
    stored = SinkMessage.objects.get()
    assert stored.recipients == ["admin@example.kz"] and case.domain_id in stored.subject
    assert client.get("/mail/").status_code == 302  # to the login page
    from django.contrib.auth.models import Group

    from zonewarden import access

    access.ensure_groups()
    operator = django_user_model.objects.create_user("operator", password="x", is_staff=True)
    operator.groups.add(Group.objects.get(name=access.REGISTRY))
    client.force_login(operator)
    assert client.get("/mail/").status_code == 403  # staff, but not the CERT: owners' mail is not theirs
    analyst = django_user_model.objects.create_user("analyst", password="x")
    analyst.groups.add(Group.objects.get(name=access.ANALYST))
    client.force_login(analyst)
    listing = client.get("/mail/")
    assert listing.status_code == 200 and case.domain_id in listing.content.decode()
    detail = client.get(f"/mail/{stored.pk}/").content.decode()
    assert "ХАБАРЛАМА" in detail and "<script>" not in detail


def test_a_reminder_follows_after_the_working_days_while_the_incident_stays(
    smtp: SMTPServer, make_case: Callable[..., Case]
) -> None:
    from zonewarden.cases.tick import tick

    case = confirmed(make_case)
    send_due(T0, worker="w")
    case.refresh_from_db()
    assert case.owner_deadline is not None
    assert tick(case.owner_deadline - dt.timedelta(minutes=1)).actions == {}
    assert tick(case.owner_deadline).actions == {"reminder_due": 1}
    run_due_jobs(case.owner_deadline, worker="w")
    send_due(case.owner_deadline, worker="w")
    assert len(smtp.received) == 2
    second = smtp.received[1].message
    assert second["Subject"].strip() == f"[KZ-CERT] Еске салу / Напоминание / Reminder 2: {case.domain_id}"
    assert "REMINDER No. 2" in second.get_body(preferencelist=("plain",)).get_content()
    case.refresh_from_db()
    assert case.notices_sent == 2
