"""The domain owner's page of a case, reached by the signed link in the notices."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from zonewarden import clock
from zonewarden.cases.models import Case, State
from zonewarden.cases.ownerlink import BadOwnerLink, case_for_token
from zonewarden.checks.models import Check


def owner_case(request: HttpRequest, token: str) -> HttpResponse:
    context: dict[str, object] = {"cert_name": settings.ZONEWARDEN_CERT_NAME}
    try:
        case = case_for_token(token)
    except BadOwnerLink as exc:
        context["error"] = exc.reason
        return render(request, "cases/owner.html", context, status=403)
    if request.method == "POST":
        if case.state not in (State.NOTIFYING, State.SUSPENDED):
            context["error"] = _("This case does not wait for a fix.")
            return render(request, "cases/owner.html", context, status=409)
        from zonewarden.checks.schedule import owner_reported_fix

        owner_reported_fix(case, at=clock.now(), note=request.POST.get("note", ""))
        return redirect(request.path + "?reported=1")
    context["reported"] = request.GET.get("reported") == "1"
    context["can_report"] = case.state in (State.NOTIFYING, State.SUSPENDED)
    from zonewarden.notices.outbox import defanged, info_address

    shown = list(case.incidents.select_related("category").order_by("first_seen", "pk")[:100])
    latest: dict[int, Check] = {}
    for check in Check.objects.filter(incident__in=shown).order_by("at", "pk"):
        latest[check.incident_id or 0] = check  # the newest per incident wins
    incidents = []
    for incident in shown:
        last = latest.get(incident.pk)
        incidents.append(
            {
                "url": defanged(incident.url),
                "category": incident.category.label,
                "first_seen": timezone.localtime(incident.first_seen).date().isoformat(),
                "status": incident.get_status_display(),
                # The evidence: what our last look at the address found (the page's title and
                # the reason are the site's own text, escaped like everything else).
                "checked": timezone.localtime(last.at).strftime("%Y-%m-%d %H:%M") if last else "",
                "verdict": last.get_verdict_display() if last else "",
                "reason": last.reason[:300] if last else "",
                "title": last.title[:200] if last else "",
            }
        )
    deadline = case.owner_deadline
    context.update(
        case=case,
        domain=case.domain.unicode_name or case.domain.name,
        incidents=incidents,
        deadline=timezone.localtime(deadline).date().isoformat() if deadline else "",
        info_email=info_address(),
        restoration=_restoration_stage(case),
    )
    response = render(request, "cases/owner.html", context)
    # The link is a credential: never sent to another site (same-origin keeps the form's Origin for CSRF).
    response["Referrer-Policy"] = "same-origin"
    return response


def _restoration_stage(case: Case) -> str:
    """Where the way back of a suspended name stands, in the owner's words."""

    def day(moment: object) -> str:
        return timezone.localtime(moment).date().isoformat() if moment else ""  # type: ignore[arg-type]

    if case.state == State.SUSPENDED and case.fix_verified_at is None:
        return _(
            "The name is suspended. Once you report the fix and our check finds the site clean, "
            "we ask the registry to restore it."
        )
    if case.state == State.SUSPENDED:
        return _("Your fix was verified on %(date)s; we are asking the registry to restore the name.") % {
            "date": day(case.fix_verified_at)
        }
    if case.state == State.RESTORATION_REQUESTED:
        item = case.registry_items.filter(request__kind="restoration").order_by("-received_at").first()
        return _("The registry was asked to restore the name on %(date)s and has until %(deadline)s.") % {
            "date": day(item.received_at if item else None),
            "deadline": day(item.deadline if item else None),
        }
    if case.state == State.RESTORED:
        return _("The registry restored the name; its delegation is coming back into the DNS.")
    if case.state == State.CLOSED and case.suspended_at:
        return _("The name was restored and the case closed on %(date)s.") % {"date": day(case.closed_at)}
    return ""


def _suspended_row(case: Case) -> dict[str, object]:
    return {
        "name": case.domain.unicode_name or case.domain.name,
        "since": timezone.localtime(case.suspended_at).date().isoformat() if case.suspended_at else "",
        "grounds": [ground.reference for ground in case.grounds.all()],
    }


def suspended(request: HttpRequest) -> HttpResponse:
    """The registry's public list of suspended names, and "why is my domain suspended?"."""
    from django.core.paginator import Paginator

    from zonewarden.notices.outbox import info_address
    from zonewarden.whois.parser import to_alabel

    held = (
        Case.objects.filter(state__in=[State.SUSPENDED, State.RESTORATION_REQUESTED])
        .select_related("domain")
        .prefetch_related("grounds")
        .order_by("-suspended_at", "pk")
    )
    context: dict[str, object] = {
        "registry": settings.ZONEWARDEN_REGISTRY_NAME,
        "cert": settings.ZONEWARDEN_CERT_NAME,
        "info_email": info_address(),
        "page": Paginator(held, 100).get_page(request.GET.get("page")),
    }
    query = request.GET.get("q", "").strip()[:300]
    if query:
        context.update(query=query, shown=query)
        try:
            name = to_alabel(query)
        except ValueError:
            context["error"] = _("“%(query)s” is not a domain name.") % {"query": query}
        else:
            case = held.filter(domain_id=name).first()
            context["found"] = _suspended_row(case) if case else None
    context["rows"] = [_suspended_row(case) for case in context["page"]]  # type: ignore[attr-defined]
    return render(request, "cases/suspended.html", context)
