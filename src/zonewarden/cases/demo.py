"""Invented demo data: a few hundred incidents on made-up .kz and .қаз names, moved through months.

Every step goes through the workflow's operations and the clock, as of simulated times, so the
demo's history is one the real process could have written. The invented sites are real ones on
loopback (zonewarden.demo): attackers put pages on them, owners clean them, take them down or take
their names off the DNS, and every re-check fetches what the site shows at that moment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections import Counter
from collections.abc import Callable

import idna
from django.db import transaction
from django.utils import timezone

from zonewarden import clock
from zonewarden.cases import workflow
from zonewarden.cases.models import Case, Policy, State
from zonewarden.cases.tick import tick
from zonewarden.checks.models import Check, Purpose
from zonewarden.checks.schedule import owner_reported_fix, queue_check
from zonewarden.checks.service import counts_as_gone
from zonewarden.demo.sites import SiteBook
from zonewarden.domains.models import Contact, Domain, Registrar
from zonewarden.intake.models import Category, Incident
from zonewarden.jobs.queue import run_due_jobs
from zonewarden.notices.outbox import send_due
from zonewarden.publish.service import publish_due
from zonewarden.registry import service as registry_service
from zonewarden.registry.models import RegistryRequest, RequestItem
from zonewarden.workdays.calendar import WorkingCalendar

DEMO_MARK = "demo-"
REGISTRARS = [
    ("demo-ps", "Демо Регистратор PS"),
    ("demo-hoster", "Demo Hoster KZ"),
    ("demo-nic", "Demo NIC Services"),
    ("demo-dala", "Дала Домен (demo)"),
]
LATIN = [
    "almaty",
    "astana",
    "dala",
    "kus",
    "taular",
    "samal",
    "aru",
    "nur",
    "kok",
    "ak",
    "shop",
    "market",
    "bank",
    "pay",
    "auto",
    "tour",
    "med",
    "edu",
    "sport",
    "kino",
    "gold",
    "tech",
    "build",
    "agro",
    "food",
    "media",
]
CYRILLIC = ["дала", "тау", "көл", "нұр", "алма", "бау", "жол", "сауда", "дүкен", "ақпарат", "білім", "сапар"]
PATHS = {
    "phishing": ["/login.php", "/secure/verify/", "/bank/update.html", "/wp-content/id/signin"],
    "malware": ["/files/invoice.exe", "/upd/setup.zip", "/bins/x86", "/doc/report.js"],
    "defacement": ["/", "/index.html", "/hacked.html"],
    "compromised": ["/wp-includes/x.php", "/shell.php", "/.well-known/c.php"],
    "other": ["/spam/"],
}
SOURCES = ["urlhaus", "phishtank", "openphish", "shadowserver", "analyst"]
# What the attackers' pages call themselves (the check compares later titles with the first).
PHISHING_TITLES = [
    "QazBank Online — Вход",
    "Dala Pay — Вход в личный кабинет",
    "e-Qyzmet — Авторизация",
    "KazPochta — Отследить посылку",
    "Office 365 — Sign in",
    "Салық төлеу — Жеке кабинет",
]
FINAL_HOUR = dt.timedelta(hours=1)
FIX_NOTE = "We removed the pages and changed the passwords; please check again."
DEFACERS = ["Sh4d0w Kr3w", "n0name_tm", "Red Fox Team", "Blackout-666", "xXx_Dark_Angel"]


def demo_exists() -> bool:
    return Registrar.objects.filter(code__startswith=DEMO_MARK).exists()


def _names(rng: random.Random, count: int) -> list[tuple[str, str]]:
    names: set[tuple[str, str]] = set()
    while len(names) < count:
        roll = rng.random()
        if roll < 0.15:
            unicode_name = f"{rng.choice(CYRILLIC)}{rng.choice(CYRILLIC)}.қаз"
        elif roll < 0.35:
            unicode_name = f"{rng.choice(LATIN)}-{rng.choice(LATIN)}.com.kz"
        else:
            unicode_name = f"{rng.choice(LATIN)}{rng.choice(LATIN)}{rng.randint(1, 99)}.kz"
        names.add((idna.encode(unicode_name, uts46=True).decode("ascii"), unicode_name))
    return sorted(names)


def _create_registry(rng: random.Random, count: int, at: dt.datetime) -> list[Domain]:
    registrars = [
        Registrar.objects.create(code=code, name=name, email=f"abuse@{code}.example.kz")
        for code, name in REGISTRARS
    ]
    domains = []
    for index, (name, unicode_name) in enumerate(_names(rng, count)):
        # A few contacts carry the kind of data that later proves unreliable.
        email = f"admin@{name}" if rng.random() > 0.05 else "no-email"
        contact = Contact.objects.create(
            handle=f"{DEMO_MARK}c{index:04d}",
            name=f"Owner {index}",
            organization=f"{unicode_name.split('.')[0].title()} LLP",
            email=email,
            phone=f"+7 727 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            city=rng.choice(["Almaty", "Astana", "Shymkent", "Karaganda"]),
            country="KZ",
        )
        domains.append(
            Domain.objects.create(
                name=name,
                unicode_name=unicode_name,
                registrar=rng.choice(registrars),
                registrant=contact,
                admin_contact=contact,
                nameservers=[
                    {"name": f"ns1.{name}", "addresses": []},
                    {"name": f"ns2.{name}", "addresses": []},
                ],
                statuses=["clientTransferProhibited"],
                created=at - dt.timedelta(days=rng.randint(200, 5000)),
            )
        )
    return domains


def _report(
    rng: random.Random, domains: list[Domain], categories: list[str], at: dt.datetime, sites: SiteBook
) -> list[Incident]:
    """Someone reports one to three pages an attacker put on a site; the site serves them from now on."""
    domain = rng.choice(domains)
    category = rng.choices(categories, weights=[5, 3, 2, 2, 1])[0]
    hosts = [domain.name, f"www.{domain.name}", f"shop.{domain.name}"]
    incidents = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        path = rng.choice(PATHS[category])
        url = sites.url(rng.choice(hosts), path)
        title = rng.choice(PHISHING_TITLES) if category == "phishing" else ""
        actor = rng.choice(DEFACERS) if category in ("defacement", "compromised") else ""
        key = hashlib.sha256(f"{category}\n{url}".encode()).hexdigest()
        if Incident.objects.filter(key=key).exists():
            continue
        evidence: dict[str, str] = {"note": "demo data"}
        if category == "defacement":
            evidence["defacer"] = actor  # as Zone-H reports it: the check looks for the name on the page
        incidents.append(
            Incident.objects.create(
                key=key,
                domain=domain,
                url=url,
                category_id=category,
                sources=[rng.choice(SOURCES)],
                first_seen=at,
                last_seen=at,
                evidence=evidence,
            )
        )
        sites.infect(domain.name, path, category, title=title, actor=actor)
    return incidents


def _each(
    state: str, chance: float, rng: random.Random, at: dt.datetime, op: Callable[[Case, dt.datetime], object]
) -> None:
    for case in list(Case.objects.filter(state=state).order_by("pk")):
        if rng.random() < chance:
            try:
                op(case, at)
            except workflow.WorkflowError:
                continue


def run_demo(
    *,
    seed: int = 2026,
    domains: int = 160,
    days: int = 150,
    incidents_per_day: float = 2.5,
    now: dt.datetime | None = None,
    progress: Callable[[str], None] = print,
    sites: SiteBook | None = None,
) -> Counter[str]:
    """Create the demo registry and replay `days` days of the process up to `now`.

    `sites` is the book of the invented sites the replay changes as attackers and owners act: the
    caller serves it (zonewarden.demo.network) and points the checker at it, so every re-check is a
    real fetch of what the site shows at that moment.
    """
    rng = random.Random(seed)
    book = sites if sites is not None else SiteBook()
    end = timezone.localtime(now or clock.now())
    start = (end - dt.timedelta(days=days)).replace(hour=9, minute=30, second=0, microsecond=0)
    with transaction.atomic():
        registry = _create_registry(rng, domains, start)
    for domain in registry:
        owner = domain.registrant.organization if domain.registrant else domain.name
        book.add(domain.name, f"{owner} — {domain.unicode_name}")
    categories = list(Category.objects.order_by("code").values_list("code", flat=True))
    categories = [c for c in ["phishing", "malware", "defacement", "compromised", "other"] if c in categories]
    calendar = WorkingCalendar.load()
    analyst, operator = "user:analyst", "user:registry"
    day = start
    # A day's work ends by 13:00; the last hour before `end` is left for _leave_work_open.
    while day + dt.timedelta(hours=4) + FINAL_HOUR <= end:
        arrivals: list[Incident] = []
        for _ in range(rng.randint(0, int(incidents_per_day * 2))):
            arrivals += _report(rng, registry, categories, day, book)
        if arrivals:
            cases = workflow.open_case_ids({i.domain_id for i in arrivals}, actor="system:intake", at=day)
            for incident in arrivals:
                Incident.objects.filter(pk=incident.pk).update(case_id=cases[incident.domain_id])
        _routine(day + dt.timedelta(hours=1))
        if calendar.is_working_day(day.date()):
            _work_the_queues(rng, day + dt.timedelta(hours=2), analyst, operator, book)
        _routine(day + dt.timedelta(hours=3), tick_first=False)
        publish_due(day + dt.timedelta(hours=3, minutes=30), worker="demo")
        day += dt.timedelta(days=1)
        if day.day == 1:
            progress(f"  replayed up to {day.date().isoformat()}")
    _leave_work_open(end - FINAL_HOUR, analyst, operator, book)
    tick(end)
    return Counter(Case.objects.values_list("state", flat=True))


def _routine(at: dt.datetime, *, tick_first: bool = True) -> None:
    """What the worker does: move due cases on, run the checks and notices due, send the mail."""
    if tick_first:
        tick(at)
    run_due_jobs(at + dt.timedelta(minutes=5), worker="demo")
    send_due(at + dt.timedelta(minutes=6), worker="demo")


def _work_the_queues(
    rng: random.Random, at: dt.datetime, analyst: str, operator: str, sites: SiteBook
) -> None:
    """Do one working day's share of what analysts, owners and the registry do."""
    _each(State.RECORDED, 0.6, rng, at, lambda c, when: _review(c, rng, analyst, when))
    # Some owners fix their site; half of them say so on their page, the others leave it to the
    # next re-check (before a reminder or before escalation) to find out.
    for case in Case.objects.filter(state=State.NOTIFYING).order_by("pk"):
        if sites.needs_fix(case.domain_id) and rng.random() < 0.06:
            _owner_fixes(case, rng, sites, may_unpublish=True)
            if rng.random() < 0.5:
                owner_reported_fix(case, at=at, note=FIX_NOTE)
    # The registry's side goes through its service, as on the pages: numbered letters, queue items
    # with deadlines, decisions that publish to the DNS and tell the registrar.
    due = [c for c in registry_service.due_for_escalation() if rng.random() < 0.7]
    if due:
        registry_service.build_request(RegistryRequest.Kind.ESCALATION, due, actor=analyst, at=at)
        for case in due:
            if rng.random() < 0.1:  # the letter to the registry is what some owners act on
                sites.clean(case.domain_id)
    # The registry decides on the letters of earlier days (it has a business day for each).
    for item in _open_items(RegistryRequest.Kind.ESCALATION):
        if item.received_at < at and rng.random() < 0.75:
            _registry_outcome(item, operator, at + dt.timedelta(minutes=30))
    # Suspended owners fix their site and report it; the check that report queues verifies it.
    for case in Case.objects.filter(state=State.SUSPENDED, fix_verified_at__isnull=True).order_by("pk"):
        if sites.needs_fix(case.domain_id) and rng.random() < 0.06:
            _owner_fixes(case, rng, sites, may_unpublish=False)
            owner_reported_fix(case, at=at, note=FIX_NOTE)
    ready = [c for c in registry_service.due_for_restoration() if rng.random() < 0.7]
    if ready:
        registry_service.build_request(RegistryRequest.Kind.RESTORATION, ready, actor=analyst, at=at)
    for item in _open_items(RegistryRequest.Kind.RESTORATION):
        if rng.random() < 0.8:
            _restoration_outcome(item, operator, at + dt.timedelta(minutes=30))


