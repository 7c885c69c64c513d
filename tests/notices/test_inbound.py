"""Mail that comes back: bounces mark contacts unreliable, replies join their case, archive copies
confirm notices; each message once, whatever its bytes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as fuzz_settings
from hypothesis import strategies as st

from tests.conftest import almaty
from zonewarden.cases import workflow
from zonewarden.cases.models import Case, Policy
from zonewarden.domains.models import Contact, Domain
from zonewarden.notices import inbound
from zonewarden.notices.inbound import RAW_LIMIT, confirm_sent, poll_maildir, take_in
from zonewarden.notices.models import InboundMail, Notice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]
SAMPLES = Path(__file__).parent / "samples"
REAL_ARF = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "real" / "arf"
T0 = almaty(2026, 4, 1, 11)
OUR_ID = "<notice-42.abc@cert.kz>"  # the id the sample bounce returns
ADDRESS = "admin@tulpar-sauda.kz"
ACTOR = "system:mail"


def make_notice(
    case: Case, *, number: int = 1, state: str = Notice.State.SENT, message_id: str = OUR_ID
) -> Notice:
    return Notice.objects.create(
        case=case,
        kind=Notice.Kind.OWNER,
        number=number,
        dedupe_key=f"owner:{case.pk}:{number}",
        recipients=[ADDRESS],
        languages="kk,ru,en",
        from_email="incident@cert.kz",
        message_id=message_id,
        state=state,
        next_attempt_at=T0,
        created_at=T0 - dt.timedelta(minutes=5),
        attempt_started_at=T0,
        sent_at=T0 if state == Notice.State.SENT else None,
    )


def notified(
    make_domain: Callable[..., object], make_case: Callable[..., Case], state: str = Notice.State.SENT
) -> tuple[Case, Notice]:
    """Return a confirmed case of tulpar-sauda.kz and its first notice, in the given state."""
    domain = make_domain(email=ADDRESS)
    case = workflow.confirm(make_case(T0, domain=domain), actor="user:analyst", at=T0)
    notice = make_notice(case, state=state)
    if state == Notice.State.SENT:
        case = workflow.record_notice_sent(case, number=1, actor="system:worker", at=T0, message_id=OUR_ID)
    return case, notice


def dsn(
    original_id: str = OUR_ID,
    *,
    action: str = "failed",
    status: str = "5.1.1",
    recipient: str = ADDRESS,
    message_id: str = "<dsn-1@mx.cert.kz>",
) -> bytes:
    """Build an RFC 3464 delivery-status report about the message `original_id`."""
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "Mail Delivery System <MAILER-DAEMON@mx.cert.kz>"
    report["To"] = "incident@cert.kz"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Message-ID"] = message_id
    report["Date"] = "Wed, 01 Apr 2026 11:05:00 +0500"
    report["Auto-Submitted"] = "auto-replied"
    report.attach(
        MIMEText(
            "This is the mail system at host mx.cert.kz.\n\n"
            "I'm sorry to have to inform you that your message could not\n"
            "be delivered to one or more recipients.\n"
        )
    )
    per_message = Message()
    per_message["Reporting-MTA"] = "dns; mx.cert.kz"
    per_message["Arrival-Date"] = "Wed, 01 Apr 2026 11:04:58 +0500"
    per_recipient = Message()
    per_recipient["Final-Recipient"] = f"rfc822; {recipient}"
    per_recipient["Original-Recipient"] = f"rfc822;{recipient}"
    per_recipient["Action"] = action
    per_recipient["Status"] = status
    per_recipient["Diagnostic-Code"] = (
        f"smtp; 550 {status} <{recipient}>: Recipient address rejected: User unknown"
    )
    fields = MIMEBase("message", "delivery-status")
    del fields["MIME-Version"]
    fields.set_payload([per_message, per_recipient])
    report.attach(fields)
    returned = (
        "From: KZ-CERT <incident@cert.kz>\n"
        f"To: {recipient}\n"
        "Subject: =?utf-8?b?0KPQstC10LTQvtC80LvQtdC90LjQtQ==?=\n"
        f"Message-ID: {original_id}\n"
    )
    report.attach(MIMEText(returned, "rfc822-headers"))
    return report.as_bytes()


def reply(
    *,
    in_reply_to: str = "",
    references: str = "",
    message_id: str = "<r1@owner.kz>",
    subject: str = "Re: Уведомление",
    auto: bool = False,
) -> bytes:
    """Build an owner's reply (or an automatic one) in a thread."""
    message = EmailMessage()
    message["From"] = f"Owner <{ADDRESS}>"
    message["To"] = "info@cert.kz"
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message["Date"] = "Wed, 01 Apr 2026 12:00:00 +0500"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    if auto:
        message["Auto-Submitted"] = "auto-replied"
    message.set_content("Мы удалили страницу, проверьте пожалуйста.\n<script>alert(1)</script>")
    return message.as_bytes()


