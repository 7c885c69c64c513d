"""`zonewarden mail ingest FILE|-` and `zonewarden mail poll`: a message, an mbox, stdin, the Maildir."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from tests.notices.test_inbound import OUR_ID, archive_copy, dsn, make_maildir, notified, reply
from zonewarden.cases.models import Case
from zonewarden.domains.models import Contact
from zonewarden.notices.management.commands.mail import split_messages
from zonewarden.notices.models import InboundMail, Notice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]


def run(*args: str) -> list[str]:
    """Run `zonewarden mail ARGS` and return its output lines."""
    out = StringIO()
    call_command("mail", *args, stdout=out)
    return out.getvalue().splitlines()


def mbox(*messages: bytes) -> bytes:
    """Write messages as an mbox file does: a From line before each, a blank line after."""
    return b"".join(
        b"From MAILER-DAEMON Wed Apr  1 11:00:00 2026\n"
        + message.replace(b"\r\n", b"\n").rstrip(b"\n")
        + b"\n\n"
        for message in messages
    )


def test_mail_ingest_reads_an_mbox_and_prints_a_line_per_message_and_the_counts(
    make_domain: Callable[..., object], make_case: Callable[..., Case], tmp_path: Path
) -> None:
    case, notice = notified(make_domain, make_case)
    path = tmp_path / "returned.mbox"
    path.write_bytes(mbox(dsn(), reply(in_reply_to=OUR_ID), reply(message_id="<stray@x.kz>")))

    lines = run("ingest", str(path), "--json")

    result = json.loads(lines[-1])
    assert result == {
        "read": 3,
        "stored": 3,
        "duplicate": 0,
        "matched": 2,
        "failed": 0,
        "by_kind": {"hard_bounce": 1, "reply": 2},
    }
    assert lines[0].startswith("1: hard_bounce") and f"notice {notice.pk}, case {case.pk}" in lines[0]
    assert lines[2].startswith("3: reply") and "no notice of ours" in lines[2]
    assert Contact.objects.get(email="admin@tulpar-sauda.kz").unreliable
    assert case.events.filter(action="notice.reply_received").count() == 1
    # The same file again: every message was taken in before.
    again = json.loads(run("ingest", str(path), "--json")[-1])
    assert (again["read"], again["stored"], again["duplicate"]) == (3, 0, 3)
    assert InboundMail.objects.count() == 3


def test_mail_ingest_reads_one_message_from_stdin(
    make_domain: Callable[..., object], make_case: Callable[..., Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    case, notice = notified(make_domain, make_case, state=Notice.State.UNCONFIRMED)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(archive_copy())))

    lines = run("ingest", "-")

    assert lines[0].startswith("1: archive_copy")
    assert lines[-1].startswith("read 1, stored 1")
    notice.refresh_from_db()
    case.refresh_from_db()
    assert notice.state == Notice.State.SENT and case.notices_sent == 1


def test_a_message_in_an_mbox_is_stored_as_it_would_be_on_its_own() -> None:
    first = b"From: a@x.kz\nSubject: one\n\nFrom the start.\n>From here\n>>From there\n"
    second = b"From: b@x.kz\nSubject: two\n\nbody\n"
    escaped = re.sub(rb"(?m)^(>*From )", rb">\1", first)  # as an mboxrd writer escapes them

    assert list(split_messages(mbox(escaped, second))) == [first, second]
    assert list(split_messages(second)) == [second]


def test_mail_ingest_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="absent.eml"):
        run("ingest", str(tmp_path / "absent.eml"))


def test_mail_poll_reads_the_maildir_once(
    make_domain: Callable[..., object], make_case: Callable[..., Case], tmp_path: Path
) -> None:
    notified(make_domain, make_case)
    maildir = make_maildir(tmp_path / "Maildir")
    (maildir / "new" / "1.host").write_bytes(dsn())
    (maildir / "new" / "2.host").write_bytes(reply(in_reply_to=OUR_ID))

    result = json.loads(run("poll", "--maildir", str(maildir), "--json")[-1])

    assert result == {
        "read": 2,
        "stored": 2,
        "duplicate": 0,
        "matched": 2,
        "failed": 0,
        "by_kind": {"hard_bounce": 1, "reply": 1},
    }
    assert not list((maildir / "new").iterdir())
    with override_settings(ZONEWARDEN_MAILDIR=str(maildir)):
        assert run("poll")[-1].startswith("read 0, stored 0")


def test_mail_poll_needs_a_maildir(tmp_path: Path) -> None:
    with override_settings(ZONEWARDEN_MAILDIR=""), pytest.raises(CommandError, match="ZONEWARDEN_MAILDIR"):
        run("poll")
    with pytest.raises(CommandError, match="not a Maildir"):
        run("poll", "--maildir", str(tmp_path))
    assert InboundMail.objects.count() == 0
