"""The domain owner's page of a case, reached by the signed link in the notices."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from zonewarden.cases.models import State
from zonewarden.cases.ownerlink import BadOwnerLink, case_for_token


def owner_case(request: HttpRequest, token: str) -> HttpResponse:
    context: dict[str, object] = {"cert_name": settings.ZONEWARDEN_CERT_NAME}
    try:
        case = case_for_token(token)
    except BadOwnerLink as exc:
        context["error"] = exc.reason
        return render(request, "cases/owner.html", context, status=403)
    if request.method == "POST":
        if case.state not in (State.NOTIFYING, State.SUSPENDED):
            context["error"] = "this case does not wait for a fix"
            return render(request, "cases/owner.html", context, status=409)
        from zonewarden.checks.schedule import owner_reported_fix

        owner_reported_fix(case, at=timezone.now(), note=request.POST.get("note", ""))
        return redirect(request.path + "?reported=1")
    context["reported"] = request.GET.get("reported") == "1"
    context["can_report"] = case.state in (State.NOTIFYING, State.SUSPENDED)
    from zonewarden.notices.outbox import defanged, info_address

    incidents = [
        {
            "url": defanged(incident.url),
            "category": incident.category.name_en,
            "first_seen": timezone.localtime(incident.first_seen).date().isoformat(),
            "status": incident.get_status_display(),
        }
        for incident in case.incidents.select_related("category").order_by("first_seen", "pk")
    ]
    deadline = case.owner_deadline
    context.update(
        case=case,
        domain=case.domain.unicode_name or case.domain.name,
        incidents=incidents,
        deadline=timezone.localtime(deadline).date().isoformat() if deadline else "",
        info_email=info_address(),
    )
    response = render(request, "cases/owner.html", context)
    response["Referrer-Policy"] = "no-referrer"
    return response
