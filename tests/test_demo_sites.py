"""The demo's own network on loopback: its name server, its sites, and the checker's verdicts on them."""

from __future__ import annotations

import http.client
import importlib
import socket
import struct
from collections.abc import Iterator
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zonewarden.checks.service import decide, fetch
from zonewarden.checks.verdict import Reference, Rule
from zonewarden.demo import network
from zonewarden.demo.nameserver import answer
from zonewarden.demo.sites import SiteBook, SiteBookError

ADDRESS = network.DEFAULT_ADDRESS
PHISHING_TITLE = "QazBank Online — Вход"
RULES = importlib.import_module("zonewarden.checks.migrations.0002_default_rules").RULES


def make_book() -> SiteBook:
    book = SiteBook(zones=["kz", "xn--80ao21a"])
    book.add("almatybank12.kz", "Almatybank12 LLP — almatybank12.kz")
    book.infect("almatybank12.kz", "/login.php", "phishing", title=PHISHING_TITLE)
    book.add("dala-shop.com.kz", "Dala-Shop LLP — dala-shop.com.kz")
    book.infect("dala-shop.com.kz", "/files/invoice.exe", "malware")
    book.infect("dala-shop.com.kz", "/upd/setup.zip", "malware")
    book.infect("dala-shop.com.kz", "/bins/x86", "malware")
    book.infect("dala-shop.com.kz", "/doc/report.js", "malware")
    book.add("xn--80aaaqf3awkkv88gbh.xn--80ao21a", "Дала — даладүкен.қаз")
    book.infect("xn--80aaaqf3awkkv88gbh.xn--80ao21a", "/", "defacement", actor="Red Fox Team")
    book.add("kusaru7.kz", "Kusaru7 LLP — kusaru7.kz")
    book.infect("kusaru7.kz", "/shell.php", "compromised", actor="n0name_tm")
    book.add("quiet.kz", "Quiet LLP — quiet.kz")
    return book


@pytest.fixture
def served() -> Iterator[SiteBook]:
    book = make_book()
    with network.running(book, address=ADDRESS, http_port=0, dns_port=0, fallback=False):
        yield book


def ask(book: SiteBook, name: str, rdtype: str = "A", *, tcp: bool = False) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    if tcp:
        return dns.query.tcp(query, book.address, port=book.dns_port, timeout=3)
    return dns.query.udp(query, book.address, port=book.dns_port, timeout=3)


def records(reply: dns.message.Message) -> list[str]:
    return [item.to_text() for rrset in reply.answer for item in rrset]


# The name server.


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_the_name_server_answers_for_the_demo_names_and_names_under_them(served: SiteBook, tcp: bool) -> None:
    for name in (
        "almatybank12.kz",
        "WWW.almatybank12.kz.",
        "shop.dala-shop.com.kz",
        "www.xn--80aaaqf3awkkv88gbh.xn--80ao21a",
    ):
        reply = ask(served, name, tcp=tcp)
        assert reply.rcode() == dns.rcode.NOERROR, name
        assert records(reply) == [ADDRESS], name
        assert reply.flags & dns.flags.AA
        assert reply.answer[0].ttl == 0  # the replay changes answers faster than a cache expires


def test_the_name_server_says_nxdomain_refused_and_nodata_where_it_should(served: SiteBook) -> None:
    unknown = ask(served, "no-such-site.kz")
    assert unknown.rcode() == dns.rcode.NXDOMAIN
    assert unknown.authority[0].rdtype == dns.rdatatype.SOA
    assert ask(served, "example.com").rcode() == dns.rcode.REFUSED
    assert ask(served, "almatybank12.kz.example.com").rcode() == dns.rcode.REFUSED
    chaos = dns.message.make_query("almatybank12.kz", "TXT", rdclass=dns.rdataclass.CH)
    assert dns.query.udp(chaos, served.address, port=served.dns_port, timeout=3).rcode() == dns.rcode.REFUSED
    no_aaaa = ask(served, "almatybank12.kz", "AAAA")
    assert no_aaaa.rcode() == dns.rcode.NOERROR and not no_aaaa.answer and no_aaaa.authority
    apex = ask(served, "kz", "SOA")
    assert apex.rcode() == dns.rcode.NOERROR and apex.answer[0].rdtype == dns.rdatatype.SOA


