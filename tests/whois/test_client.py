"""The RFC 3912 client end to end against a real WHOIS server on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from zonewarden.whois.client import (
    RateLimiter,
    WhoisAnswerTooLarge,
    WhoisConnectionRefused,
    WhoisEmptyAnswer,
    WhoisError,
    WhoisInvalidName,
    WhoisTimeout,
    WhoisUnknownZone,
    lookup,
    parse_endpoint,
    query_whois,
    server_for,
)
from zonewarden.whois.testserver import NOT_FOUND_ANSWER, WhoisTestServer

SAMPLES = Path(__file__).resolve().parent / "samples"
REGISTERED = (SAMPLES / "current_statuses_ipv6.txt").read_text(encoding="utf-8")
UNICODE = (SAMPLES / "current_unicode_zoneless.txt").read_text(encoding="utf-8")
IDN_ALABEL = "xn--80awbu3c.xn--80ao21a"


@pytest.fixture
def server() -> Iterator[WhoisTestServer]:
    """Run a test server that knows tulpar-sauda.kz and мысал.қаз."""
    with WhoisTestServer({"tulpar-sauda.kz": REGISTERED, IDN_ALABEL: UNICODE}) as running:
        yield running


def test_a_registered_name_is_answered_and_parsed(server: WhoisTestServer) -> None:
    record = lookup("tulpar-sauda.kz", {"kz": f"127.0.0.1:{server.port}"}, timeout=5)

    assert record.found is True
    assert record.registrar == "PS.KZ"
    assert record.admin.email == "admin@tulpar-sauda.kz"
    assert server.queries == ["tulpar-sauda.kz"]


def test_the_raw_answer_is_returned_as_sent(server: WhoisTestServer) -> None:
    assert query_whois("tulpar-sauda.kz", "127.0.0.1", server.port, timeout=5) == REGISTERED


def test_an_unknown_name_gets_the_not_found_answer(server: WhoisTestServer) -> None:
    raw = query_whois("no-such-name.kz", "127.0.0.1", server.port, timeout=5)

    assert raw == NOT_FOUND_ANSWER
    assert lookup("no-such-name.kz", {"kz": f"127.0.0.1:{server.port}"}, timeout=5).found is False


def test_a_unicode_query_arrives_at_the_server_as_its_a_label(server: WhoisTestServer) -> None:
    record = lookup("мысал.қаз", {"қаз": f"127.0.0.1:{server.port}"}, timeout=5)

    assert server.queries == [IDN_ALABEL]
    assert record.found is True
    assert record.domain == IDN_ALABEL


def test_the_query_line_is_the_name_and_crlf() -> None:
    received: list[bytes] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:

        def answer_once() -> None:
            connection, _ = listener.accept()
            with connection:
                received.append(connection.recv(100))
                connection.sendall(b"ok\n")

        thread = threading.Thread(target=answer_once)
        thread.start()
        query_whois("Tulpar-Sauda.KZ", "127.0.0.1", listener.getsockname()[1], timeout=5)
        thread.join(5)

    assert received == [b"tulpar-sauda.kz\r\n"]


def test_a_slow_server_raises_timeout_naming_the_server() -> None:
    with WhoisTestServer({}, delay=10) as slow:
        started = time.monotonic()
        with pytest.raises(
            WhoisTimeout, match=rf"127\.0\.0\.1:{slow.port} did not finish answering within 0\.3 s"
        ):
            query_whois("tulpar-sauda.kz", "127.0.0.1", slow.port, timeout=0.3)

    assert time.monotonic() - started < 3


def test_a_server_trickling_bytes_cannot_outlast_the_timeout() -> None:
    with WhoisTestServer({}, default="x" * 4000, drip_interval=0.02, drip_bytes=1) as trickling:
        started = time.monotonic()
        with pytest.raises(WhoisTimeout):
            query_whois("tulpar-sauda.kz", "127.0.0.1", trickling.port, timeout=0.4)

    assert time.monotonic() - started < 3


def test_an_answer_over_the_cap_raises_too_large() -> None:
    with WhoisTestServer({}, default="A" * (300 * 1024)) as huge:
        with pytest.raises(
            WhoisAnswerTooLarge, match=rf"127\.0\.0\.1:{huge.port} sent more than 262144 bytes"
        ):
            query_whois("tulpar-sauda.kz", "127.0.0.1", huge.port, timeout=5)


def test_an_answer_exactly_at_the_cap_is_accepted() -> None:
    with WhoisTestServer({}, default="B" * 1000) as exact:
        assert len(query_whois("tulpar-sauda.kz", "127.0.0.1", exact.port, timeout=5, max_bytes=1000)) == 1000
        with pytest.raises(WhoisAnswerTooLarge):
            query_whois("tulpar-sauda.kz", "127.0.0.1", exact.port, timeout=5, max_bytes=999)


def test_a_server_closing_without_answering_raises_empty_answer_not_not_found() -> None:
    with WhoisTestServer({}, close_without_answer=True) as closing:
        with pytest.raises(WhoisEmptyAnswer, match="closed the connection without answering"):
            query_whois("tulpar-sauda.kz", "127.0.0.1", closing.port, timeout=5)

    assert closing.queries == ["tulpar-sauda.kz"]


def test_a_refused_connection_names_the_server() -> None:
    # A bound socket that does not listen keeps the port ours and refuses connections.
    with socket.socket() as idle:
        idle.bind(("127.0.0.1", 0))
        port = idle.getsockname()[1]
        with pytest.raises(
            WhoisConnectionRefused, match=rf"127\.0\.0\.1:{port} refused the connection"
        ) as info:
            query_whois("tulpar-sauda.kz", "127.0.0.1", port, timeout=5)

    assert info.value.server == f"127.0.0.1:{port}"
    assert isinstance(info.value, WhoisError)


def test_an_invalid_name_is_refused_before_connecting(server: WhoisTestServer) -> None:
    with pytest.raises(WhoisInvalidName, match="not a valid domain name"):
        query_whois("tulpar-sauda.kz\r\nnic.kz", "127.0.0.1", server.port, timeout=5)

    assert server.queries == []


def test_bytes_that_are_not_utf8_are_replaced_not_fatal() -> None:
    with WhoisTestServer({}, default="Name: Ерлан ".encode() + b"\xff\xfe cp1251 \xc5\xf0\n") as odd:
        raw = query_whois("tulpar-sauda.kz", "127.0.0.1", odd.port, timeout=5)

    assert raw.startswith("Name: Ерлан \ufffd\ufffd cp1251 ")


def test_the_rate_limiter_spaces_queries_to_the_same_server(server: WhoisTestServer) -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(2.0, clock=lambda: now[0], sleep=sleep)
    query_whois("tulpar-sauda.kz", "127.0.0.1", server.port, timeout=5, rate_limiter=limiter)
    query_whois("tulpar-sauda.kz", "127.0.0.1", server.port, timeout=5, rate_limiter=limiter)

    assert slept == [2.0]
    assert len(server.queries) == 2


@pytest.mark.parametrize(
    ("domain", "servers", "expected"),
    [
        ("tulpar-sauda.kz", {}, ("whois.nic.kz", 43)),
        ("мысал.қаз", {}, ("whois.nic.kz", 43)),
        (IDN_ALABEL, {}, ("whois.nic.kz", 43)),
        ("tulpar-sauda.kz", {"kz": "127.0.0.1:4343"}, ("127.0.0.1", 4343)),
        ("tulpar-sauda.kz", {".KZ": "whois.example.kz"}, ("whois.example.kz", 43)),
        ("мысал.қаз", {"қаз": "[::1]:4343"}, ("::1", 4343)),
        ("мысал.қаз", {"xn--80ao21a": "::1"}, ("::1", 43)),
    ],
)
def test_the_server_map_picks_the_zone_server_with_kaznic_as_default(
    domain: str, servers: dict[str, str], expected: tuple[str, int]
) -> None:
    assert server_for(domain, servers) == expected


def test_a_zone_without_a_server_raises_unknown_zone() -> None:
    with pytest.raises(WhoisUnknownZone, match=r"no WHOIS server is configured for \.com"):
        server_for("example.com", {})


@pytest.mark.parametrize(
    "endpoint", ["", "host:", "host:0", "host:65536", "host:4x", "[::1", "[::1]x", "a b:43"]
)
def test_a_malformed_server_address_raises_value_error(endpoint: str) -> None:
    with pytest.raises(ValueError, match="malformed WHOIS server"):
        parse_endpoint(endpoint)
