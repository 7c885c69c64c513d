"""The embedded mail sink: the default mail backend when no SMTP server is configured.

It takes every message as an SMTP server would and keeps it in the database instead of sending
it, so a demo or a test system never mails real owners; staff read it at /mail/. Each message is
stored in its own transaction, as an outside server would have it whatever the sender does next.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage
from django.db import transaction

from zonewarden import clock
from zonewarden.notices.models import SinkMessage


class SinkBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        count = 0
        for message in email_messages:
            mime = message.message()
            with transaction.atomic():
                SinkMessage.objects.create(
                    message_id=str(mime.get("Message-ID", "")),
                    from_email=str(message.from_email or ""),
                    recipients=list(message.recipients()),
                    subject=str(message.subject or ""),
                    raw=mime.as_string(),
                    received_at=clock.now(),
                )
            count += 1
        return count

    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
