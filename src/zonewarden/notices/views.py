"""The embedded mail sink's pages: the CERT's (the notices to owners are its correspondence)."""

from __future__ import annotations

import email
from email import policy

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from zonewarden import access
from zonewarden.notices.models import SinkMessage


def _cert_only(request: HttpRequest) -> None:
    if not (access.sees_everything(request.user) or request.user.is_superuser):
        raise PermissionDenied("the mail sink is the CERT's")


@login_required
def sink_list(request: HttpRequest) -> HttpResponse:
    _cert_only(request)
    rows = SinkMessage.objects.order_by("-received_at", "-pk")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "notices/sink/list.html", {"mails": page, "page": page, "total": rows.count()})


@login_required
def sink_message(request: HttpRequest, pk: int) -> HttpResponse:
    _cert_only(request)
    message = get_object_or_404(SinkMessage, pk=pk)
    parsed = email.message_from_string(message.raw, policy=policy.default)
    body = parsed.get_body(preferencelist=("plain",)) if hasattr(parsed, "get_body") else None
    text = body.get_content() if body is not None else ""
    return render(request, "notices/sink/detail.html", {"message": message, "text": text})