def archive_copy(
    message_id: str = OUR_ID, *, date: str = "Wed, 01 Apr 2026 11:00:30 +0500", body: str = ""
) -> bytes:
    """Build the blind copy of a notice, as the archive's Maildir receives it."""
    copy = EmailMessage()
    copy["From"] = "KZ-CERT <incident@cert.kz>"
    copy["To"] = ADDRESS
    copy["Message-ID"] = message_id
    copy["Date"] = date
    copy["Subject"] = "[KZ-CERT] Уведомление об инциденте: tulpar-sauda.kz"
    copy["Auto-Submitted"] = "auto-generated"
    copy.set_content(body or "Уважаемый владелец …")
    return copy.as_bytes()


# --- Bounces -------------------------------------------------------------------------------------


def test_a_hard_bounce_makes_the_contact_unreliable_and_puts_the_ground_on_the_case(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    case, notice = notified(make_domain, make_case)

    mail = take_in(dsn(), actor=ACTOR, at=T0 + dt.timedelta(minutes=10))

    assert mail is not None and mail.kind == InboundMail.Kind.HARD_BOUNCE
    assert (mail.notice_id, mail.case_id) == (notice.pk, case.pk)
    assert "status 5.1.1" in mail.summary and ADDRESS in mail.summary
    case.refresh_from_db()
    assert list(case.grounds.values_list("code", flat=True)) == [
        Policy.current().unreliable_registrant_ground_id
    ]
    contact = Contact.objects.get(email=ADDRESS)
    assert contact.unreliable
    bounced = case.events.get(action="notice.bounced")
    assert bounced.detail["status"] == "5.1.1" and bounced.detail["inbound"] == mail.pk
    assert bounced.detail["contacts"] == [contact.handle]
    assert bounced.actor == ACTOR
    evidence = case.events.get(action="registrant.unreliable").detail["evidence"]
    assert evidence["message_id"] == OUR_ID and evidence["inbound"] == mail.pk
    assert evidence["status"] == "5.1.1" and "User unknown" in evidence["diagnostic"]
    assert case.events.filter(action="case.ground_added").count() == 1


def test_the_postfix_sample_bounce_is_matched_by_its_returned_headers(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    case, notice = notified(make_domain, make_case)

    mail = take_in((SAMPLES / "postfix_hard_bounce_5.1.1.eml").read_bytes(), actor=ACTOR, at=T0)

    assert mail is not None and (mail.kind, mail.notice_id) == (InboundMail.Kind.HARD_BOUNCE, notice.pk)
    assert case.grounds.exists()


def test_a_bounce_is_matched_whatever_the_case_of_the_id_domain(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    case, notice = notified(make_domain, make_case)

    mail = take_in(dsn("notice-42.abc@CERT.KZ"), actor=ACTOR, at=T0)  # and without brackets

    assert mail is not None and mail.notice_id == notice.pk


def test_the_local_part_of_an_id_is_not_folded(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    notified(make_domain, make_case)

    mail = take_in(dsn("<NOTICE-42.ABC@cert.kz>"), actor=ACTOR, at=T0)

    assert mail is not None and mail.notice_id is None and mail.case_id is None


def test_only_the_contact_whose_address_bounced_is_marked(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    case, _ = notified(make_domain, make_case)
    domain = Domain.objects.get(pk=case.domain_id)
    registrant = Contact.objects.create(handle="registrant-1", email="owner@tulpar-sauda.kz")
    domain.registrant = registrant
    domain.save()

    take_in(dsn(), actor=ACTOR, at=T0)

    assert Contact.objects.get(email=ADDRESS).unreliable
    registrant.refresh_from_db()
    assert not registrant.unreliable


def test_a_bounce_naming_an_address_the_notice_did_not_go_to_judges_nobody(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    case, _ = notified(make_domain, make_case)

    mail = take_in(dsn(recipient="someone@gmail.com"), actor=ACTOR, at=T0)

    assert mail is not None and mail.kind == InboundMail.Kind.HARD_BOUNCE and mail.case_id == case.pk
    assert case.events.get(action="notice.bounced").detail["contacts"] == []
    assert not Contact.objects.get(email=ADDRESS).unreliable
    assert not case.grounds.exists()


def test_a_hard_bounce_on_a_closed_case_marks_the_contact_but_adds_no_ground(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    case, _ = notified(make_domain, make_case)
    case = workflow.mark_fixed(case, actor="user:analyst", at=T0 + dt.timedelta(minutes=1))

    mail = take_in(dsn(), actor=ACTOR, at=T0 + dt.timedelta(minutes=10))

    assert mail is not None and mail.case_id == case.pk
    assert Contact.objects.get(email=ADDRESS).unreliable
    assert not case.grounds.exists()
    assert case.events.filter(action="notice.bounced").count() == 1


def test_a_soft_bounce_only_notes_it(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    case, _ = notified(make_domain, make_case)

    mail = take_in(dsn(action="delayed", status="4.2.2"), actor=ACTOR, at=T0)

    assert mail is not None and mail.kind == InboundMail.Kind.SOFT_BOUNCE and mail.case_id == case.pk
    event = case.events.get(action="notice.soft_bounce")
    assert event.detail["status"] == "4.2.2" and event.detail["inbound"] == mail.pk
    assert not case.grounds.exists()
    assert not Contact.objects.get(email=ADDRESS).unreliable
    assert not case.events.filter(action="notice.bounced").exists()


def test_the_same_bounce_is_taken_in_once(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    case, _ = notified(make_domain, make_case)

    report = dsn()

    first = take_in(report, actor=ACTOR, at=T0)
    second = take_in(report, actor=ACTOR, at=T0 + dt.timedelta(hours=1))

    assert first is not None and second is None
    assert InboundMail.objects.count() == 1
    assert case.events.filter(action="notice.bounced").count() == 1
    assert case.events.filter(action="registrant.unreliable").count() == 1


# --- Replies -------------------------------------------------------------------------------------


def test_a_reply_is_attached_to_its_case_by_references(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    case, notice = notified(make_domain, make_case)

    mail = take_in(reply(references=f"<other@x.kz> {OUR_ID}"), actor=ACTOR, at=T0)

    assert mail is not None and mail.kind == InboundMail.Kind.REPLY
    assert (mail.notice_id, mail.case_id) == (notice.pk, case.pk)
    assert mail.from_address == ADDRESS and mail.subject == "Re: Уведомление"
    event = case.events.get(action="notice.reply_received")
    assert event.detail["inbound"] == mail.pk and event.detail["subject"] == "Re: Уведомление"
    assert event.detail["from"] == ADDRESS
    assert not case.grounds.exists()


def test_a_reply_to_a_reminder_is_about_the_reminder_not_the_first_notice(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    case, _ = notified(make_domain, make_case)
    reminder = make_notice(case, number=2, message_id="<notice-43.def@cert.kz>")

    mail = take_in(reply(references=f"{OUR_ID} <notice-43.def@cert.kz>"), actor=ACTOR, at=T0)

    assert mail is not None and mail.notice_id == reminder.pk


def test_an_automatic_reply_is_noted_on_the_case(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    case, _ = notified(make_domain, make_case)

    mail = take_in(reply(in_reply_to=OUR_ID, subject="Out of office", auto=True), actor=ACTOR, at=T0)

    assert mail is not None and mail.kind == InboundMail.Kind.AUTO_REPLY
    assert case.events.filter(action="notice.auto_reply").count() == 1
    assert not case.events.filter(action="notice.reply_received").exists()


def test_a_message_about_no_notice_of_ours_is_kept_on_no_case(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    case, _ = notified(make_domain, make_case)

    stray = take_in(reply(in_reply_to="<unknown@x.kz>", message_id="<r2@owner.kz>"), actor=ACTOR, at=T0)
    bounce = take_in(dsn("<never-sent@cert.kz>"), actor=ACTOR, at=T0)

    assert stray is not None and (stray.kind, stray.case_id, stray.notice_id) == ("reply", None, None)
    assert bounce is not None and (bounce.kind, bounce.case_id) == ("hard_bounce", None)
    assert "no notice of ours" in bounce.summary
    assert not Contact.objects.get(email=ADDRESS).unreliable
    assert not case.events.filter(action__startswith="notice.").exclude(action="notice.sent").exists()


# --- Archive copies ------------------------------------------------------------------------------


def test_the_archive_copy_confirms_an_unconfirmed_notice_exactly_once(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    case, notice = notified(make_domain, make_case, state=Notice.State.UNCONFIRMED)
    assert case.notices_sent == 0

    mail = take_in(archive_copy(), actor=ACTOR, at=T0 + dt.timedelta(hours=2))

    assert mail is not None and mail.kind == InboundMail.Kind.ARCHIVE_COPY
    assert (mail.notice_id, mail.case_id) == (notice.pk, case.pk)
    notice.refresh_from_db()
    case.refresh_from_db()
    assert notice.state == Notice.State.SENT and notice.sent_at == T0  # the attempt, not the copy
    assert case.notices_sent == 1 and case.last_notice_at == T0
    assert case.owner_deadline is not None and case.owner_deadline > T0
    sent = case.events.get(action="notice.sent")
    assert sent.detail["message_id"] == OUR_ID and sent.actor == ACTOR
    # A second copy (another Maildir's, other bytes) changes nothing.
    again = take_in(archive_copy(body="the same notice"), actor=ACTOR, at=T0 + dt.timedelta(hours=3))
    assert again is not None and again.kind == InboundMail.Kind.ARCHIVE_COPY
    case.refresh_from_db()
    notice.refresh_from_db()
    assert case.notices_sent == 1 and case.events.filter(action="notice.sent").count() == 1
    assert notice.sent_at == T0


def test_a_copy_of_a_notice_left_sending_without_an_attempt_time_uses_its_date(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    case, notice = notified(make_domain, make_case, state=Notice.State.SENDING)
    Notice.objects.filter(pk=notice.pk).update(attempt_started_at=None)

    take_in(archive_copy(date="Wed, 01 Apr 2026 11:00:30 +0500"), actor=ACTOR, at=T0 + dt.timedelta(hours=1))

    notice.refresh_from_db()
    assert notice.state == Notice.State.SENT and notice.sent_at == T0 + dt.timedelta(seconds=30)


def test_a_copy_dated_in_the_future_is_not_believed(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    case, notice = notified(make_domain, make_case, state=Notice.State.UNCONFIRMED)
    Notice.objects.filter(pk=notice.pk).update(attempt_started_at=None)
    moment = T0 + dt.timedelta(hours=1)

    take_in(archive_copy(date="Fri, 01 Jan 2100 00:00:00 +0000"), actor=ACTOR, at=moment)

    notice.refresh_from_db()
    assert notice.sent_at == moment


def test_the_copy_of_a_notice_recorded_as_sent_leaves_it_as_it_is(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    case, notice = notified(make_domain, make_case)

    mail = take_in(archive_copy(), actor=ACTOR, at=T0 + dt.timedelta(days=1))

    assert mail is not None and mail.kind == InboundMail.Kind.ARCHIVE_COPY
    notice.refresh_from_db()
    case.refresh_from_db()
    assert notice.sent_at == T0 and case.notices_sent == 1
    assert case.events.filter(action="notice.sent").count() == 1


def test_confirm_sent_is_idempotent(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    case, notice = notified(make_domain, make_case, state=Notice.State.UNCONFIRMED)

    assert confirm_sent(notice, at=T0, actor=ACTOR, how="test") is True
    assert confirm_sent(notice, at=T0 + dt.timedelta(hours=1), actor=ACTOR, how="test") is False

    notice.refresh_from_db()
    case.refresh_from_db()
    assert notice.sent_at == T0 and case.notices_sent == 1


def test_a_copy_that_cannot_be_recorded_is_kept_and_says_why(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    case, _ = notified(make_domain, make_case)  # notice 1 recorded; notice 3 cannot follow it
    third = make_notice(case, number=3, state=Notice.State.UNCONFIRMED, message_id="<notice-45@cert.kz>")

    mail = take_in(archive_copy("<notice-45@cert.kz>"), actor=ACTOR, at=T0 + dt.timedelta(hours=1))

    assert mail is not None and "not acted on" in mail.summary
    third.refresh_from_db()
    assert third.state == Notice.State.UNCONFIRMED
    assert InboundMail.objects.get(pk=mail.pk).summary == mail.summary


# --- Size and hostile input ----------------------------------------------------------------------


def test_a_huge_message_is_stored_cut_to_size(
    make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    case, _ = notified(make_domain, make_case)
    huge = reply(in_reply_to=OUR_ID) + b"A" * (3 * RAW_LIMIT)

    mail = take_in(huge, actor=ACTOR, at=T0)

    assert mail is not None and mail.case_id == case.pk
    stored = InboundMail.objects.get(pk=mail.pk)
    assert len(bytes(stored.raw)) == RAW_LIMIT
    assert len(stored.summary) <= inbound.SUMMARY_LIMIT
    assert take_in(huge, actor=ACTOR, at=T0) is None  # known by the hash of all of it


FUZZ = fuzz_settings(
    max_examples=80,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def assert_stored_sanely(mail: InboundMail | None) -> None:
    if mail is None:
        return
    stored = InboundMail.objects.get(pk=mail.pk)
    assert len(bytes(stored.raw)) <= RAW_LIMIT
    assert len(stored.summary) <= inbound.SUMMARY_LIMIT
    assert len(stored.subject) <= 998 and len(stored.from_address) <= 998 and len(stored.message_id) <= 998
    assert stored.kind in InboundMail.Kind.values


@FUZZ
@given(st.binary(max_size=3000))
def test_any_bytes_are_taken_in_without_a_crash(raw: bytes) -> None:
    assert_stored_sanely(take_in(raw, actor=ACTOR, at=T0))


# Half of the fuzzed messages start from one about our notice, so that its effects run too.
ABOUT_OUR_NOTICE = [dsn(), dsn(action="delayed", status="4.4.1"), reply(references=OUR_ID), archive_copy()]
OTHER_MESSAGES = [path.read_bytes() for path in sorted(SAMPLES.glob("*.eml"))]
if REAL_ARF.is_dir():  # real reports, read where they are, never copied
    OTHER_MESSAGES += [path.read_bytes() for path in sorted(REAL_ARF.glob("*.eml"))[:20]]
SNIPPETS = [
    b"\x00",
    b"\r\n",
    b"\n\n",
    b"--",
    b"=?utf-8?b?",
    b"=?koi8-r?q?=FF?=",
    b"\xff\xfe",
    b"\xed\xa0\x80",  # a UTF-8-encoded surrogate
    b"<",
    b">",
    b"@",
    OUR_ID.encode(),
    b"notice-42.abc@CERT.KZ",
    b"In-Reply-To: <notice-42.abc@cert.kz>\r\n",
    b"Message-ID: <notice-42.abc@cert.kz>\r\n",
    b"Action: failed\r\nStatus: 5.1.1\r\n",
    b"Final-Recipient: rfc822; \x00admin@tulpar-sauda.kz\r\n",
    b"Content-Type: message/delivery-status\r\n",
    b"Subject: \x00\x00\r\n",
    b"Date: Wed, 99 Mar 2026 25:61:61 +9999\r\n",
]


@st.composite
def mutated_messages(draw: st.DrawFn) -> bytes:
    """Return a real or built message cut, spliced and sprinkled with hostile snippets."""
    data = bytearray(draw(st.sampled_from(ABOUT_OUR_NOTICE) | st.sampled_from(OTHER_MESSAGES)))
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        action = draw(st.sampled_from(["cut", "insert", "flip", "delete"]))
        position = draw(st.integers(min_value=0, max_value=len(data)))
        if action == "cut":
            del data[position:]
        elif action == "insert":
            data[position:position] = draw(st.one_of(st.sampled_from(SNIPPETS), st.binary(max_size=16)))
        elif action == "flip" and position < len(data):
            data[position] = draw(st.integers(min_value=0, max_value=255))
        elif action == "delete":
            del data[position : position + draw(st.integers(min_value=1, max_value=40))]
    return bytes(data)


@FUZZ
@given(raw=mutated_messages())
def test_mutated_real_messages_about_a_notice_are_taken_in_without_a_crash(
    make_domain: Callable[..., object], make_case: Callable[..., Case], raw: bytes
) -> None:
    if not Notice.objects.filter(message_id=OUR_ID).exists():
        notified(make_domain, make_case, state=Notice.State.UNCONFIRMED)
    assert_stored_sanely(take_in(raw, actor=ACTOR, at=T0))


# --- The Maildir ---------------------------------------------------------------------------------


def make_maildir(root: Path) -> Path:
    for folder in ("new", "cur", "tmp"):
        (root / folder).mkdir(parents=True)
    return root


def test_the_maildir_poller_moves_what_it_read_and_is_safe_to_rerun(
    make_domain: Callable[..., object], make_case: Callable[..., Case], tmp_path: Path
) -> None:
    case, _ = notified(make_domain, make_case)
    maildir = make_maildir(tmp_path / "Maildir")
    (maildir / "new" / "1.host").write_bytes(dsn())
    (maildir / "new" / "2.host").write_bytes(reply(in_reply_to=OUR_ID))
    (maildir / "new" / "3.host").write_bytes(b"not mail at all")

    summary = poll_maildir(maildir, at=T0)

    assert (summary.read, summary.stored, summary.duplicate, summary.matched) == (3, 3, 0, 2)
    assert summary.kinds == {"hard_bounce": 1, "reply": 1, "other": 1}
    assert list((maildir / "new").iterdir()) == []
    assert sorted(path.name for path in (maildir / "cur").iterdir()) == [
        "1.host:2,S",
        "2.host:2,S",
        "3.host:2,S",
    ]
    assert case.events.filter(action="notice.bounced").get().actor == "system:worker"
    # Nothing new: a second pass does nothing.
    assert poll_maildir(maildir, at=T0).read == 0
    # A crash after storing but before the move: the file is read again and stored once.
    (maildir / "new" / "4.host").write_bytes(reply(in_reply_to=OUR_ID))
    again = poll_maildir(maildir, at=T0)
    assert (again.read, again.duplicate, again.stored) == (1, 1, 0)
    assert InboundMail.objects.count() == 3
    assert not list((maildir / "new").iterdir())
    assert case.events.filter(action="notice.reply_received").count() == 1


def test_without_a_maildir_the_poller_does_nothing(tmp_path: Path) -> None:
    with override_settings(ZONEWARDEN_MAILDIR=""):
        assert poll_maildir().read == 0
    assert poll_maildir(tmp_path / "absent").read == 0


def test_the_poller_reads_the_configured_maildir(tmp_path: Path) -> None:
    maildir = make_maildir(tmp_path / "Maildir")
    (maildir / "new" / "1.host").write_bytes(reply())

    with override_settings(ZONEWARDEN_MAILDIR=str(maildir)):
        assert poll_maildir(at=T0).stored == 1
    assert list((maildir / "cur").iterdir())


def test_a_message_that_fails_to_store_stays_in_new_and_the_rest_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    maildir = make_maildir(tmp_path / "Maildir")
    (maildir / "new" / "1.host").write_bytes(reply(message_id="<a@owner.kz>"))
    (maildir / "new" / "2.host").write_bytes(reply(message_id="<b@owner.kz>"))
    real = inbound.take_in

    def failing(raw: bytes, **kwargs: object) -> InboundMail | None:
        if b"<a@owner.kz>" in raw:
            raise RuntimeError("the database went away")  # an injected fault
        return real(raw, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(inbound, "take_in", failing)

    summary = poll_maildir(maildir, at=T0)

    assert (summary.read, summary.stored, summary.failed) == (2, 1, 1)
    assert [path.name for path in (maildir / "new").iterdir()] == ["1.host"]
    monkeypatch.setattr(inbound, "take_in", real)
    assert poll_maildir(maildir, at=T0).stored == 1
    assert not list((maildir / "new").iterdir())