def test_a_name_taken_out_of_the_dns_stops_resolving_at_once(served: SiteBook) -> None:
    assert records(ask(served, "www.almatybank12.kz")) == [ADDRESS]
    served.unpublish("almatybank12.kz")
    assert ask(served, "www.almatybank12.kz").rcode() == dns.rcode.NXDOMAIN
    served.clean("almatybank12.kz")  # cleaning the site puts it back
    assert records(ask(served, "www.almatybank12.kz")) == [ADDRESS]


def test_the_name_server_survives_malformed_queries(served: SiteBook) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.5)
        target = (served.address, served.dns_port)
        # Shorter than a header: nothing comes back.
        sock.sendto(b"\x12", target)
        with pytest.raises(TimeoutError):
            sock.recv(512)
        # A header with a broken question: FORMERR, with the query's id.
        sock.sendto(b"\xbe\xef\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07broken", target)
        reply = sock.recv(512)
        assert reply[:2] == b"\xbe\xef"
        assert struct.unpack("!H", reply[2:4])[0] & 0xF == dns.rcode.FORMERR
        # A response sent to it is never answered (no loops between servers).
        response = dns.message.make_response(dns.message.make_query("almatybank12.kz", "A"))
        sock.sendto(response.to_wire(), target)
        with pytest.raises(TimeoutError):
            sock.recv(512)
    # TCP: a length that promises more than comes, then a closed connection.
    with socket.create_connection((served.address, served.dns_port), timeout=3) as sock:
        sock.sendall(b"\x00\x40garbage")
    with socket.create_connection((served.address, served.dns_port), timeout=3) as sock:
        sock.sendall(b"\x00\x0e" + b"\x00" * 14)  # a 14-byte "query" of zeros: answered, not fatal
        size = struct.unpack("!H", sock.recv(2))[0]
        assert size >= 12
    # Both transports still answer.
    assert records(ask(served, "almatybank12.kz")) == [ADDRESS]
    assert records(ask(served, "almatybank12.kz", tcp=True)) == [ADDRESS]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_no_packet_breaks_the_answer(wire: bytes) -> None:
    reply = answer(make_book(), wire)
    if reply is not None:
        assert len(reply) >= 12
        assert dns.message.from_wire(reply).flags & dns.flags.QR


def test_a_query_with_a_mangled_valid_start_is_answered_or_ignored() -> None:
    book = make_book()
    wire = dns.message.make_query("www.almatybank12.kz", "A", use_edns=0).to_wire()
    for cut in range(len(wire)):
        for mangled in (wire[:cut], wire[:cut] + b"\xff" * 5):
            reply = answer(book, mangled)
            assert reply is None or reply[:2] == wire[:2]


# The sites.