def _owner_fixes(case: Case, rng: random.Random, sites: SiteBook, *, may_unpublish: bool) -> None:
    """The owner cleans the site, takes it down, or (while not suspended) takes the name off the DNS."""
    roll = rng.random()
    if roll < 0.7:
        sites.clean(case.domain_id)
    elif roll < 0.9 or not may_unpublish:
        sites.take_down(case.domain_id)
    else:
        sites.unpublish(case.domain_id)  # unreachable: not fixed, unless the policy counts it so


def _open_items(kind: str) -> list[RequestItem]:
    return list(
        RequestItem.objects.filter(outcome="", request__kind=kind).select_related("request").order_by("pk")
    )


def _review(case: Case, rng: random.Random, analyst: str, at: dt.datetime) -> None:
    if case.opened_at > at - dt.timedelta(days=3) and rng.random() < 0.5:
        return  # some of the newest reports still wait for an analyst
    if rng.random() < 0.12:
        workflow.reject(
            case, actor=analyst, at=at, reason="false positive: the page is the owner's own login"
        )
    else:
        workflow.confirm(case, actor=analyst, at=at)


def _all_gone(checks: list[Check]) -> bool:
    policy = Policy.current()
    return bool(checks) and all(counts_as_gone(check.verdict, policy) for check in checks)


