"""Invented demo data: a few hundred incidents on made-up .kz and .қаз names, moved through months.

Every step goes through the workflow's operations and the clock, as of simulated times, so the
demo's history is one the real process could have written.
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

from zonewarden.cases import workflow
from zonewarden.cases.models import Case, State
from zonewarden.cases.tick import tick
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
    rng: random.Random, domains: list[Domain], categories: list[str], at: dt.datetime
) -> list[Incident]:
    domain = rng.choice(domains)
    category = rng.choices(categories, weights=[5, 3, 2, 2, 1])[0]
    hosts = [domain.name, f"www.{domain.name}", f"shop.{domain.name}"]
    incidents = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        url = f"http://{rng.choice(hosts)}{rng.choice(PATHS[category])}"
        key = hashlib.sha256(f"{category}\n{url}".encode()).hexdigest()
        if Incident.objects.filter(key=key).exists():
            continue
        incidents.append(
            Incident.objects.create(
                key=key,
                domain=domain,
                url=url,
                category_id=category,
                sources=[rng.choice(SOURCES)],
                first_seen=at,
                last_seen=at,
                evidence={"note": "demo data"},
            )
        )
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
) -> Counter[str]:
    """Create the demo registry and replay `days` days of the process up to `now`."""
    rng = random.Random(seed)
    end = timezone.localtime(now or timezone.now())
    start = (end - dt.timedelta(days=days)).replace(hour=9, minute=30, second=0, microsecond=0)
    with transaction.atomic():
        registry = _create_registry(rng, domains, start)
    categories = list(Category.objects.order_by("code").values_list("code", flat=True))
    categories = [c for c in ["phishing", "malware", "defacement", "compromised", "other"] if c in categories]
    calendar = WorkingCalendar.load()
    analyst, operator = "user:analyst", "user:registry"
    day = start
    while day < end:
        working = calendar.is_working_day(day.date())
        arrivals: list[Incident] = []
        reports = rng.randint(0, int(incidents_per_day * 2)) if day < end - dt.timedelta(hours=2) else 0
        for _ in range(reports):
            arrivals += _report(rng, registry, categories, day)
        if arrivals:
            cases = workflow.open_case_ids({i.domain_id for i in arrivals}, actor="system:intake", at=day)
            for incident in arrivals:
                Incident.objects.filter(pk=incident.pk).update(case_id=cases[incident.domain_id])
        if working:
            later = day + dt.timedelta(hours=2)
            _work_the_queues(rng, later, analyst, operator)
        tick(day + dt.timedelta(hours=1))
        run_due_jobs(day + dt.timedelta(hours=1, minutes=5), worker="demo")
        send_due(day + dt.timedelta(hours=1, minutes=6), worker="demo")
        publish_due(day + dt.timedelta(hours=3), worker="demo")
        day += dt.timedelta(days=1)
        if day.day == 1:
            progress(f"  replayed up to {day.date().isoformat()}")
    tick(end)
    _leave_work_open(end, analyst, operator)
    return Counter(Case.objects.values_list("state", flat=True))


def _work_the_queues(rng: random.Random, at: dt.datetime, analyst: str, operator: str) -> None:
    """Do one working day's share of what analysts, owners and the registry do."""
    fixed_by_owner = "re-check: page gone"
    _each(State.RECORDED, 0.6, rng, at, lambda c, when: _review(c, rng, analyst, when))
    _each(
        State.NOTIFYING,
        0.05,
        rng,
        at,
        lambda c, when: workflow.mark_fixed(c, actor="system:checker", at=when, evidence=fixed_by_owner),
    )
    # The registry's side goes through its service, as on the pages: numbered letters, queue items
    # with deadlines, decisions that publish to the DNS and tell the registrar.
    due = [c for c in registry_service.due_for_escalation() if rng.random() < 0.7]
    if due:
        registry_service.build_request(RegistryRequest.Kind.ESCALATION, due, actor=analyst, at=at)
    for item in _open_items(RegistryRequest.Kind.ESCALATION):
        if rng.random() < 0.75:
            _registry_outcome(item, rng, operator, at + dt.timedelta(minutes=30))
    ready = [c for c in Case.objects.filter(state=State.SUSPENDED) if rng.random() < 0.06]
    if ready:
        Case.objects.filter(pk__in=[c.pk for c in ready]).update(fix_verified_at=at)
        registry_service.build_request(RegistryRequest.Kind.RESTORATION, ready, actor=analyst, at=at)
    for item in _open_items(RegistryRequest.Kind.RESTORATION):
        if rng.random() < 0.8:
            registry_service.decide(
                item, RequestItem.Outcome.RESTORED, actor=operator, at=at + dt.timedelta(minutes=30)
            )


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


def _registry_outcome(item: RequestItem, rng: random.Random, operator: str, at: dt.datetime) -> None:
    if rng.random() < 0.85:
        registry_service.decide(item, RequestItem.Outcome.SUSPENDED, actor=operator, at=at)
    else:
        registry_service.decide(
            item,
            RequestItem.Outcome.WITHDRAWN,
            actor=operator,
            at=at,
            reason="fixed before the registry acted",
        )


def _leave_work_open(at: dt.datetime, analyst: str, operator: str) -> None:
    """Make sure today's queues are not empty, so every page of the demo has something to show."""
    if not _open_items(RegistryRequest.Kind.ESCALATION):
        due = registry_service.due_for_escalation()[:2]
        if due:
            registry_service.build_request(RegistryRequest.Kind.ESCALATION, due, actor=analyst, at=at)
    suspended = list(Case.objects.filter(state=State.SUSPENDED).order_by("suspended_at"))
    if not Case.objects.filter(state=State.RESTORED).exists() and len(suspended) > 3:
        # Restored by the registry; its delegation is published (and the case closed) by the worker.
        restoring = registry_service.build_request(
            RegistryRequest.Kind.RESTORATION, [suspended.pop(0)], actor=analyst, at=at - dt.timedelta(hours=2)
        )
        registry_service.decide(
            restoring.items.get(), RequestItem.Outcome.RESTORED, actor=operator, at=at - dt.timedelta(hours=1)
        )
    if not _open_items(RegistryRequest.Kind.RESTORATION) and len(suspended) > 2:
        registry_service.build_request(RegistryRequest.Kind.RESTORATION, suspended[:1], actor=analyst, at=at)
    if len(suspended) > 3:
        # One fix verified and waiting for the escalation builder's restoration list.
        Case.objects.filter(pk=suspended[-1].pk).update(fix_verified_at=at)
