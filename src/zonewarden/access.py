"""Who may see and do what: the roles as Django groups, and querysets already narrowed to a user.

Every page and API view asks here for its rows, so a registrar asking for another registrar's case
by id gets "not found", whatever the template shows. Roles:

  CERT analyst       — everything about incidents and cases; confirms, rejects, checks, builds requests
  CERT lead          — what an analyst may, plus policy and signing letters
  registry operator  — the names of registry requests (escalated or later); decides on them
  registrar user     — its own registrar's suspended names; files reports
  auditor            — reads everything, changes nothing
  (domain owner      — no account: the signed link of a case, see cases.ownerlink)
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, Permission
from django.db.models import Q, QuerySet

from zonewarden.cases.models import Case, CaseEvent
from zonewarden.checks.models import Check
from zonewarden.intake.models import Incident
from zonewarden.notices.models import Notice

ANALYST = "CERT analyst"
LEAD = "CERT lead"
REGISTRY = "registry operator"
REGISTRAR = "registrar user"
AUDITOR = "auditor"
ROLES = (ANALYST, LEAD, REGISTRY, REGISTRAR, AUDITOR)

_VIEW_ALL = [
    "intake.view_incident",
    "intake.view_ingest",
    "intake.view_category",
    "cases.view_case",
    "cases.view_caseevent",
    "cases.view_policy",
    "cases.view_legalground",
    "domains.view_domain",
    "domains.view_contact",
    "domains.view_registrar",
    "notices.view_notice",
    "notices.view_inboundmail",
    "notices.view_sinkmessage",
    "checks.view_check",
    "checks.view_verdictrule",
    "registry.view_registryrequest",
    "registry.view_requestitem",
    "registry.view_registrarreport",
]
PERMISSIONS: dict[str, list[str]] = {
    ANALYST: [
        *_VIEW_ALL,
        "intake.add_incident",
        "intake.change_incident",
        "intake.add_ingest",
        "cases.change_case",
        "notices.change_notice",
        "checks.add_check",
        "registry.add_registryrequest",
    ],
    LEAD: [],  # filled below: an analyst's, and policy
    REGISTRY: [
        "cases.view_case",
        "intake.view_incident",
        "cases.view_caseevent",
        "domains.view_domain",
        "domains.view_registrar",
        "checks.view_check",
        "checks.add_check",
        "registry.view_registryrequest",
        "registry.view_requestitem",
        "registry.change_requestitem",
        "registry.view_registrarreport",
    ],
    REGISTRAR: [
        "cases.view_case",
        "cases.view_caseevent",
        "intake.view_incident",
        "domains.view_domain",
        "registry.view_registrarreport",
        "registry.add_registrarreport",
    ],
    AUDITOR: list(_VIEW_ALL),
}
PERMISSIONS[LEAD] = [
    *PERMISSIONS[ANALYST],
    "cases.change_policy",
    "cases.change_legalground",
    "checks.change_verdictrule",
]


def ensure_groups(**kwargs: Any) -> None:
    """Create or update the role groups with their permissions (run after every migrate)."""
    for role, codes in PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for code in codes:
            app_label, codename = code.split(".")
            found = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if found is not None:
                wanted.append(found)
        group.permissions.set(wanted)


User = AbstractBaseUser | AnonymousUser


def roles(user: Any) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_zonewarden_roles", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            cached |= {LEAD}
        user._zonewarden_roles = cached
    return set(cached)


def sees_everything(user: Any) -> bool:
    return bool(roles(user) & {ANALYST, LEAD, AUDITOR})


def sees_registry_requests(user: Any) -> bool:
    """The letters to the registry, their items and registrars' reports: the CERT's and the registry's."""
    return sees_everything(user) or REGISTRY in roles(user)


def registrar_of(user: Any) -> int | None:
    membership = (
        getattr(user, "registrar_membership", None) if getattr(user, "is_authenticated", False) else None
    )
    return membership.registrar_id if membership is not None else None


def cases_for(user: Any) -> QuerySet[Case]:
    """The cases `user` may see."""
    cases = Case.objects.all()
    if sees_everything(user):
        return cases
    mine = roles(user)
    allowed = Q(pk__in=[])
    if REGISTRY in mine:
        allowed |= Q(registry_items__isnull=False)
    if REGISTRAR in mine:
        registrar = registrar_of(user)
        if registrar is not None:
            allowed |= Q(suspended_at__isnull=False, domain__registrar_id=registrar)
    return cases.filter(allowed).distinct()


def incidents_for(user: Any) -> QuerySet[Incident]:
    if sees_everything(user):
        return Incident.objects.all()
    return Incident.objects.filter(case__in=cases_for(user))


def events_for(user: Any) -> QuerySet[CaseEvent]:
    if sees_everything(user):
        return CaseEvent.objects.all()
    return CaseEvent.objects.filter(case__in=cases_for(user))


def notices_for(user: Any) -> QuerySet[Notice]:
    if sees_everything(user):
        return Notice.objects.all()
    if REGISTRAR in roles(user):
        return Notice.objects.filter(kind=Notice.Kind.REGISTRAR, case__in=cases_for(user))
    return Notice.objects.none()


def checks_for(user: Any) -> QuerySet[Check]:
    if sees_everything(user):
        return Check.objects.all()
    return Check.objects.filter(incident__case__in=cases_for(user))


def may(user: Any, permission: str) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(permission))