def _registry_outcome(item: RequestItem, operator: str, at: dt.datetime) -> None:
    """The registry checks the name before acting: gone, it withdraws; still there, it suspends."""
    if _all_gone(registry_service.fresh_check(item, at=at)):
        registry_service.decide(
            item,
            RequestItem.Outcome.WITHDRAWN,
            actor=operator,
            at=at,
            reason="fixed before the registry acted: its re-check found the pages gone",
        )
    else:
        registry_service.decide(item, RequestItem.Outcome.SUSPENDED, actor=operator, at=at)


def _restoration_outcome(item: RequestItem, operator: str, at: dt.datetime) -> None:
    """The registry checks the fix before restoring; a site attacked again stays suspended."""
    if _all_gone(registry_service.fresh_check(item, at=at)):
        registry_service.decide(item, RequestItem.Outcome.RESTORED, actor=operator, at=at)
    else:
        registry_service.decide(
            item,
            RequestItem.Outcome.REJECTED,
            actor=operator,
            at=at,
            reason="the registry's re-check found the incident still there",
        )


def _owner_reports_fix(case: Case, sites: SiteBook, at: dt.datetime) -> bool:
    """The owner cleans the site and reports it; the check runs at once. Whether it verified the fix."""
    sites.clean(case.domain_id)
    owner_reported_fix(case, at=at, note=FIX_NOTE)
    run_due_jobs(at + dt.timedelta(minutes=2), worker="demo", kinds=["check.case"])
    case.refresh_from_db()
    return case.fix_verified_at is not None


