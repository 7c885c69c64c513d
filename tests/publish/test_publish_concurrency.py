"""Two workers publishing at once on one PostgreSQL: every change applied once."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.utils import timezone

from tests.knot import Knot
from tests.test_concurrency import in_parallel
from zonewarden.cases.models import Case, State
from zonewarden.domains.models import Domain
from zonewarden.publish.models import Publication
from zonewarden.publish.service import publish_due, request_publication

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres_only,
    pytest.mark.dns,
    pytest.mark.usefixtures("defaults"),
]


def test_two_workers_apply_each_publication_once(knot: Knot) -> None:
    now = timezone.now()
    for name in ("shop", "other"):
        domain = Domain.objects.create(name=f"{name}.kz", statuses=["serverHold"])
        case = Case.objects.create(domain=domain, state=State.SUSPENDED, opened_at=now)
        request_publication(domain, "suspend", case=case, at=now)
    serial = knot.serial()
    with override_settings(**knot.settings()):
        first, second = in_parallel(
            lambda: publish_due(now, worker="a"), lambda: publish_due(now, worker="b")
        )
    assert first.applied + second.applied == 2
    assert set(Publication.objects.values_list("state", flat=True)) == {"applied"}
    assert sorted(Publication.objects.values_list("claimed_by", flat=True)) in (
        ["a", "a"],
        ["b", "b"],
        ["a", "b"],
    )
    assert knot.nameservers("shop.kz") == [] and knot.nameservers("other.kz") == []
    assert knot.serial() in (serial + 1, serial + 2)
    for case in Case.objects.all():
        assert case.events.filter(action="dns.suspended").count() == 1
