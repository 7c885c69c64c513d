"""The work a fault test hands its workers, made through the product's own operations where it can.

Cases are put into a state by the workflow (confirm, the registry's requests and decisions) when
that is what the test is about; a case that must merely *be* somewhere (a reminder due, a
registry deadline passed) is set there directly, as a day of history would have left it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable

from zonewarden.cases import workflow
from zonewarden.cases.models import Case, CaseEvent, State
from zonewarden.domains.models import Domain, Registrar
from zonewarden.jobs.queue import run_due_jobs
from zonewarden.notices.models import Notice
from zonewarden.registry.models import RegistryRequest
from zonewarden.registry.service import build_request, decide

MakeDomain = Callable[..., Domain]
MakeCase = Callable[..., Case]


def address(index: int) -> str:
    """A glue address for test name `index` (TEST-NET-1: zone data only, never contacted)."""
    return f"192.0.2.{index % 250 + 1}"


def domains(make_domain: MakeDomain, prefix: str, count: int, *, delegated: bool = False) -> list[Domain]:
    """`count` names `PREFIXi.kz`, each with its own owner address (and a delegation with glue)."""
    made = []
    for index in range(count):
        name = f"{prefix}{index}.kz"
        domain = make_domain(name, email=f"admin@{name}")
        if delegated:
            domain.nameservers = [{"name": f"ns1.{name}", "addresses": [address(index)]}]
            domain.save(update_fields=["nameservers"])
        made.append(domain)
    Registrar.objects.filter(email="").update(email="abuse@registrar.kz")
    return made


def zone_lines(delegated: Iterable[Domain]) -> str:
    """The zone file lines (under kz.) that delegate these names, glue included."""
    lines = []
    for domain in delegated:
        label = domain.name.removesuffix(".kz")
        for server in domain.nameservers:
            lines.append(f"{label} NS {server['name']}.")
            for item in server["addresses"]:
                lines.append(f"{server['name'].removesuffix('.kz')} A {item}")
    return "\n".join(lines) + "\n"


def confirmed(make_case: MakeCase, names: list[Domain], at: dt.datetime) -> list[Case]:
    """A case per name, confirmed by an analyst: each has its first notice queued as a job."""
    cases = []
    for domain in names:
        case = make_case(at, domain=domain)
        workflow.confirm(case, actor="user:analyst", at=at)
        cases.append(case)
    return cases


def pending_notices(make_case: MakeCase, names: list[Domain], at: dt.datetime) -> list[Notice]:
    """Confirmed cases whose first notices wait in the outbox (the jobs that write them done)."""
    cases = confirmed(make_case, names, at)
    run_due_jobs(at, worker="setup")
    notices = list(Notice.objects.filter(case__in=cases, state=Notice.State.PENDING).order_by("pk"))
    assert len(notices) == len(cases), "every confirmed case should have its first notice pending"
    return notices


def put(cases: list[Case], **fields: object) -> None:
    """Leave cases where earlier days would have (no events: nothing happened in this test)."""
    Case.objects.filter(pk__in=[case.pk for case in cases]).update(**fields)


def escalation(make_case: MakeCase, names: list[Domain], at: dt.datetime) -> RegistryRequest:
    """Cases whose owners ignored three notices, escalated by an analyst in one numbered letter."""
    cases = [make_case(at - dt.timedelta(days=20), domain=domain) for domain in names]
    put(
        cases,
        state=State.NOTIFYING,
        notices_sent=3,
        last_notice_at=at - dt.timedelta(days=5),
        escalation_due_at=at - dt.timedelta(hours=1),
    )
    return build_request("escalation", cases, actor="user:analyst", at=at)


def restoration(make_case: MakeCase, names: list[Domain], at: dt.datetime) -> RegistryRequest:
    """Suspended names (out of the zone already) whose fix was verified, in one restoration letter."""
    cases = [make_case(at - dt.timedelta(days=30), domain=domain) for domain in names]
    put(
        cases,
        state=State.SUSPENDED,
        notices_sent=3,
        suspended_at=at - dt.timedelta(days=10),
        registrar_deadline=at + dt.timedelta(days=10),
        fix_verified_at=at - dt.timedelta(hours=2),
    )
    Domain.objects.filter(pk__in=[domain.pk for domain in names]).update(statuses=["serverHold"])
    return build_request("restoration", cases, actor="user:analyst", at=at)


def decide_all(request: RegistryRequest, outcome: str, at: dt.datetime) -> list[Case]:
    """The registry's operator decides every item of the letter the same way."""
    cases = []
    for item in request.items.select_related("request").order_by("pk"):
        decide(item, outcome, actor="user:registry", at=at)
        cases.append(item.case)
    return cases


def events(cases: Iterable[Case], action: str) -> Counter[int]:
    """How many events `action` each of these cases has (0 included)."""
    ids = [case.pk for case in cases]
    found: Counter[int] = Counter({pk: 0 for pk in ids})
    found.update(CaseEvent.objects.filter(case_id__in=ids, action=action).values_list("case_id", flat=True))
    return found


def repeated_events() -> dict[tuple[int, str, object], int]:
    """Events that happened more than once to one case (same action and, for notices, number)."""
    seen: Counter[tuple[int, str, object]] = Counter(
        (case_id, action, detail.get("number") if isinstance(detail, dict) else None)
        for case_id, action, detail in CaseEvent.objects.values_list("case_id", "action", "detail")
    )
    return {key: count for key, count in seen.items() if count > 1}