def _leave_work_open(at: dt.datetime, analyst: str, operator: str, sites: SiteBook) -> None:
    """Make sure today's queues are not empty, so every page of the demo has something to show."""
    minutes = iter(range(0, 60, 4))

    def later() -> dt.datetime:
        return at + dt.timedelta(minutes=next(minutes))

    if not Case.objects.filter(state=State.WITHDRAWN).exists():
        # An owner who fixed the site once the registry was asked: its re-check finds it gone.
        for item in _open_items(RegistryRequest.Kind.ESCALATION)[:1]:
            sites.clean(item.case.domain_id)
            _registry_outcome(item, operator, later())
    # Of the suspended cases whose fix nobody verified yet, one at least stays as it is.
    suspended = list(
        Case.objects.filter(state=State.SUSPENDED, fix_verified_at__isnull=True).order_by(
            "suspended_at", "pk"
        )
    )
    if not Case.objects.filter(state=State.RESTORED).exists() and len(suspended) > 1:
        # Restored by the registry; its delegation is published (and the case closed) by the worker.
        case = suspended.pop(0)
        if _owner_reports_fix(case, sites, later()):
            restoring = registry_service.build_request(
                RegistryRequest.Kind.RESTORATION, [case], actor=analyst, at=later()
            )
            _restoration_outcome(restoring.items.get(), operator, later())
    if not _open_items(RegistryRequest.Kind.RESTORATION) and len(suspended) > 1:
        case = suspended.pop(0)
        if _owner_reports_fix(case, sites, later()):
            registry_service.build_request(
                RegistryRequest.Kind.RESTORATION, [case], actor=analyst, at=later()
            )
    if not registry_service.due_for_restoration() and len(suspended) > 1:
        # One fix verified and waiting for the escalation builder's restoration list.
        _owner_reports_fix(suspended.pop(), sites, later())
    if not _open_items(RegistryRequest.Kind.ESCALATION) and not registry_service.due_for_escalation():
        # Nobody is due today: the analyst has the escalation check run now, not at the next tick,
        # for owners who had every notice and did nothing.
        policy = Policy.current()
        waiting = Case.objects.filter(
            state=State.NOTIFYING,
            escalation_due_at__isnull=True,
            notices_sent__gte=policy.notices_before_escalation,
        ).order_by("pk")
        when = later()
        for case in [case for case in waiting if sites.needs_fix(case.domain_id)][:2]:
            queue_check(case, purpose=Purpose.ESCALATION, at=when)
        run_due_jobs(when + dt.timedelta(minutes=2), worker="demo", kinds=["check.case"])
    if not _open_items(RegistryRequest.Kind.ESCALATION):
        due = registry_service.due_for_escalation()[:2]
        if due:
            registry_service.build_request(RegistryRequest.Kind.ESCALATION, due, actor=analyst, at=later())
