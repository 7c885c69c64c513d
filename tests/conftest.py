"""Shared fixtures: fixed times, a registry with names, and cases in each state."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import itertools
from collections.abc import Callable, Iterator
from zoneinfo import ZoneInfo

import pytest

ALMATY = ZoneInfo("Asia/Almaty")
_counter = itertools.count(1)


def almaty(*args: int) -> dt.datetime:
    """Return an aware Almaty time, e.g. almaty(2026, 3, 18, 10)."""
    return dt.datetime(*args, tzinfo=ALMATY)  # type: ignore[misc]


@pytest.fixture
def defaults(db: None) -> None:
    """Make sure the data the migrations load is there (a transactional test flushes it)."""
    from django.apps import apps

    for module in (
        "zonewarden.cases.migrations.0002_default_grounds",
        "zonewarden.intake.migrations.0002_default_categories",
        "zonewarden.checks.migrations.0002_default_rules",
    ):
        importlib.import_module(module).forwards(apps, None)


@pytest.fixture
def make_domain(defaults: None) -> Callable[..., object]:
    from zonewarden.domains.models import Contact, Domain, Registrar

    def make(name: str | None = None, *, email: str = "admin@example.kz") -> Domain:
        number = next(_counter)
        registrar, _ = Registrar.objects.get_or_create(code="reg-a", defaults={"name": "Registrar A"})
        contact = Contact.objects.create(handle=f"c{number}", name=f"Owner {number}", email=email)
        return Domain.objects.create(
            name=name or f"site{number}.kz", registrar=registrar, registrant=contact, admin_contact=contact
        )

    return make


@pytest.fixture
def make_case(make_domain: Callable[..., object]) -> Callable[..., object]:
    """Return a factory of a case with one phishing incident, opened at `at`."""
    from zonewarden.cases import workflow
    from zonewarden.domains.models import Domain
    from zonewarden.intake.models import Incident

    def make(at: dt.datetime, *, domain: Domain | None = None) -> object:
        domain = domain or make_domain()  # type: ignore[assignment]
        assert isinstance(domain, Domain)
        case = workflow.open_case(domain, actor="system:intake", at=at)
        url = f"http://{domain.name}/login.php"
        Incident.objects.create(
            key=hashlib.sha256(f"phishing\n{url}".encode()).hexdigest(),
            domain=domain,
            url=url,
            category_id="phishing",
            sources=["test"],
            first_seen=at,
            last_seen=at,
            case=case,
        )
        return case

    return make


@pytest.fixture(scope="session", autouse=True)
def _production_mail_backend(django_test_environment: None) -> None:
    """Mail as production sends it without an SMTP server: into the embedded sink.

    Django's test set-up swaps in its in-memory backend, which no deployment runs; the tests that
    need SMTP point the backend at a real server on loopback themselves (tests/smtpserver.py).
    """
    from django.conf import settings

    settings.EMAIL_BACKEND = "zonewarden.notices.sink.SinkBackend"


@pytest.fixture(autouse=True)
def _english_unless_a_test_asks() -> Iterator[None]:
    """A request in Russian leaves Russian active in this thread (Django resets it only at the next
    request); start every test in English, the test settings' language, so no test leaks its own."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.activate("en")
