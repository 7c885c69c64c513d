"""The fetcher against a real HTTP server on loopback; forbidden addresses only through the static table.

Names outside the table resolve through the suite's loopback nameserver (tests/nameserver.py),
as ZONEWARDEN_CHECK_NAMESERVERS says; tests/checks/test_resolver_dns.py puts records in it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings

from tests.checks.webserver import Answer, WebServer, web_server
from zonewarden.checks.fetch import FetchLimits, fetch_all
from zonewarden.checks.nameservers import parse_nameservers
from zonewarden.checks.safety import AllowList

LOOPBACK = AllowList.parse(["127.0.0.1"])


@pytest.fixture(scope="module")
def server() -> Iterator[WebServer]:
    with web_server() as running:
        running.answers["/page"] = Answer(b"<title>x</title>hello")
        running.answers["/big"] = Answer(b"A" * 300_000, content_type="application/octet-stream")
        running.answers["/slow"] = Answer(b"late", delay=3)
        yield running


def fetch(urls: list[str], *, hosts: dict[str, list[str]] | None = None, **limits: object) -> list:  # type: ignore[type-arg]
    return fetch_all(
        urls,
        limits=FetchLimits(**limits),  # type: ignore[arg-type]
        allow=LOOPBACK,
        hosts=hosts or {},
        nameservers=parse_nameservers(settings.ZONEWARDEN_CHECK_NAMESERVERS),
    )


def test_a_page_is_fetched_with_its_facts(server: WebServer) -> None:
    [result] = fetch([server.url("/page", "shop.kz")], hosts={"shop.kz": ["127.0.0.1"]}, user_agent="zw-test")
    assert (result.status, result.body, result.addresses) == (200, b"<title>x</title>hello", ["127.0.0.1"])
    assert result.content_type == "text/html" and len(result.sha256) == 64
    assert not result.refused and not result.error


def test_a_name_resolving_to_a_private_address_is_refused_before_any_connection(server: WebServer) -> None:
    before = len(server.hits)
    [result] = fetch([server.url("/page", "evil.kz")], hosts={"evil.kz": ["10.0.0.7", "fd00::7"]})
    assert "10.0.0.7 is a private address" in result.refused
    assert result.status is None and len(server.hits) == before


def test_only_the_permitted_addresses_of_a_name_are_used(server: WebServer) -> None:
    # One private address among the answers: it is dropped, the allowed one is used.
    [result] = fetch([server.url("/page", "mixed.kz")], hosts={"mixed.kz": ["192.168.1.9", "127.0.0.1"]})
    assert result.status == 200


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/",
        "http://[::1]:80/",
        "http://[::ffff:169.254.169.254]/",
        "http://0x0a.1/",
        "http://167772161/",
    ],
)
def test_ip_literals_are_vetted_too(url: str) -> None:
    [result] = fetch([url])
    assert result.refused and result.status is None


def test_a_redirect_to_a_private_address_is_refused(server: WebServer) -> None:
    server.answers["/to-metadata"] = Answer(
        status=302, headers={"Location": "http://169.254.169.254/latest/"}
    )
    server.answers["/to-internal"] = Answer(status=301, headers={"Location": "http://intranet.kz/"})
    first, second = fetch(
        [server.url("/to-metadata", "a.kz"), server.url("/to-internal", "a.kz")],
        hosts={"a.kz": ["127.0.0.1"], "intranet.kz": ["172.16.5.5"]},
    )
    assert "169.254.169.254 is a link-local address" in first.refused
    assert first.redirects == [{"url": server.url("/to-metadata", "a.kz"), "status": 302}]
    assert "172.16.5.5 is a private address" in second.refused


def test_redirects_are_followed_up_to_the_limit(server: WebServer) -> None:
    for number in range(4):
        server.answers[f"/r{number}"] = Answer(status=302, headers={"Location": f"/r{number + 1}"})
    server.answers["/r4"] = Answer(b"end")
    [ok] = fetch([server.url("/r0")], max_redirects=4)
    assert ok.body == b"end" and len(ok.redirects) == 4 and ok.final_url.endswith("/r4")
    [too_many] = fetch([server.url("/r0")], max_redirects=3)
    assert too_many.error == "more than 3 redirects" and too_many.status is None


def test_bodies_are_capped_and_slow_servers_time_out(server: WebServer) -> None:
    big, slow = fetch([server.url("/big"), server.url("/slow")], max_bytes=100_000, timeout=1)
    assert big.body_size == 100_000 and big.truncated
    assert slow.unreachable and slow.error == "no answer within 1 s"


def test_names_that_do_not_resolve_and_closed_ports_are_unreachable() -> None:
    nowhere, elsewhere, closed = fetch(["http://gone.kz/", "http://gone.example/", "http://127.0.0.1:9/"])
    assert nowhere.unreachable and nowhere.error.startswith("gone.kz does not resolve: ")
    # The suite's nameserver serves kz. only: it refuses other names, which do not resolve either.
    assert elsewhere.unreachable and elsewhere.error.startswith("gone.example does not resolve: ")
    assert closed.unreachable and closed.error.startswith("cannot connect")


def test_other_schemes_are_refused() -> None:
    [result] = fetch(["ftp://files.kz/x.exe"])
    assert "only http and https" in result.refused


def test_the_user_agent_is_honest(server: WebServer) -> None:
    server.answers["/ua"] = Answer(b"ok")
    fetch([server.url("/ua")], user_agent="zonewarden/0.1 (incident re-check by KZ-CERT)")
    assert server.agents[server.hits.index("/ua")] == "zonewarden/0.1 (incident re-check by KZ-CERT)"
