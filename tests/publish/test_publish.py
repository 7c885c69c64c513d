"""Suspensions and restorations published to a real Knot DNS server, read back, once."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import dns.message
import dns.name
import dns.query
import dns.zone
import pytest
from django.core.management import call_command
from django.test import override_settings

from tests.conftest import almaty
from tests.knot import Knot
from zonewarden.cases.models import Case
from zonewarden.domains.models import Domain
from zonewarden.publish.models import Publication
from zonewarden.publish.service import publish_due, request_publication

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults"), pytest.mark.dns]
T0 = almaty(2026, 4, 1, 11)
DELEGATION = [{"name": "ns1.shop.kz", "addresses": ["192.0.2.10"]}]


@pytest.fixture
def shop(make_domain: Callable[..., Domain], make_case: Callable[..., Case]) -> Case:
    domain = make_domain("shop.kz")
    domain.nameservers = DELEGATION
    domain.save()
    return make_case(T0, domain=domain)


def hold(domain: Domain, on: bool) -> None:
    domain.statuses = ["serverHold"] if on else []
    domain.save()


def glue(server: Knot) -> list[str]:
    response = dns.query.udp(
        dns.message.make_query("ns1.shop.kz.", "A"), "127.0.0.1", port=server.port, timeout=2
    )
    return [
        item.address
        for section in (response.answer, response.additional)
        for rrset in section
        for item in rrset
        if rrset.rdtype == 1
    ]


def test_a_suspension_removes_the_delegation_and_a_restoration_brings_it_back(knot: Knot, shop: Case) -> None:
    assert knot.nameservers("shop.kz") == ["ns1.shop.kz"]
    serial = knot.serial()
    with override_settings(**knot.settings()):
        hold(shop.domain, True)
        request_publication(shop.domain, "suspend", case=shop, at=T0)
        assert publish_due(T0, worker="w").applied == 1
        assert knot.nameservers("shop.kz") == [] and glue(knot) == []
        assert knot.serial() == serial + 1
        assert publish_due(T0 + dt.timedelta(minutes=5), worker="w").applied == 0  # once
        event = shop.events.get(action="dns.suspended")
        assert event.detail["readback"]["nameservers"] == []
        rpz = dns.zone.from_text(
            (Path(knot.folder / "out" / "rpz.zone")).read_text(), origin="rpz.zonewarden."
        )
        assert {str(name) for name in rpz.nodes} >= {"shop.kz", "*.shop.kz"}
        zone = (knot.folder / "out" / "kz.zone").read_text()
        assert "shop.kz." not in zone and "ns1.nic.kz." in zone

        hold(shop.domain, False)
        request_publication(shop.domain, "restore", case=shop, at=T0)
        assert publish_due(T0, worker="w").applied == 1
        assert knot.nameservers("shop.kz") == ["ns1.shop.kz"] and glue(knot) == ["192.0.2.10"]
        assert "shop.kz. NS ns1.shop.kz." in (knot.folder / "out" / "kz.zone").read_text()
    assert Publication.objects.filter(state="applied").count() == 2


def test_a_wrong_key_is_refused_and_reported(knot: Knot, shop: Case) -> None:
    wrong = base64.b64encode(b"not-the-key-at-all-0123456789abc").decode()
    with override_settings(**knot.settings(secret=wrong)):
        request_publication(shop.domain, "suspend", case=shop, at=T0)
        assert publish_due(T0, worker="w").failed == 1
    publication = Publication.objects.get()
    assert publication.state == "failed" and "TSIG" in publication.last_error
    assert "refused our TSIG key" in shop.events.get(action="dns.publish_failed").detail["error"]
    assert knot.nameservers("shop.kz") == ["ns1.shop.kz"]


def test_a_stopped_server_leaves_the_change_pending_and_a_restart_applies_it_once(
    knot: Knot, shop: Case
) -> None:
    serial = knot.serial()
    with override_settings(**knot.settings()):
        request_publication(shop.domain, "suspend", case=shop, at=T0)
        knot.stop()
        assert publish_due(T0, worker="w").retrying == 1
        publication = Publication.objects.get()
        assert publication.state == "pending" and "no answer" in publication.last_error
        assert (
            publish_due(T0 + dt.timedelta(seconds=10), worker="w").retrying == 0
        )  # waits for its next attempt
        knot.start()
        later = T0 + dt.timedelta(minutes=2)
        assert publish_due(later, worker="w").applied == 1
        assert publish_due(later + dt.timedelta(minutes=5), worker="w").applied == 0
    assert knot.serial() == serial + 1  # one UPDATE took effect
    assert knot.nameservers("shop.kz") == []


def test_dns_export_writes_the_zone_and_the_rpz(shop: Case, tmp_path: Path) -> None:
    hold(shop.domain, True)
    rpz = tmp_path / "rpz.zone"
    call_command("dns", "export", "--rpz", "--output", str(rpz))
    parsed = dns.zone.from_text(rpz.read_text(), origin="rpz.zonewarden.")
    assert parsed.find_rdataset("shop.kz", "CNAME")[0].target == dns.name.root
    zone = tmp_path / "kz.zone"
    call_command("dns", "export", "--zone", "kz", "--output", str(zone))
    assert "shop.kz" not in zone.read_text()