def get(book: SiteBook, host: str, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(book.address, book.http_port, timeout=5)
    try:
        connection.request(method, path, headers={"Host": f"{host}:{book.http_port}"})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_each_attackers_page_is_served_as_what_it_is(served: SiteBook) -> None:
    status, headers, body = get(served, "www.almatybank12.kz", "/login.php")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert f"<title>{PHISHING_TITLE}</title>".encode() in body and b'type="password"' in body
    for path, start, kind in [
        ("/files/invoice.exe", b"MZ", "application/x-msdownload"),
        ("/upd/setup.zip", b"PK\x03\x04", "application/zip"),
        ("/bins/x86", b"\x7fELF", "application/octet-stream"),
        ("/doc/report.js", b"var u=", "application/octet-stream"),
    ]:
        status, headers, body = get(served, "dala-shop.com.kz", path)
        assert status == 200 and body.startswith(start) and headers["Content-Type"] == kind, path
        assert get(served, "dala-shop.com.kz", path)[2] == body  # the same payload every time
    status, _, body = get(served, "xn--80aaaqf3awkkv88gbh.xn--80ao21a", "/")
    assert status == 200 and b"Hacked by Red Fox Team" in body
    status, _, body = get(served, "kusaru7.kz", "/shell.php")
    assert status == 200 and b"Owned by n0name_tm" in body
    status, headers, body = get(served, "almatybank12.kz", "/login.php", method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0


def test_fixed_gone_and_unknown_sites(served: SiteBook) -> None:
    status, _, body = get(served, "quiet.kz", "/")
    assert status == 200 and b"Quiet LLP" in body and b"password" not in body
    served.clean("almatybank12.kz")
    assert get(served, "almatybank12.kz", "/login.php")[0] == 404
    assert get(served, "almatybank12.kz", "/")[0] == 200  # the owner's own site
    served.clean("xn--80aaaqf3awkkv88gbh.xn--80ao21a")
    status, _, body = get(served, "xn--80aaaqf3awkkv88gbh.xn--80ao21a", "/index.html")
    assert status == 200 and b"Hacked" not in body
    served.take_down("dala-shop.com.kz")
    assert get(served, "dala-shop.com.kz", "/")[0] == 404
    assert get(served, "dala-shop.com.kz", "/files/invoice.exe")[0] == 404
    assert get(served, "not-a-demo-site.kz", "/")[0] == 404
    assert get(served, "", "/")[0] == 404


def checked(
    book: SiteBook, url: str, category: str, reference: Reference | None = None, **evidence: str
) -> tuple[str, str, int | None]:
    """The real checker's fetch (names looked up in the demo's name server) and verdict of a demo page."""
    from django.test import override_settings

    with override_settings(**network.checker_settings(book)):
        [fetched] = fetch([url])
    if fetched.status is not None:
        assert fetched.addresses == [book.address]
    rules = [Rule(kind, parameters) for kind, parameters in RULES[category]]
    outcome = decide(fetched, rules, reference, evidence)
    return outcome.verdict, outcome.reason, fetched.status


def test_the_checker_finds_the_pages_present_and_then_gone(served: SiteBook) -> None:
    url = served.url
    assert checked(served, url("www.almatybank12.kz", "/login.php"), "phishing")[0] == "present"
    assert checked(served, url("dala-shop.com.kz", "/files/invoice.exe"), "malware")[0] == "present"
    assert checked(served, url("dala-shop.com.kz", "/doc/report.js"), "malware")[0] == "present"
    defaced = url("xn--80aaaqf3awkkv88gbh.xn--80ao21a", "/")
    verdict, reason, _ = checked(served, defaced, "defacement", defacer="Red Fox Team")
    assert (verdict, reason) == ("present", "the marker 'hacked by' is still on the page")
    assert checked(served, url("kusaru7.kz", "/shell.php"), "compromised")[0] == "present"

    for name in ("almatybank12.kz", "xn--80aaaqf3awkkv88gbh.xn--80ao21a"):
        served.clean(name)
    served.take_down("dala-shop.com.kz")
    served.unpublish("kusaru7.kz")
    assert checked(served, url("www.almatybank12.kz", "/login.php"), "phishing") == (
        "gone",
        "the server answers 404",
        404,
    )
    assert checked(served, url("dala-shop.com.kz", "/files/invoice.exe"), "malware")[:2] == (
        "gone",
        "the server answers 404",
    )
    reference = Reference(title="Hacked by Red Fox Team")
    verdict, reason, status = checked(served, defaced, "defacement", reference, defacer="Red Fox Team")
    assert (verdict, status) == ("gone", 200) and reason == "the page no longer looks like the reported one"
    verdict, reason, status = checked(served, url("kusaru7.kz", "/shell.php"), "compromised")
    assert (verdict, status) == ("unreachable", None) and "kusaru7.kz" in reason


# The site book on disk.


def test_the_site_book_is_saved_and_read_back(tmp_path: Path) -> None:
    book = make_book()
    book.take_down("dala-shop.com.kz")
    book.unpublish("kusaru7.kz")
    book.http_port, book.dns_port = 8080, 5353
    book.save(tmp_path / "sites.json")
    again = SiteBook.load(tmp_path / "sites.json")
    assert again.to_json() == book.to_json()
    assert again.url("www.quiet.kz", "/") == "http://www.quiet.kz:8080/"
    assert SiteBook().url("quiet.kz", "/a") == "http://quiet.kz/a"


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("", "not a demo site book"),
        ("[]", "the file is []"),
        ('{"version": 9}', "version is 9"),
        ('{"version": 1, "zones": "kz"}', "zones is 'kz'"),
        (
            '{"version": 1, "zones": [], "address": "127.77.0.1", "http_port": 0, "dns_port": 53, "sites": {}}',
            "http_port is 0",
        ),
        (
            '{"version": 1, "zones": [], "address": "127.77.0.1", "http_port": true, "dns_port": 53, "sites": {}}',
            "http_port is True",
        ),
        (
            '{"version": 1, "zones": [], "address": "127.77.0.1", "http_port": 80, "dns_port": 53,'
            ' "sites": {"a.kz": {"title": "A", "state": "burning"}}}',
            "sites['a.kz'].state is 'burning'",
        ),
        (
            '{"version": 1, "zones": [], "address": "127.77.0.1", "http_port": 80, "dns_port": 53,'
            ' "sites": {"a.kz": {"title": "A", "state": "up", "pages": {"/x": {"category": 5}}}}}',
            "sites['a.kz'].pages['/x'].category is 5",
        ),
    ],
)
def test_a_broken_site_book_is_refused_naming_the_file_and_field(
    tmp_path: Path, content: str, named: str
) -> None:
    path = tmp_path / "sites.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SiteBookError) as refused:
        SiteBook.load(path)
    assert str(path) in str(refused.value) and named in str(refused.value)
    with pytest.raises(SiteBookError, match="run `zonewarden demo` first"):
        SiteBook.load(tmp_path / "missing.json")


