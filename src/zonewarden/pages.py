"""The parties' pages: the CERT's dashboard, incidents and cases; the registry's queue; a
registrar's suspended names. Rows come from zonewarden.access, narrowed to the user; actions go
through the workflow's named operations and the registry service, never around them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from zonewarden import access
from zonewarden.cases import workflow
from zonewarden.cases.models import State
from zonewarden.registry.models import RequestItem
from zonewarden.registry.service import RequestError, decide, file_registrar_report


def _require(request: HttpRequest, permission: str) -> None:
    if not access.may(request.user, permission):
        raise PermissionDenied(f"you may not do this ({permission})")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    mine = access.roles(request.user)
    if access.sees_everything(request.user):
        return redirect("dashboard")
    if access.REGISTRY in mine:
        return redirect("registry-queue")
    if access.REGISTRAR in mine:
        return redirect("registrar-names")
    return redirect("admin:index")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    if not access.sees_everything(request.user):
        raise PermissionDenied("the dashboard is the CERT's")
    now = timezone.now()
    cases = access.cases_for(request.user)
    by_state = dict(cases.values_list("state").annotate(n=Count("pk")).order_by())
    weeks = (
        access.incidents_for(request.user)
        .filter(first_seen__gte=now - dt.timedelta(weeks=12))
        .annotate(week=TruncWeek("first_seen"))
        .values("week", "category")
        .annotate(n=Count("pk"))
        .order_by("week", "category")
    )
    context = {
        "states": [(state.label, by_state.get(state.value, 0)) for state in State],
        "due": cases.filter(next_due_at__lte=now + dt.timedelta(days=1)).count(),
        "registry_late": cases.filter(
            registry_late=True, state__in=[State.ESCALATED, State.RESTORATION_REQUESTED]
        ).count(),
        "registrar_late": cases.filter(registrar_late=True, state=State.SUSPENDED).count(),
        "weeks": list(weeks),
    }
    return render(request, "pages/dashboard.html", context)


@login_required
def incidents(request: HttpRequest) -> HttpResponse:
    _require(request, "intake.view_incident")
    if request.method == "POST":
        return _bulk(request)
    rows = access.incidents_for(request.user).select_related("category", "case").order_by("-last_seen", "-pk")
    status = request.GET.get("status", "")
    category = request.GET.get("category", "")
    if status:
        rows = rows.filter(status=status)
    if category:
        rows = rows.filter(category_id=category)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "pages/incidents.html", {"page": page, "status": status, "category": category})


def _bulk(request: HttpRequest) -> HttpResponse:
    _require(request, "cases.change_case")
    chosen = access.incidents_for(request.user).filter(pk__in=request.POST.getlist("incident"))
    cases = {
        incident.case
        for incident in chosen.select_related("case")
        if incident.case and incident.case.state == State.RECORDED
    }
    done = 0
    for case in cases:
        try:
            if request.POST.get("action") == "reject":
                workflow.reject(
                    case, actor=request.user, reason=request.POST.get("reason") or "rejected by an analyst"
                )
            else:
                workflow.confirm(case, actor=request.user)
            done += 1
        except workflow.WorkflowError as exc:
            messages.error(request, str(exc))
    messages.success(
        request, f"{done} case(s) {'rejected' if request.POST.get('action') == 'reject' else 'confirmed'}"
    )
    return redirect("incidents")


@login_required
def cases(request: HttpRequest) -> HttpResponse:
    rows = access.cases_for(request.user).select_related("domain").order_by("-opened_at", "-pk")
    state = request.GET.get("state", "")
    if state:
        rows = rows.filter(state=state)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "pages/cases.html", {"page": page, "state": state, "states": State.choices})


@login_required
def case_page(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(access.cases_for(request.user).select_related("domain__registrar"), pk=pk)
    context: dict[str, Any] = {
        "case": case,
        "incidents": case.incidents.select_related("category").order_by("first_seen"),
        "events": case.events.order_by("seq"),
        "notices": access.notices_for(request.user).filter(case=case).order_by("created_at"),
        "checks": access.checks_for(request.user).filter(incident__case=case).order_by("-at")[:50],
        "items": case.registry_items.select_related("request").order_by("received_at"),
    }
    return render(request, "pages/case.html", context)


@login_required
def registry_queue(request: HttpRequest) -> HttpResponse:
    _require(request, "registry.view_requestitem")
    if request.method == "POST":
        _require(request, "registry.change_requestitem")
        item = get_object_or_404(RequestItem.objects.select_related("request"), pk=request.POST.get("item"))
        try:
            decide(
                item,
                request.POST.get("outcome", ""),
                actor=request.user,
                reason=request.POST.get("reason", ""),
            )
            messages.success(request, f"{item.domain_id}: {request.POST.get('outcome')}")
        except RequestError as exc:
            messages.error(request, str(exc))
        return redirect("registry-queue")
    now = timezone.now()
    items = (
        RequestItem.objects.filter(outcome="").select_related("request", "domain").order_by("deadline", "pk")
    )
    rows = [{"item": item, "hours": (item.deadline - now).total_seconds() / 3600} for item in items]
    return render(request, "pages/registry_queue.html", {"rows": rows})


@login_required
def registrar_names(request: HttpRequest) -> HttpResponse:
    _require(request, "cases.view_case")
    if request.method == "POST":
        _require(request, "registry.add_registrarreport")
        case = get_object_or_404(access.cases_for(request.user), pk=request.POST.get("case"))
        try:
            file_registrar_report(case, text=request.POST.get("text", ""), actor=request.user)
            messages.success(request, f"report on {case.domain_id} filed")
        except RequestError as exc:
            messages.error(request, str(exc))
        return redirect("registrar-names")
    cases = (
        access.cases_for(request.user)
        .filter(state=State.SUSPENDED)
        .select_related("domain")
        .order_by("registrar_deadline")
    )
    return render(request, "pages/registrar.html", {"cases": cases, "now": timezone.now()})
