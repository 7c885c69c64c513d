"""The embedded mail sink's pages (staff only)."""

from __future__ import annotations

import email
from email import policy

from django.contrib.admin.views.decorators import staff_member_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from zonewarden.notices.models import SinkMessage


@staff_member_required
def sink_list(request: HttpRequest) -> HttpResponse:
    rows = SinkMessage.objects.order_by("-received_at", "-pk")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "notices/sink/list.html", {"mails": page, "page": page, "total": rows.count()})


@staff_member_required
def sink_message(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(SinkMessage, pk=pk)
    parsed = email.message_from_string(message.raw, policy=policy.default)
    body = parsed.get_body(preferencelist=("plain",)) if hasattr(parsed, "get_body") else None
    text = body.get_content() if body is not None else ""
    return render(request, "notices/sink/detail.html", {"message": message, "text": text})
