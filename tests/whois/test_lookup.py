"""WHOIS look-ups against a real TCP server on loopback: the cache, the evidence, the Domain brought up to date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from tests.conftest import almaty
from zonewarden.domains.models import Contact, Domain, Registrar, WhoisAnswer
from zonewarden.domains.registrant_review import check_contacts
from zonewarden.domains.registry_import import import_registry
from zonewarden.domains.whois_lookup import apply_answer, configured_servers, lookup
from zonewarden.whois import WhoisConnectionRefused, WhoisInvalidName, WhoisTimeout, WhoisUnknownZone
from zonewarden.whois.testserver import NOT_FOUND_ANSWER, WhoisTestServer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]
SAMPLES = Path(__file__).resolve().parent / "samples"
REAL = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "real" / "whois-kz"
REGISTERED = (SAMPLES / "current_statuses_ipv6.txt").read_text(encoding="utf-8")
UNICODE = (SAMPLES / "current_unicode_zoneless.txt").read_text(encoding="utf-8")
LEGACY = (SAMPLES / "legacy_blank_modified.txt").read_text(encoding="utf-8")
IDN = "xn--80awbu3c.xn--80ao21a"
T0 = almaty(2026, 5, 4, 10)
# A status KazNIC might have of its own: the parser keeps it, the contract (EPP names only) does not.
OWN_STATUS = REGISTERED.replace(
    "Domain status..........: clientTransferProhibited",
    "Domain status..........: kaznicVerified - checked\n                         clientTransferProhibited",
).replace("tulpar-sauda.kz", "own-status.kz")


@pytest.fixture
def server() -> Iterator[WhoisTestServer]:
    answers = {
        "tulpar-sauda.kz": REGISTERED,
        IDN: UNICODE,
        "dala-kitap.kz": LEGACY,
        "own-status.kz": OWN_STATUS,
    }
    with (
        WhoisTestServer(answers) as running,
        override_settings(
            ZONEWARDEN_WHOIS_SERVERS=[f"kz=127.0.0.1:{running.port}", f"қаз=127.0.0.1:{running.port}"],
            ZONEWARDEN_WHOIS_INTERVAL=0.0,
            ZONEWARDEN_WHOIS_TIMEOUT=5,
        ),
    ):
        yield running


def test_an_answer_is_stored_with_its_server_fetch_time_raw_text_and_parsed_contract(
    server: WhoisTestServer,
) -> None:
    answer = lookup("tulpar-sauda.kz", at=T0)

    stored = WhoisAnswer.objects.get()
    assert stored.pk == answer.pk
    assert (stored.domain, stored.server, stored.fetched_at, stored.found) == (
        "tulpar-sauda.kz",
        f"127.0.0.1:{server.port}",
        T0,
        True,
    )
    assert stored.raw == REGISTERED
    assert stored.parsed["registrar"] == "PS.KZ"
    assert stored.parsed["admin"]["email"] == "admin@tulpar-sauda.kz"
    assert stored.parsed["nameservers"] == [
        {"name": "ns1.tulpar-hosting.kz", "addresses": ["192.0.2.53", "2001:db8:10::53"]},
        {"name": "ns2.tulpar-hosting.kz", "addresses": ["2001:db8:20::53"]},
    ]
    # The statuses continue on indented lines, after an explanation that runs on.
    assert stored.parsed["statuses"] == [
        "clientTransferProhibited",
        "clientDeleteProhibited",
        "clientRenewProhibited",
    ]
    assert stored.parsed["raw"] == REGISTERED


def test_a_fresh_enough_answer_is_used_without_asking_the_server(server: WhoisTestServer) -> None:
    first = lookup("tulpar-sauda.kz", at=T0)
    again = lookup("tulpar-sauda.kz", at=T0 + dt.timedelta(hours=23))

    assert again.pk == first.pk
    assert server.queries == ["tulpar-sauda.kz"]


def test_an_answer_older_than_the_cache_time_or_max_age_zero_asks_again(server: WhoisTestServer) -> None:
    lookup("tulpar-sauda.kz", at=T0)
    lookup("tulpar-sauda.kz", at=T0 + dt.timedelta(seconds=86401))
    lookup("tulpar-sauda.kz", at=T0 + dt.timedelta(seconds=86402), max_age=0)
    with override_settings(ZONEWARDEN_WHOIS_CACHE_SECONDS=60):
        lookup("tulpar-sauda.kz", at=T0 + dt.timedelta(seconds=86402 + 61))

    assert server.queries == ["tulpar-sauda.kz"] * 4
    assert WhoisAnswer.objects.filter(domain="tulpar-sauda.kz").count() == 4


def test_an_answer_from_another_server_is_not_this_servers_answer(server: WhoisTestServer) -> None:
    lookup("tulpar-sauda.kz", at=T0)
    with WhoisTestServer({"tulpar-sauda.kz": REGISTERED}) as other:
        where = f"127.0.0.1:{other.port}"
        answer = lookup("tulpar-sauda.kz", server=where, at=T0)
        assert other.queries == ["tulpar-sauda.kz"]
    assert answer.server == where
    assert WhoisAnswer.objects.count() == 2


def test_nothing_found_is_an_answer_kept_and_cached_too(server: WhoisTestServer) -> None:
    answer = lookup("no-such-name.kz", at=T0)
    lookup("no-such-name.kz", at=T0)

    assert answer.found is False and answer.raw == NOT_FOUND_ANSWER
    assert answer.parsed["found"] is False and answer.parsed["domain"] == "no-such-name.kz"
    assert server.queries == ["no-such-name.kz"]


def test_a_unicode_name_is_asked_and_stored_as_its_a_label(server: WhoisTestServer) -> None:
    answer = lookup("Мысал.Қаз", at=T0)

    assert server.queries == [IDN]
    assert answer.domain == IDN and answer.found is True
    assert answer.parsed["statuses"] == ["serverHold"]
    # A time without a zone is Almaty's (+05:00 since March 2024).
    assert answer.parsed["modified"] == "2024-03-15T09:30:00+05:00"


def test_the_contract_keeps_epp_status_names_only(server: WhoisTestServer) -> None:
    answer = lookup("own-status.kz", at=T0)

    assert "kaznicVerified" in answer.raw
    assert answer.parsed["statuses"] == [
        "clientTransferProhibited",
        "clientDeleteProhibited",
        "clientRenewProhibited",
    ]


def test_a_server_that_does_not_answer_in_time_is_a_clear_error_and_nothing_is_stored() -> None:
    with WhoisTestServer({}, delay=5) as slow:
        with pytest.raises(
            WhoisTimeout, match=rf"127\.0\.0\.1:{slow.port} did not finish answering within 0.3 s"
        ):
            lookup("x.kz", server=f"127.0.0.1:{slow.port}", timeout=0.3)
    assert not WhoisAnswer.objects.exists()


def test_a_timeout_from_the_settings_applies() -> None:
    with (
        WhoisTestServer({}, delay=5) as slow,
        override_settings(ZONEWARDEN_WHOIS_TIMEOUT=0.3, ZONEWARDEN_WHOIS_INTERVAL=0.0),
        pytest.raises(WhoisTimeout),
    ):
        lookup("x.kz", server=f"127.0.0.1:{slow.port}")


def test_a_server_that_is_not_there_and_a_zone_without_one_are_clear_errors() -> None:
    with WhoisTestServer({}) as gone:
        port = gone.port
    with pytest.raises(WhoisConnectionRefused, match=f"127.0.0.1:{port} refused the connection"):
        lookup("x.kz", server=f"127.0.0.1:{port}")
    with pytest.raises(WhoisUnknownZone, match=r"no WHOIS server is configured for \.com"):
        lookup("example.com")
    with pytest.raises(WhoisInvalidName):
        lookup("not a name")
    with pytest.raises(WhoisInvalidName, match="port must be a number"):
        lookup("x.kz", server="127.0.0.1:http")


def test_a_bad_server_setting_is_named() -> None:
    with (
        override_settings(ZONEWARDEN_WHOIS_SERVERS=["kz=whois.nic.kz:99999"]),
        pytest.raises(ImproperlyConfigured, match="ZONEWARDEN_WHOIS_SERVERS entry 'kz=whois.nic.kz:99999'"),
    ):
        configured_servers()
    with override_settings(ZONEWARDEN_WHOIS_SERVERS=["қаз=127.0.0.1:4343"]):
        assert configured_servers() == {"xn--80ao21a": "127.0.0.1:4343"}


# --- apply_answer --------------------------------------------------------------------------------


def test_a_found_answer_makes_an_unknown_name_with_its_registrar_contacts_and_servers(
    server: WhoisTestServer,
) -> None:
    domain = apply_answer(lookup("tulpar-sauda.kz", at=T0))

    assert domain is not None
    stored = Domain.objects.select_related("registrar", "registrant", "admin_contact").get(
        pk="tulpar-sauda.kz"
    )
    assert stored.registrar is not None and (stored.registrar.code, stored.registrar.name) == (
        "ps-kz",
        "PS.KZ",
    )
    assert stored.notice_email == "admin@tulpar-sauda.kz"
    assert stored.registrant is not None and stored.admin_contact is not None
    assert (stored.registrant.name, stored.registrant.street, stored.registrant.postal_code) == (
        "Serikbayev Arman",
        "Abai ave. 10, office 5",
        "050000",
    )
    assert stored.admin_contact.phone == "+77010000000"
    assert stored.nameservers[0] == {
        "name": "ns1.tulpar-hosting.kz",
        "addresses": ["192.0.2.53", "2001:db8:10::53"],
    }
    assert stored.statuses == ["clientTransferProhibited", "clientDeleteProhibited", "clientRenewProhibited"]
    assert stored.created == dt.datetime(2019, 4, 2, 8, 15, tzinfo=dt.UTC)
    assert stored.registered is True


def test_applying_the_same_answer_twice_changes_nothing_more(server: WhoisTestServer) -> None:
    answer = lookup("tulpar-sauda.kz", at=T0)
    apply_answer(answer)
    contacts = list(Contact.objects.order_by("pk").values())

    apply_answer(answer)

    assert list(Contact.objects.order_by("pk").values()) == contacts
    assert Registrar.objects.count() == 1


REGISTRY_ROWS = (
    "domain,registrar,registrar_name,registrant_handle,registrant_name,registrant_email,registrant_phone,"
    "registrant_city,admin_handle,admin_name,admin_email,admin_phone\n"
    "tulpar-sauda.kz,ps-kz,PS.KZ,SHARED,Old Owner,owner@old.kz,+77011111111,Almaty,A1,Old Admin,old@tulpar-sauda.kz,\n"
    "other.kz,ps-kz,PS.KZ,SHARED,Old Owner,owner@old.kz,+77011111111,Almaty,A2,Admin,a@other.kz,\n"
)


def test_a_contact_other_names_share_is_not_changed_the_name_gets_its_own(server: WhoisTestServer) -> None:
    import_registry(REGISTRY_ROWS.encode())

    apply_answer(lookup("tulpar-sauda.kz", at=T0))

    shared = Contact.objects.get(handle="SHARED")
    assert (shared.name, shared.email) == ("Old Owner", "owner@old.kz")  # other.kz keeps it as it was
    domain = Domain.objects.select_related("registrant", "admin_contact").get(pk="tulpar-sauda.kz")
    assert domain.registrant is not None and domain.registrant.handle == "whois:tulpar-sauda.kz:registrant"
    assert domain.registrant.name == "Serikbayev Arman"
    # WHOIS shows no e-mail or phone for the registrant: the registry's stay.
    assert (domain.registrant.email, domain.registrant.phone) == ("owner@old.kz", "+77011111111")
    # The administrative contact A1 serves this name only: it is brought up to date in place.
    assert domain.admin_contact is not None and domain.admin_contact.handle == "A1"
    assert domain.notice_email == "admin@tulpar-sauda.kz"
    assert Domain.objects.get(pk="other.kz").registrant_id == shared.pk
    assert Registrar.objects.count() == 1  # "PS.KZ" in WHOIS is the registry's ps-kz


def test_a_name_made_from_whois_alone_is_not_faulted_for_the_registrants_missing_email(
    server: WhoisTestServer,
) -> None:
    domain = apply_answer(lookup("tulpar-sauda.kz", at=T0))
    assert domain is not None

    reviews = check_contacts(Domain.objects.get(pk=domain.pk), dns=False)

    assert {review.role: [f.code for f in review.findings] for review in reviews} == {
        "registrant": [],
        "admin": [],
    }


def test_nothing_found_marks_a_known_name_not_registered(server: WhoisTestServer) -> None:
    Domain.objects.create(name="no-such-name.kz")

    assert apply_answer(lookup("no-such-name.kz", at=T0)) is None

    assert Domain.objects.get(pk="no-such-name.kz").registered is False
    assert apply_answer(lookup("never-heard-of.kz", at=T0)) is None
    assert not Domain.objects.filter(pk="never-heard-of.kz").exists()


def test_the_legacy_layout_applies_too(server: WhoisTestServer) -> None:
    domain = apply_answer(lookup("dala-kitap.kz", at=T0))

    assert domain is not None
    assert domain.notice_email == "dana@dala-kitap.kz"
    assert domain.statuses == ["clientDeleteProhibited", "clientUpdateProhibited", "clientTransferProhibited"]
    assert [server["name"] for server in domain.nameservers] == [
        "ns1.dala-host.kz",
        "ns2.dala-host.kz",
        "ns3.dala-host.kz",
    ]


@pytest.mark.skipif(not REAL.is_dir(), reason=f"real WHOIS samples not found at {REAL}")
def test_real_answers_served_on_loopback_are_stored_and_applied() -> None:
    answers = {
        "nic.kz": (REAL / "01_current-format_nic.kz_registered_recorded-2026-10-10.txt").read_text(
            encoding="utf-8"
        ),
        "tabu.kz": (REAL / "04_legacy-format_tabu.kz_status_multiple.txt").read_text(encoding="utf-8"),
    }
    missing = (REAL / "02_current-format_notfound.txt").read_text(encoding="utf-8")
    with WhoisTestServer(answers, default=missing) as real, override_settings(ZONEWARDEN_WHOIS_INTERVAL=0.0):
        where = f"127.0.0.1:{real.port}"
        nic = apply_answer(lookup("nic.kz", server=where, at=T0))
        tabu = apply_answer(lookup("tabu.kz", server=where, at=T0))
        absent = lookup("absent-name.kz", server=where, at=T0)

    assert nic is not None and nic.notice_email == "pg@nic.kz" and nic.statuses == ["ok"]
    assert tabu is not None and tabu.notice_email == "kohaner@gmail.com"
    assert tabu.statuses == ["clientDeleteProhibited", "clientRenewProhibited", "clientTransferProhibited"]
    assert tabu.registrar is not None and tabu.registrar.name == "HOSTER.KZ"
    assert absent.found is False and absent.raw == missing
