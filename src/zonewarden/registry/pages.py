"""The registry's and registrars' pages, and the CERT's escalation builder: the queues of
requests with their deadlines, decisions (in place with htmx), letters, registrars' reports.
Actions go through zonewarden.registry.service, never around it."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from zonewarden import access, clock
from zonewarden.cases.models import Case, State
from zonewarden.pages import posted_id, posted_ids, require
from zonewarden.registry.models import RegistrarReport, RegistryRequest, RequestItem
from zonewarden.registry.service import (
    RequestError,
    build_request,
    decide,
    file_registrar_report,
    late_registrars,
)


@login_required
def registry_queue(request: HttpRequest, kind: str = RegistryRequest.Kind.ESCALATION) -> HttpResponse:
    """The registry's open items of one kind, oldest deadline first; decisions update the row in place."""
    require(request, "registry.view_requestitem")
    here = "registry-queue" if kind == RegistryRequest.Kind.ESCALATION else "restoration-queue"
    if request.method == "POST":
        require(request, "registry.change_requestitem")
        item = get_object_or_404(
            RequestItem.objects.select_related("request", "domain"),
            pk=posted_id(request, "item"),
            request__kind=kind,
        )
        error = ""
        try:
            item = decide(
                item,
                request.POST.get("outcome", ""),
                actor=request.user,
                reason=request.POST.get("reason", ""),
            )
        except RequestError as exc:
            error = str(exc)
        if request.htmx:  # type: ignore[attr-defined]
            row = {"item": item, "hours": _hours_left(item.deadline), "error": error}
            return render(request, "pages/_queue_row.html", {"row": row})
        if error:
            messages.error(request, error)
        else:
            messages.success(request, f"{item.domain_id}: {item.get_outcome_display()}")
        return redirect(here)
    items = (
        RequestItem.objects.filter(outcome="", request__kind=kind)
        .select_related("request", "domain")
        .order_by("deadline", "pk")
    )
    rows = [{"item": item, "hours": _hours_left(item.deadline)} for item in items]
    context = {"rows": rows, "kind": kind, "here": here}
    template = "pages/_queue_rows.html" if request.htmx else "pages/registry_queue.html"  # type: ignore[attr-defined]
    return render(request, template, context)


def restoration_queue(request: HttpRequest) -> HttpResponse:
    return registry_queue(request, RegistryRequest.Kind.RESTORATION)


def _hours_left(deadline: dt.datetime) -> float:
    return (deadline - clock.now()).total_seconds() / 3600


@login_required
def registrar_reports(request: HttpRequest) -> HttpResponse:
    """For the registry and the CERT: registrars' reports, and suspended names whose report is late."""
    require(request, "registry.view_registrarreport")
    if not access.sees_registry_requests(request.user):
        raise PermissionDenied(_("Registrars' reports are for the registry and the CERT."))
    reports = RegistrarReport.objects.select_related("case", "registrar").order_by("-filed_at", "-pk")
    page = Paginator(reports, 50).get_page(request.GET.get("page"))
    context = {"page": page, "late": late_registrars()[:500], "now": clock.now()}
    return render(request, "pages/registrar_reports.html", context)


@login_required
def registrar_names(request: HttpRequest) -> HttpResponse:
    require(request, "cases.view_case")
    if request.method == "POST":
        require(request, "registry.add_registrarreport")
        case = get_object_or_404(access.cases_for(request.user), pk=posted_id(request, "case"))
        try:
            file_registrar_report(case, text=request.POST.get("text", ""), actor=request.user)
            messages.success(request, _("Your report on %(name)s is filed.") % {"name": case.domain_id})
        except RequestError as exc:
            messages.error(request, str(exc))
        return redirect("registrar-names")
    cases = (
        access.cases_for(request.user)
        .filter(state=State.SUSPENDED)
        .select_related("domain")
        .prefetch_related("registrar_reports")
        .order_by("registrar_deadline")
    )
    return render(request, "pages/registrar.html", {"cases": cases, "now": clock.now()})


@login_required
def escalation(request: HttpRequest) -> HttpResponse:
    """The escalation builder: pick the cases due, and build one numbered letter to the registry."""
    require(request, "cases.view_case")
    if not access.sees_everything(request.user):
        raise PermissionDenied(_("Escalations are built by the CERT."))
    if request.method == "POST":
        require(request, "registry.add_registryrequest")
        kind = request.POST.get("kind", RegistryRequest.Kind.ESCALATION)
        if kind not in RegistryRequest.Kind.values:
            messages.error(request, _("Unknown kind of request."))
            return redirect("escalation")
        chosen = list(Case.objects.filter(pk__in=posted_ids(request, "case")).order_by("pk"))
        if not chosen:
            messages.error(request, _("Choose at least one case."))
            return redirect("escalation")
        try:
            built = build_request(kind, chosen, actor=request.user)
        except RequestError as exc:
            messages.error(request, str(exc))
            return redirect("escalation")
        messages.success(
            request,
            ngettext(
                "Request %(number)s with %(n)d name is built.",
                "Request %(number)s with %(n)d names is built.",
                len(chosen),
            )
            % {"number": built.number, "n": len(chosen)},
        )
        return redirect("request", pk=built.pk)
    due = Case.objects.filter(state=State.NOTIFYING, escalation_due_at__isnull=False)
    ready = Case.objects.filter(state=State.SUSPENDED, fix_verified_at__isnull=False)
    context = {
        "due": due.select_related("domain").order_by("escalation_due_at", "pk")[:500],
        "due_count": due.count(),
        "ready": ready.select_related("domain").order_by("fix_verified_at", "pk")[:500],
        "ready_count": ready.count(),
        "requests": RegistryRequest.objects.annotate(names=Count("items")).order_by("-created_at", "-pk")[
            :20
        ],
        "may_build": access.may(request.user, "registry.add_registryrequest"),
    }
    return render(request, "pages/escalation.html", context)


def _request_for(request: HttpRequest, pk: int) -> RegistryRequest:
    require(request, "registry.view_registryrequest")
    if not access.sees_registry_requests(request.user):
        raise PermissionDenied(_("Requests to the registry are for the registry and the CERT."))
    return get_object_or_404(RegistryRequest, pk=pk)


@login_required
def request_page(request: HttpRequest, pk: int) -> HttpResponse:
    built = _request_for(request, pk)
    items = built.items.select_related("domain", "case").order_by("domain_id")
    return render(request, "pages/request.html", {"request_": built, "items": items})


@login_required
def request_letter(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The letter as built (the bytes whose hash every case's timeline records)."""
    built = _request_for(request, pk)
    body, content_type = (
        (bytes(built.pdf), "application/pdf")
        if fmt == "pdf"
        else (bytes(built.docx), "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    )
    response = HttpResponse(body, content_type=content_type)
    safe_number = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in built.number)
    response["Content-Disposition"] = f'attachment; filename="{safe_number}.{fmt}"'
    return response
