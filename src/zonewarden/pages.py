"""The CERT's pages: the dashboard, incidents and cases, and the header's links (the registry's and
registrars' pages are in zonewarden.registry.pages). Rows come from zonewarden.access, narrowed to
the user; actions go through the workflow's named operations, never around them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from zonewarden import access, charts, clock
from zonewarden.cases import workflow
from zonewarden.cases.models import State
from zonewarden.intake.models import Category, Incident
from zonewarden.jobs import heartbeat
from zonewarden.whois.parser import to_alabel


def require(request: HttpRequest, permission: str) -> None:
    if not access.may(request.user, permission):
        raise PermissionDenied(_("You may not do this (%(permission)s).") % {"permission": permission})


def posted_ids(request: HttpRequest, name: str) -> list[int]:
    """The ids a form posted under `name`; anything that is not a number is ignored."""
    return [int(value) for value in request.POST.getlist(name) if _is_id(value)][:10_000]


def posted_id(request: HttpRequest, name: str) -> int:
    """The one id a form posted under `name`; a missing or malformed one is "not found"."""
    value = request.POST.get(name, "")
    if not _is_id(value):
        raise Http404(f"no such {name}")
    return int(value)


def _is_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 18  # fits a 64-bit column


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


WEEKS = 12
FIXED = (State.RESOLVED, State.WITHDRAWN, State.RESTORED, State.CLOSED)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    if not access.sees_everything(request.user):
        raise PermissionDenied(_("The dashboard is the CERT's."))
    now = clock.now()
    zone = timezone.get_current_timezone()
    weeks = charts.weeks_back(timezone.localdate(now), WEEKS)
    since = dt.datetime.combine(weeks[0], dt.time(), tzinfo=zone)
    cases = access.cases_for(request.user)
    by_state = dict(cases.values_list("state").annotate(n=Count("pk")).order_by())
    per_week = (
        access.incidents_for(request.user)
        .filter(first_seen__gte=since)
        .annotate(week=TruncWeek("first_seen", tzinfo=zone))
        .values_list("week", "category")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {(week.date() if isinstance(week, dt.datetime) else week, code): n for week, code, n in per_week}
    fixed = cases.filter(state__in=FIXED, closed_at__gte=since).values_list(
        "opened_at", "fix_verified_at", "closed_at"
    )
    spans = [(opened, fixed_at) for opened, verified, closed in fixed if (fixed_at := verified or closed)]
    context = {
        "states": [(state.label, state.value, by_state.get(state.value, 0)) for state in State],
        "due": cases.filter(next_due_at__lte=now + dt.timedelta(days=1)).count(),
        "registry_late": cases.filter(
            registry_late=True, state__in=[State.ESCALATED, State.RESTORATION_REQUESTED]
        ).count(),
        "registrar_late": cases.filter(registrar_late=True, state=State.SUSPENDED).count(),
        "incident_chart": charts.stacked_bars(
            weeks, counts, _category_labels(), title=_("Incidents per week and category")
        ),
        "fix_chart": charts.bars(
            weeks,
            charts.median_days_to_fix(spans, weeks, zone),
            title=_("Median days from report to fix, by week of the fix"),
            unit=_("days"),
        ),
        "fixed_count": len(spans),
    }
    template = "pages/_dashboard_body.html" if request.htmx else "pages/dashboard.html"  # type: ignore[attr-defined]
    return render(request, template, context)


def _category_labels() -> dict[str, str]:
    return {category.code: category.label for category in Category.objects.all()}


@login_required
def incidents(request: HttpRequest) -> HttpResponse:
    require(request, "intake.view_incident")
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
    _label_states(page, "status", Incident.Status.choices)
    _label_states([incident.case for incident in page if incident.case], "state", State.choices)
    context = {
        "page": page,
        "status": status,
        "category": category,
        "statuses": Incident.Status.choices,
        "keep": _keep(request),
        "categories": Category.objects.order_by("code"),
    }
    template = "pages/_incident_rows.html" if request.htmx else "pages/incidents.html"  # type: ignore[attr-defined]
    return render(request, template, context)


def _bulk(request: HttpRequest) -> HttpResponse:
    require(request, "cases.change_case")
    chosen = access.incidents_for(request.user).filter(pk__in=posted_ids(request, "incident"))
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
    if request.POST.get("action") == "reject":
        messages.success(request, ngettext("%(n)d case rejected", "%(n)d cases rejected", done) % {"n": done})
    else:
        messages.success(
            request, ngettext("%(n)d case confirmed", "%(n)d cases confirmed", done) % {"n": done}
        )
    return redirect("incidents")


@login_required
def cases(request: HttpRequest) -> HttpResponse:
    rows = access.cases_for(request.user).select_related("domain").order_by("-opened_at", "-pk")
    state = request.GET.get("state", "")
    if state:
        rows = rows.filter(state=state)
    query = request.GET.get("q", "").strip()[:253]
    if query:
        rows = rows.filter(domain__name__contains=_as_alabel(query))
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    _label_states(page, "state", State.choices)
    context = {"page": page, "state": state, "q": query, "states": State.choices, "keep": _keep(request)}
    return render(request, "pages/cases.html", context)


def _as_alabel(text: str) -> str:
    """A name or a part of one as stored (A-labels, lower case): "ақорда" finds xn--80aal3bk85c.kz."""
    try:
        return to_alabel(text)
    except ValueError:  # a part of a name need not be a valid name
        return text.lower()


def _label_states(rows: Any, field: str, choices: list[tuple[str, Any]]) -> None:
    """Put each row's translated state label on it as `<field>_label`, translating each label
    once per page (get_FOO_display hashes every lazy label of the choices on every call)."""
    labels = {value: str(label) for value, label in choices}
    for row in rows:
        value = getattr(row, field)
        setattr(row, f"{field}_label", labels.get(value, value))


def _keep(request: HttpRequest) -> str:
    """The query string without its page number, for the pager's links."""
    kept = request.GET.copy()
    kept.pop("page", None)
    return kept.urlencode()


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
        "may_see_requests": access.sees_registry_requests(request.user),
    }
    return render(request, "pages/case.html", context)


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Template context: the links of the header, only those the user's roles may open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    everything = access.sees_everything(user)
    mine = access.roles(user)
    links: list[tuple[str, str]] = []
    if everything:
        links += [
            ("dashboard", _("Dashboard")),
            ("incidents", _("Incidents")),
            ("cases", _("Cases")),
            ("escalation", _("Escalation")),
        ]
    if everything or access.REGISTRY in mine:
        links += [
            ("registry-queue", _("Registry queue")),
            ("restoration-queue", _("Restorations")),
            ("registrar-reports", _("Registrars' reports")),
        ]
    if access.REGISTRAR in mine:
        links += [("registrar-names", _("Our suspended names"))]
    if everything and settings.EMAIL_BACKEND == "zonewarden.notices.sink.SinkBackend":
        links += [("sink", _("Mail sink"))]
    links += [("suspended", _("Suspended names (public)"))]
    if user.is_staff:
        links += [("admin:index", _("Admin"))]
    items = [{"url": reverse(name), "label": label, "current": False} for name, label in links]
    # The current page is the link with the longest address the path starts with.
    matching = [item for item in items if request.path.startswith(str(item["url"]))]
    if matching:
        max(matching, key=lambda item: len(str(item["url"])))["current"] = True
    context: dict[str, Any] = {"navigation": items}
    if everything or user.is_staff:
        # A callable: the template asks (one query) only where it shows the banner.
        context["worker_down"] = no_worker_alive
    return context


def no_worker_alive() -> bool:
    """Whether no worker is alive now: nothing is sent and no case moves on (the staff's banner)."""
    return not heartbeat.any_alive(clock.now())