# Starting the network.


def test_the_servers_stay_on_loopback() -> None:
    for address in ("10.1.2.3", "192.0.2.1", "::", "localhost"):
        with pytest.raises(network.DemoNetworkError):
            network.start(SiteBook(), address=address, http_port=0, dns_port=0)


def test_a_taken_port_falls_back_to_a_free_one_and_says_so(served: SiteBook) -> None:
    said: list[str] = []
    second = SiteBook()
    with network.running(
        second, address=ADDRESS, http_port=served.http_port, dns_port=served.dns_port, say=said.append
    ):
        assert second.http_port not in (0, served.http_port)
        assert second.dns_port not in (0, served.dns_port)
        assert second.url("a.kz", "/") == f"http://a.kz:{second.http_port}/"
    assert len(said) == 2 and all("the port is taken" in line for line in said)
    with pytest.raises(network.DemoNetworkError, match="cannot listen"):
        network.start(SiteBook(), address=ADDRESS, http_port=served.http_port, dns_port=0, fallback=False)


def test_the_checker_environment_names_the_demo_name_server_and_allows_its_address(served: SiteBook) -> None:
    environment = network.checker_environment(served, {"ZONEWARDEN_CHECK_ALLOW": "", "HOME": "/root"})
    assert environment["ZONEWARDEN_CHECK_DNS"] == "true"
    assert environment["ZONEWARDEN_CHECK_NAMESERVERS"] == f"{ADDRESS}:{served.dns_port}"
    assert environment["ZONEWARDEN_CHECK_ALLOW"].split(",")[-1] == ADDRESS
    assert environment["HOME"] == "/root"
