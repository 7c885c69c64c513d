"""Mail that comes back: bounces mark contacts unreliable, replies join their case, archive copies
confirm notices; each message once."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from email.message import EmailMessage
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import almaty
from zonewarden.cases import workflow
from zonewarden.cases.models import Case, Policy
from zonewarden.notices.inbound import poll_maildir, take_in
from zonewarden.notices.models import InboundMail, Notice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]
SAMPLES = Path(__file__).parent / "samples"
T0 = almaty(2026, 4, 1, 11)
OUR_ID = "<notice-42.abc@cert.kz>"  # the id the sample bounce returns


def notified(
    make_domain: Callable[..., object], make_case: Callable[..., Case], state: str = Notice.State.SENT
) -> tuple[Case, Notice]:
    domain = make_domain(email="admin@tulpar-sauda.kz")
    case = workflow.confirm(make_case(T0, domain=domain), actor="user:analyst", at=T0)
    notice = Notice.objects.create(
        case=case,
        dedupe_key=f"owner:{case.pk}:1",
        recipients=["admin@tulpar-sauda.kz"],
        languages="kk,ru,en",
        from_email="incident@cert.kz",
        message_id=OUR_ID,
        state=state,
        next_attempt_at=T0,
        created_at=T0,
        attempt_started_at=T0,
        sent_at=T0 if state == Notice.State.SENT else None,
    )
    if state == Notice.State.SENT:
        case = workflow.record_notice_sent(case, number=1, actor="system:worker", at=T0)
    return case, notice


def test_a_hard_bounce_makes_the_registrant_data_unreliable(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    case, notice = notified(make_domain, make_case)
    mail = take_in((SAMPLES / "postfix_hard_bounce_5.1.1.eml").read_bytes(), at=T0)
    assert mail is not None and mail.kind == InboundMail.Kind.HARD_BOUNCE
    assert (mail.notice_id, mail.case_id) == (notice.pk, case.pk)
    case.refresh_from_db()
    assert list(case.grounds.values_list("code", flat=True)) == [
        Policy.current().unreliable_registrant_ground_id
    ]
    assert case.domain.admin_contact is not None and case.domain.admin_contact.unreliable
    bounced = case.events.get(action="notice.bounced")
    assert bounced.detail["status"] == "5.1.1"
    evidence = case.events.get(action="registrant.unreliable").detail["evidence"]
    assert evidence["message_id"] == OUR_ID and evidence["inbound"] == mail.pk
    assert take_in((SAMPLES / "postfix_hard_bounce_5.1.1.eml").read_bytes(), at=T0) is None  # once
    assert case.events.filter(action="notice.bounced").count() == 1


def test_a_soft_bounce_only_notes_it(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    case, _ = notified(make_domain, make_case)
    raw = (
        (SAMPLES / "postfix_delayed_4.2.2.eml")
        .read_bytes()
        .replace(b"<notice-44.ghi@cert.kz>", OUR_ID.encode())
    )
    mail = take_in(raw, at=T0)
    assert mail is not None and mail.kind == InboundMail.Kind.SOFT_BOUNCE and mail.case_id == case.pk
    assert case.events.filter(action="notice.soft_bounce").count() == 1
    assert not case.grounds.exists()
    assert case.domain.admin_contact is not None and not case.domain.admin_contact.unreliable


def reply(*, in_reply_to: str = "", references: str = "", message_id: str = "<r1@owner.kz>") -> bytes:
    message = EmailMessage()
    message["From"] = "Owner <admin@tulpar-sauda.kz>"
    message["To"] = "info@cert.kz"
    message["Subject"] = "Re: Уведомление"
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    message.set_content("Мы удалили страницу, проверьте пожалуйста.\n<script>alert(1)</script>")
    return message.as_bytes()


def test_a_reply_is_attached_to_its_case_by_references(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    case, notice = notified(make_domain, make_case)
    mail = take_in(reply(references=f"<other@x.kz> {OUR_ID}"), at=T0)
    assert mail is not None and mail.kind == InboundMail.Kind.REPLY and mail.case_id == case.pk
    event = case.events.get(action="notice.reply_received")
    assert event.detail["inbound"] == mail.pk and event.detail["subject"] == "Re: Уведомление"
    stray = take_in(reply(in_reply_to="<unknown@x.kz>", message_id="<r2@owner.kz>"), at=T0)
    assert stray is not None and stray.case_id is None  # kept for an analyst, on no case


def test_the_archive_copy_confirms_a_notice_whose_worker_died(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    case, notice = notified(make_domain, make_case, state=Notice.State.UNCONFIRMED)
    copy = EmailMessage()
    copy["From"] = "incident@cert.kz"
    copy["To"] = "admin@tulpar-sauda.kz"
    copy["Message-ID"] = OUR_ID
    copy["Subject"] = "[KZ-CERT] Notice"
    copy.set_content("the notice")
    mail = take_in(copy.as_bytes(), at=T0 + dt.timedelta(hours=2))
    assert mail is not None and mail.kind == InboundMail.Kind.ARCHIVE_COPY
    notice.refresh_from_db()
    case.refresh_from_db()
    assert notice.state == Notice.State.SENT and notice.sent_at == T0
    assert case.notices_sent == 1 and case.last_notice_at == T0
    again = copy.as_bytes().replace(b"the notice", b"the notice again")
    take_in(again, at=T0 + dt.timedelta(hours=3))
    case.refresh_from_db()
    assert case.notices_sent == 1 and case.events.filter(action="notice.sent").count() == 1


def test_the_maildir_poller_moves_what_it_read_and_is_safe_to_rerun(
    make_domain: Callable[..., object], make_case: Callable[..., Case], tmp_path: Path
) -> None:
    notified(make_domain, make_case)
    for folder in ("new", "cur", "tmp"):
        (tmp_path / folder).mkdir()
    (tmp_path / "new" / "1.host").write_bytes((SAMPLES / "postfix_hard_bounce_5.1.1.eml").read_bytes())
    (tmp_path / "new" / "2.host").write_bytes(reply(in_reply_to=OUR_ID))
    summary = poll_maildir(tmp_path, at=T0)
    assert (summary.read, summary.stored) == (2, 2)
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == []
    assert len(list((tmp_path / "cur").iterdir())) == 2
    # A crash before the move: the same file is read again and stored once.
    (tmp_path / "new" / "3.host").write_bytes(reply(in_reply_to=OUR_ID))
    assert poll_maildir(tmp_path, at=T0).duplicate == 1
    assert InboundMail.objects.count() == 2


def test_mail_ingest_reads_one_message_or_an_mbox(
    make_domain: Callable[..., object], make_case: Callable[..., Case], tmp_path: Path
) -> None:
    notified(make_domain, make_case)
    mbox = tmp_path / "returned.mbox"
    mbox.write_bytes(
        b"From MAILER-DAEMON Wed Apr  1 11:00:00 2026\n"
        + (SAMPLES / "postfix_hard_bounce_5.1.1.eml").read_bytes()
        + b"\nFrom owner Wed Apr  1 12:00:00 2026\n"
        + reply(in_reply_to=OUR_ID)
    )
    out = StringIO()
    call_command("mail", "ingest", str(mbox), "--json", stdout=out)
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["read"] == 2 and result["stored"] == 2 and result["matched"] == 2
    assert result["by_kind"] == {"hard_bounce": 1, "reply": 1}


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_are_taken_in_without_a_crash(raw: bytes) -> None:
    take_in(raw, at=T0)
