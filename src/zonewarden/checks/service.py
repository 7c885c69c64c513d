"""Run checks: fetch the incidents' URLs, judge them by their category's rules, keep the evidence."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings

from zonewarden import clock
from zonewarden.cases.models import Policy
from zonewarden.checks.fetch import Fetched, FetchLimits, fetch_all
from zonewarden.checks.models import Check, Purpose, Verdict, VerdictRule
from zonewarden.checks.nameservers import parse_nameservers
from zonewarden.checks.safety import AllowList
from zonewarden.checks.verdict import Page, Reference, Rule, judge, read_page
from zonewarden.intake.models import Incident


def limits() -> FetchLimits:
    return FetchLimits(
        timeout=settings.ZONEWARDEN_CHECK_TIMEOUT,
        max_bytes=settings.ZONEWARDEN_CHECK_MAX_BYTES,
        evidence_bytes=settings.ZONEWARDEN_CHECK_EVIDENCE_BYTES,
        max_redirects=settings.ZONEWARDEN_CHECK_MAX_REDIRECTS,
        concurrency=settings.ZONEWARDEN_CHECK_CONCURRENCY,
        per_host=settings.ZONEWARDEN_CHECK_PER_HOST,
        user_agent=settings.ZONEWARDEN_CHECK_USER_AGENT,
    )


def static_hosts() -> dict[str, list[str]]:
    """ZONEWARDEN_CHECK_HOSTS ("name=address" entries) as a table; a name may repeat."""
    table: dict[str, list[str]] = {}
    for entry in settings.ZONEWARDEN_CHECK_HOSTS:
        name, _, address = entry.partition("=")
        if name.strip() and address.strip():
            table.setdefault(name.strip().lower(), []).append(address.strip())
    return table


def fetch(urls: Sequence[str]) -> list[Fetched]:
    return fetch_all(
        urls,
        limits=limits(),
        allow=AllowList.parse(settings.ZONEWARDEN_CHECK_ALLOW),
        hosts=static_hosts(),
        use_dns=settings.ZONEWARDEN_CHECK_DNS,
        nameservers=parse_nameservers(settings.ZONEWARDEN_CHECK_NAMESERVERS),
    )


def rules_for(categories: set[str]) -> dict[str, list[Rule]]:
    found: dict[str, list[Rule]] = {code: [] for code in categories}
    for rule in VerdictRule.objects.filter(category_id__in=categories, active=True).order_by("kind"):
        found[rule.category_id].append(Rule(rule.kind, dict(rule.parameters or {})))
    return found


def references(incidents: Sequence[Incident]) -> dict[int, Reference]:
    """Each incident's first check that got an answer below 400: what it looked like when reported."""
    found: dict[int, Reference] = {}
    rows = (
        Check.objects.filter(incident__in=[i.pk for i in incidents], status__lt=400)
        .order_by("incident_id", "at", "pk")
        .values_list("incident_id", "title", "simhash", "body_sha256")
    )
    for incident_id, title, fuzzy, sha in rows:
        if incident_id is not None and incident_id not in found:
            found[incident_id] = Reference(title, fuzzy, sha)
    return found


@dataclass(frozen=True)
class Outcome:
    verdict: str
    reason: str
    page: Page | None


def decide(
    fetched: Fetched, rules: Sequence[Rule], reference: Reference | None, evidence: dict[str, object]
) -> Outcome:
    if fetched.refused:
        return Outcome(Verdict.REFUSED, fetched.refused, None)
    if fetched.unreachable:
        return Outcome(Verdict.UNREACHABLE, fetched.error, None)
    if fetched.error or fetched.status is None:
        return Outcome(Verdict.ERROR, fetched.error or "no answer", None)
    page = read_page(fetched)
    present, why = judge(page, rules, reference, evidence)
    return Outcome(Verdict.PRESENT if present else Verdict.GONE, why, page)


def _check_row(
    fetched: Fetched, outcome: Outcome, *, incident: Incident | None, purpose: str, at: dt.datetime
) -> Check:
    page = outcome.page
    return Check(
        incident=incident,
        url=fetched.url,
        purpose=purpose,
        at=at,
        duration_ms=int(fetched.elapsed * 1000),
        final_url=fetched.final_url,
        redirects=fetched.redirects,
        status=fetched.status,
        headers=fetched.headers,
        content_type=fetched.content_type[:200],
        body_size=fetched.body_size,
        body_sha256=fetched.sha256,
        body_head=fetched.body[: settings.ZONEWARDEN_CHECK_EVIDENCE_BYTES],
        title=page.title if page else "",
        simhash=page.simhash if page else "",
        credential_form=page.credential_form if page else False,
        addresses=fetched.addresses,
        verdict=outcome.verdict,
        reason=outcome.reason[:2000],
    )


def check_incidents(
    incidents: Sequence[Incident], *, purpose: str = Purpose.MANUAL, at: dt.datetime | None = None
) -> list[Check]:
    """Fetch and judge each incident now; store and return the checks (in the incidents' order)."""
    if not incidents:
        return []
    moment = at or clock.now()
    rules = rules_for({incident.category_id for incident in incidents})
    known = references(incidents)
    results = fetch([incident.url for incident in incidents])
    checks = []
    for incident, fetched in zip(incidents, results, strict=True):
        evidence = incident.evidence if isinstance(incident.evidence, dict) else {}
        outcome = decide(fetched, rules.get(incident.category_id, []), known.get(incident.pk), evidence)
        checks.append(_check_row(fetched, outcome, incident=incident, purpose=purpose, at=moment))
    Check.objects.bulk_create(checks)
    if settings.ZONEWARDEN_CHECK_SCREENSHOTS:
        from zonewarden.checks.screenshot import attach_screenshots

        attach_screenshots(checks)
    return checks


def check_url(
    url: str, *, category: str = "phishing", at: dt.datetime | None = None, keep: bool = True
) -> Check:
    """Check an arbitrary URL by a category's rules (no reference to compare with)."""
    [fetched] = fetch([url])
    rules = rules_for({category}).get(category, [])
    check = _check_row(
        fetched,
        decide(fetched, rules, None, {}),
        incident=None,
        purpose=Purpose.ADHOC,
        at=at or clock.now(),
    )
    if keep:
        check.save()
    return check


def counts_as_gone(verdict: str, policy: Policy) -> bool:
    """Whether a verdict lets a case be resolved: gone, or unreachable where the policy says so."""
    return verdict == Verdict.GONE or (verdict == Verdict.UNREACHABLE and policy.unreachable_counts_as_fixed)
