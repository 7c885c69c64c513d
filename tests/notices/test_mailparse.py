"""What comes back after a notice: bounces, auto-replies and replies, from sample messages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from zonewarden.notices.mailparse import (
    DIAGNOSTIC_LIMIT,
    ID_LIMIT,
    SUBJECT_LIMIT,
    TEXT_LIMIT,
    InboundMessage,
    classify_message,
    html_to_text,
)

SAMPLES = Path(__file__).resolve().parent / "samples"
ALMATY_OFFSET = dt.timezone(dt.timedelta(hours=6))


def sample(name: str) -> InboundMessage:
    """Classify one sample message."""
    return classify_message((SAMPLES / name).read_bytes())


def message(*headers: str, body: str = "Hello.\n", charset: str = "utf-8") -> bytes:
    """Build a simple text message from header lines and a body."""
    head = "\r\n".join([*headers, "MIME-Version: 1.0", f"Content-Type: text/plain; charset={charset}"])
    return head.encode("utf-8") + b"\r\n\r\n" + body.encode(charset)


# --- RFC 3464 delivery-status reports --------------------------------------------------------------


def test_a_postfix_dsn_with_action_failed_and_5_1_1_is_a_hard_bounce() -> None:
    bounce = sample("postfix_hard_bounce_5.1.1.eml")

    assert bounce.kind == "hard_bounce"
    assert bounce.is_bounce
    assert bounce.status == "5.1.1"
    assert bounce.failed_recipients == ["admin@tulpar-sauda.kz"]
    assert bounce.diagnostic == (
        "550 5.1.1 <admin@tulpar-sauda.kz>: Recipient address rejected: User unknown in virtual mailbox table"
    )
    assert bounce.from_address == "MAILER-DAEMON@mail.cert.kz"
    assert bounce.subject == "Undelivered Mail Returned to Sender"
    assert bounce.message_id == "20260318041502.3F1B2C0A1F@mail.cert.kz"
    assert bounce.received_at == dt.datetime(2026, 3, 18, 10, 15, 2, tzinfo=ALMATY_OFFSET)
    assert "could not\nbe delivered" in bounce.text


def test_a_postfix_dsn_names_our_message_from_its_returned_headers() -> None:
    bounce = sample("postfix_hard_bounce_5.1.1.eml")

    assert bounce.original_message_id == "notice-42.abc@cert.kz"
    assert bounce.in_reply_to == ["notice-42.abc@cert.kz"]
    assert bounce.references == ["notice-42.abc@cert.kz"]


def test_a_dsn_with_action_delayed_and_mailbox_full_is_a_soft_bounce() -> None:
    bounce = sample("postfix_delayed_4.2.2.eml")

    assert bounce.kind == "soft_bounce"
    assert bounce.status == "4.2.2"
    assert bounce.diagnostic == "452 4.2.2 Mailbox full"
    assert bounce.failed_recipients == []  # delayed, not failed: it is still being retried
    assert bounce.original_message_id == "notice-44.ghi@cert.kz"  # from the message/rfc822 part


def dsn(recipient_fields: str, *, report_type: str = "delivery-status") -> bytes:
    """Build a delivery-status report with the given per-recipient fields."""
    return (
        "From: MAILER-DAEMON@mx.cert.kz\r\n"
        "To: incident@cert.kz\r\n"
        "Subject: Delivery report\r\n"
        "Message-ID: <report-1@mx.cert.kz>\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type={report_type}; boundary="b"\r\n'
        "\r\n--b\r\nContent-Type: text/plain\r\n\r\nA report.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.cert.kz\r\n\r\n"
        f"{recipient_fields}\r\n"
        "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        "From: incident@cert.kz\r\nMessage-ID: <notice-9.q@cert.kz>\r\n"
        "--b--\r\n"
    ).encode()


def test_a_dsn_with_action_failed_and_no_parseable_status_is_a_hard_bounce() -> None:
    bounce = classify_message(
        dsn("Final-Recipient: rfc822; a@example.kz\r\nAction: failed\r\nStatus: garbled")
    )

    assert bounce.kind == "hard_bounce"
    assert bounce.status is None
    assert bounce.failed_recipients == ["a@example.kz"]
    assert bounce.original_message_id == "notice-9.q@cert.kz"


def test_a_dsn_with_action_failed_and_a_4_x_x_status_is_a_soft_bounce() -> None:
    bounce = classify_message(dsn("Final-Recipient: rfc822; a@example.kz\r\nAction: failed\r\nStatus: 4.4.7"))

    assert bounce.kind == "soft_bounce"
    assert bounce.status == "4.4.7"
    assert bounce.failed_recipients == ["a@example.kz"]


def test_a_dsn_lists_original_and_final_recipients_of_failed_deliveries_only() -> None:
    bounce = classify_message(
        dsn(
            "Original-Recipient: rfc822; owner@example.kz\r\nFinal-Recipient: rfc822; forward@mail.example.kz\r\n"
            "Action: failed\r\nStatus: 5.2.1\r\n\r\n"
            "Final-Recipient: rfc822; other@example.kz\r\nAction: delayed\r\nStatus: 4.4.1"
        )
    )

    assert bounce.kind == "hard_bounce"
    assert bounce.status == "5.2.1"
    assert bounce.failed_recipients == ["owner@example.kz", "forward@mail.example.kz"]


def test_a_dsn_that_reports_delivery_is_an_automatic_message_not_a_bounce() -> None:
    report = classify_message(
        dsn("Final-Recipient: rfc822; a@example.kz\r\nAction: delivered\r\nStatus: 2.0.0")
    )

    assert report.kind == "auto_reply"
    assert report.original_message_id is None


def test_a_dsn_without_any_readable_fields_is_a_soft_bounce_so_no_one_is_accused() -> None:
    assert classify_message(dsn("Something: else")).kind == "soft_bounce"


# --- Non-standard bounces --------------------------------------------------------------------------


def test_an_exim_bounce_is_a_hard_bounce_with_its_failed_recipient_and_status() -> None:
    bounce = sample("exim_hard_bounce.eml")

    assert bounce.kind == "hard_bounce"
    assert bounce.status == "5.1.1"
    assert bounce.failed_recipients == ["info@shop-almaty.kz"]
    assert bounce.diagnostic is not None and "User unknown" in bounce.diagnostic
    assert bounce.from_address == "Mailer-Daemon@relay.cert.kz"


def test_an_exim_bounce_names_our_message_from_the_copy_in_its_text() -> None:
    bounce = sample("exim_hard_bounce.eml")

    assert bounce.original_message_id == "notice-43.def@cert.kz"
    assert "notice-43.def@cert.kz" in bounce.references
    assert "notice-41.xyz@cert.kz" in bounce.references  # our earlier notice, from the copy's References


def test_a_mailer_daemon_message_with_a_failure_subject_and_a_code_in_its_text_is_a_hard_bounce() -> None:
    bounce = classify_message(
        message(
            "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
            "Subject: Delivery Status Notification (Failure)",
            "In-Reply-To: <notice-50.x@cert.kz>",
            body="Address not found\n\nThe response was:\n\n550 5.1.1 The email account that you tried to reach does not exist.\n",
        )
    )

    assert bounce.kind == "hard_bounce"
    assert bounce.status == "5.1.1"
    assert bounce.original_message_id == "notice-50.x@cert.kz"
    assert bounce.diagnostic is not None and "does not exist" in bounce.diagnostic


def test_a_postmaster_message_with_a_delay_subject_is_a_soft_bounce() -> None:
    bounce = classify_message(
        message(
            "From: postmaster@mail.example.kz",
            "Subject: Delivery Status Notification (Delay)",
            body="Delivery is delayed.\n\n451 4.4.1 No answer from host\n",
        )
    )

    assert bounce.kind == "soft_bounce"
    assert bounce.status == "4.4.1"


def test_undelivered_mail_subject_from_mailer_daemon_without_a_code_is_a_hard_bounce() -> None:
    bounce = classify_message(
        message(
            "From: MAILER-DAEMON@mx.example.kz (Mail Delivery System)",
            "Subject: Undelivered Mail Returned to Sender",
            body="I'm sorry to have to inform you that your message could not be delivered.\n",
        )
    )

    assert bounce.kind == "hard_bounce"
    assert bounce.status is None


def test_a_basic_smtp_reply_code_in_a_daemon_message_decides_the_bounce() -> None:
    bounce = classify_message(
        message(
            "From: MAILER-DAEMON@old-mta.example.kz",
            "Subject: Returned mail: see transcript for details",
            body="----- Transcript of session follows -----\n... while talking to mx.example.kz.:\n>>> RCPT To:<a@example.kz>\n<<< 550 Requested action not taken: mailbox unavailable\n",
        )
    )

    assert bounce.kind == "hard_bounce"
    assert bounce.status is None
    assert bounce.diagnostic is not None and "550 Requested action" in bounce.diagnostic


def test_a_forwarded_bounce_from_a_person_is_a_reply() -> None:
    forwarded = classify_message(
        message(
            "From: owner@example.kz",
            "Subject: Fwd: Undelivered Mail Returned to Sender",
            body="What is this?\n\n> 550 5.1.1 User unknown\n",
        )
    )

    assert forwarded.kind == "reply"


def test_a_persons_reply_quoting_a_status_code_is_not_a_bounce() -> None:
    reply = classify_message(
        message(
            "From: owner@example.kz",
            "Subject: Re: [KZ-CERT] example.kz - notice 1",
            "In-Reply-To: <notice-51.y@cert.kz>",
            body="We got error 550 5.1.1 from your colleague, but the site is clean now.\n",
        )
    )

    assert reply.kind == "reply"
    assert reply.status is None
    assert reply.original_message_id is None


# --- Auto-replies ------------------------------------------------------------------------------------


def test_an_outlook_out_of_office_is_an_auto_reply() -> None:
    reply = sample("outlook_out_of_office.eml")

    assert reply.kind == "auto_reply"
    assert not reply.is_bounce
    assert reply.subject == "Automatic reply: [KZ-CERT] kaz-bazar.kz — notice 1"
    assert reply.from_address == "a.saparova@kaz-bazar.kz"
    assert reply.in_reply_to == ["notice-46.jkl@cert.kz"]
    assert reply.text.startswith("I am out of the office until 25 March 2026")  # the text/plain alternative
    assert reply.received_at == dt.datetime(2026, 3, 18, 5, 20, 11, tzinfo=dt.UTC)


def test_a_russian_autootvet_in_windows_1251_is_an_auto_reply_by_its_subject() -> None:
    reply = sample("autootvet_cp1251.eml")

    assert reply.kind == "auto_reply"
    assert reply.subject == "Автоответ: Re: [KZ-CERT] aqmola-gaz.kz — уведомление 1"
    assert "Я в отпуске до 30 марта." in reply.text
    assert reply.in_reply_to == ["notice-47.mno@cert.kz"]


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated (vacation)",
        "Auto-Submitted: Auto-Notified",
        "X-Autoreply: yes",
        "X-Autorespond: Out of office",
        "Precedence: bulk",
        "Precedence: junk",
        "Precedence: auto_reply",
    ],
)
def test_an_auto_reply_header_makes_an_auto_reply(header: str) -> None:
    reply = classify_message(message("From: owner@example.kz", "Subject: Re: notice", header))

    assert reply.kind == "auto_reply"


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: [KZ-CERT] example.kz - notice 1",
        "Out of office",
        "Automatic reply: notice",
        "AutoReply: notice",
        "Автоответ: уведомление",
        "Автоматический ответ: Уведомление",
        "=?koi8-r?b?4dfUz8/U18XUOiDV18XEz83Mxc7JxQ==?=",
    ],
)
def test_an_auto_reply_subject_makes_an_auto_reply(subject: str) -> None:
    reply = classify_message(message("From: owner@example.kz", f"Subject: {subject}"))

    assert reply.kind == "auto_reply"


def test_auto_submitted_no_is_a_reply() -> None:
    reply = classify_message(message("From: owner@example.kz", "Subject: Re: notice", "Auto-Submitted: no"))

    assert reply.kind == "reply"


def test_a_domain_named_like_an_auto_reply_in_the_subject_is_still_a_reply() -> None:
    reply = classify_message(
        message("From: owner@example.kz", "Subject: Re: [KZ-CERT] out-of-office.kz - notice 1")
    )

    assert reply.kind == "reply"


def test_a_read_receipt_is_an_auto_reply() -> None:
    receipt = (
        b"From: owner@example.kz\r\nSubject: Read: notice\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=disposition-notification; boundary="r"\r\n\r\n'
        b"--r\r\nContent-Type: text/plain\r\n\r\nYour message was read.\r\n"
        b"--r\r\nContent-Type: message/disposition-notification\r\n\r\n"
        b"Final-Recipient: rfc822; owner@example.kz\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n"
        b"--r--\r\n"
    )

    assert classify_message(receipt).kind == "auto_reply"


# --- Replies ---------------------------------------------------------------------------------------


def test_a_cyrillic_utf8_reply_keeps_its_thread_and_decoded_text() -> None:
    reply = sample("reply_cyrillic_utf8.eml")

    assert reply.kind == "reply"
    assert reply.in_reply_to == ["notice-42.abc@cert.kz"]
    assert reply.references == ["notice-41.zzz@cert.kz", "notice-42.abc@cert.kz"]
    assert reply.original_message_id is None
    assert reply.message_id == "a1b2c3d4-e5f6-7890-abcd-ef0123456789@tulpar-sauda.kz"
    assert reply.subject == "Re: [KZ-CERT] tulpar-sauda.kz — уведомление 1"
    assert reply.from_address == "d.akhmetov@tulpar-sauda.kz"
    assert reply.text.startswith("Здравствуйте!\n\nСайт очищен, вредоносный скрипт удалён")
    assert "ТОО «Тулпар Сауда»" in reply.text
    assert reply.received_at == dt.datetime(2026, 3, 19, 15, 40, 5, tzinfo=ALMATY_OFFSET)


def test_an_html_only_reply_becomes_plain_text_without_script_style_or_tags() -> None:
    reply = sample("html_only_reply.eml")

    assert reply.kind == "reply"
    assert reply.in_reply_to == ["notice-43.def@cert.kz"]
    assert "Мы удалили страницу & сменили пароль." in reply.text
    assert "Проверьте, пожалуйста: shop-almaty.kz" in reply.text
    for leftover in (
        "<script",
        "<SCRIPT",
        "alert",
        "document",
        "color: red",
        "hidden comment",
        "<p>",
        "onclick",
    ):
        assert leftover not in reply.text
    assert "Спасибо <3" in reply.text  # an escaped "<" is text, shown escaped again later


def test_a_message_without_thread_headers_is_still_a_reply_for_an_analyst_to_match() -> None:
    reply = classify_message(message("From: someone@example.kz", "Subject: About my site"))

    assert reply.kind == "reply"
    assert reply.in_reply_to == []
    assert reply.references == []


def test_message_ids_without_angle_brackets_are_read_too() -> None:
    reply = classify_message(
        message(
            "From: a@example.kz",
            "In-Reply-To: notice-60.z@cert.kz",
            "References: notice-59.z@cert.kz notice-60.z@cert.kz",
        )
    )

    assert reply.in_reply_to == ["notice-60.z@cert.kz"]
    assert reply.references == ["notice-59.z@cert.kz", "notice-60.z@cert.kz"]


def test_html_to_text_drops_an_unclosed_script_to_the_end() -> None:
    assert html_to_text("<p>Fine</p><script>alert(1)") == "Fine"


# --- Dates ---------------------------------------------------------------------------------------


def test_a_date_with_minus_zero_zone_is_read_as_utc() -> None:
    reply = classify_message(message("From: a@example.kz", "Date: Wed, 18 Mar 2026 04:15:01 -0000"))

    assert reply.received_at == dt.datetime(2026, 3, 18, 4, 15, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "date", ["yesterday", "Wed, 18 Mar 2026 04:15:01 +9999", "Wed, 99 Foo 99999 99:99:99"]
)
def test_an_unreadable_date_is_none(date: str) -> None:
    assert classify_message(message("From: a@example.kz", f"Date: {date}")).received_at is None


# --- Hostile and broken input ----------------------------------------------------------------------


def test_a_truncated_message_full_of_junk_is_unknown_with_a_reason() -> None:
    broken = sample("truncated_garbage.eml")

    assert broken.kind == "unknown"
    assert "not a mail message" in broken.reason
    assert broken.message_id is None


@pytest.mark.parametrize("raw", [b"", b"   \r\n\r\n", b"\x00\x01\x02\xff" * 50, b"no headers here at all\n"])
def test_empty_or_headerless_bytes_are_unknown(raw: bytes) -> None:
    result = classify_message(raw)

    assert result.kind == "unknown"
    assert result.reason


def test_a_header_that_breaks_the_default_policy_falls_back_to_compat32() -> None:
    # "<@>" makes email.policy.default raise IndexError when the header is read (CPython 3.11).
    reply = classify_message(
        message(
            "From: a@example.kz",
            "Subject: Re: notice",
            "Message-ID: <@>",
            "In-Reply-To: <notice-70.w@cert.kz>",
        )
    )

    assert reply.kind == "reply"
    assert reply.in_reply_to == ["notice-70.w@cert.kz"]
    assert reply.from_address == "a@example.kz"


def test_raw_windows_1251_bytes_in_a_header_are_recovered_as_far_as_possible() -> None:
    raw = "From: owner@example.kz\r\nSubject: Привет\r\n\r\nТекст\r\n".encode("cp1251")

    reply = classify_message(raw)

    assert reply.kind == "reply"
    assert reply.from_address == "owner@example.kz"
    assert reply.text == "Текст"  # no charset declared: not UTF-8, so windows-1251


def test_an_unknown_charset_falls_back_to_a_guess() -> None:
    raw = message("From: a@example.kz", body="Сайт очищен.", charset="utf-8").replace(
        b"charset=utf-8", b"charset=x-no-such"
    )

    assert classify_message(raw).text == "Сайт очищен."


def test_nul_characters_never_reach_the_result() -> None:
    raw = message("From: a@example.kz", "Subject: =?utf-8?q?a=00b?=", body="x\x00y")

    reply = classify_message(raw)

    assert reply.subject == "ab"
    assert reply.text == "xy"


def test_long_fields_are_cut_to_their_limits() -> None:
    raw = message(
        "From: a@example.kz",
        "Subject: " + "s" * 5000,
        "References: " + " ".join(f"<n{i}@cert.kz>" for i in range(500)),
        body="t" * 50_000,
    )

    reply = classify_message(raw)

    assert len(reply.subject) == SUBJECT_LIMIT
    assert len(reply.text) == TEXT_LIMIT
    assert len(reply.references) == ID_LIMIT


def test_a_long_diagnostic_is_cut_to_500_characters() -> None:
    bounce = classify_message(
        dsn(
            "Final-Recipient: rfc822; a@example.kz\r\nAction: failed\r\nStatus: 5.0.0\r\nDiagnostic-Code: smtp; "
            + "d" * 2000
        )
    )

    assert bounce.diagnostic is not None and len(bounce.diagnostic) == DIAGNOSTIC_LIMIT == 500


def test_deeply_nested_multiparts_do_not_break_the_classifier() -> None:
    depth = 2000
    head = b"From: a@example.kz\r\nSubject: nest\r\nMIME-Version: 1.0\r\n"
    parts = b"".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'.encode() for i in range(depth)
    )

    result = classify_message(head + parts + b"Content-Type: text/plain\r\n\r\ndeep\r\n")

    assert result.kind in ("reply", "unknown")
