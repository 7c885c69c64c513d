"""URL normalization: one canonical form per reported page, its registered domain, the zone filter."""

from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zonewarden.intake.normalize import (
    MAX_URL_LENGTH,
    BadURL,
    NormalizedURL,
    in_zones,
    incident_key,
    normalize_url,
    registered_domain,
)

ZONES = ("kz", "xn--80ao21a")


def url(raw: str) -> str:
    """Return the canonical string of a URL."""
    return normalize_url(raw).url


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("hxxp://evil[.]kz/a.exe", "http://evil.kz/a.exe"),
        ("hXXps://evil[.]kz/login", "https://evil.kz/login"),
        ("hxxps[:]//evil(.)kz/", "https://evil.kz/"),
        ("hxxp[://]evil[dot]kz/x", "http://evil.kz/x"),
        ("HXXP://www[.]evil[.]kz/payload[.]exe", "http://www.evil.kz/payload.exe"),
        ("evil[.]kz/path", "http://evil.kz/path"),
    ],
)
def test_defanged_url_is_restored(raw: str, expected: str) -> None:
    assert url(raw) == expected


def test_a_bracketed_dot_in_the_path_of_a_plain_url_is_left_as_it_was() -> None:
    assert url("http://evil.kz/wiki/a(.)b") == "http://evil.kz/wiki/a(.)b"


def test_a_bare_host_or_host_and_path_gets_http() -> None:
    assert url("evil.kz") == "http://evil.kz/"
    assert url("evil.kz/a/b?c=1") == "http://evil.kz/a/b?c=1"
    assert url("evil.kz:8080/x") == "http://evil.kz:8080/x"
    assert url("//evil.kz/x") == "http://evil.kz/x"


def test_scheme_and_host_are_lower_cased_but_path_and_query_are_kept_exactly() -> None:
    assert url("HTTPS://WWW.Evil.KZ/Login.PHP?Next=%2Fa&B=C") == "https://www.evil.kz/Login.PHP?Next=%2Fa&B=C"


def test_whitespace_around_the_url_is_stripped() -> None:
    assert url("  \thttp://evil.kz/x \r\n") == "http://evil.kz/x"


def test_user_info_is_dropped_so_a_trusted_name_before_the_at_sign_does_not_count() -> None:
    result = normalize_url("http://www.halykbank.kz:secure@evil.kz/login")

    assert result.url == "http://evil.kz/login"
    assert result.registered_domain == "evil.kz"


def test_a_trailing_dot_is_removed() -> None:
    assert normalize_url("http://Evil.KZ./a").host == "evil.kz"


@pytest.mark.parametrize(
    ("raw", "expected", "port"),
    [
        ("http://evil.kz:80/", "http://evil.kz/", None),
        ("https://evil.kz:443/", "https://evil.kz/", None),
        ("http://evil.kz:443/", "http://evil.kz:443/", 443),
        ("https://evil.kz:8443/x", "https://evil.kz:8443/x", 8443),
        ("ftp://evil.kz:21/f", "ftp://evil.kz/f", None),
        ("http://evil.kz:/x", "http://evil.kz/x", None),
    ],
)
def test_default_ports_are_dropped_and_others_kept(raw: str, expected: str, port: int | None) -> None:
    result = normalize_url(raw)

    assert (result.url, result.port) == (expected, port)


def test_the_fragment_is_dropped_and_an_empty_path_becomes_a_slash() -> None:
    assert url("http://evil.kz#top") == "http://evil.kz/"
    assert url("http://evil.kz?a=1#top") == "http://evil.kz/?a=1"
    assert url("http://evil.kz/a#b#c") == "http://evil.kz/a"


def test_an_idn_host_becomes_its_a_label() -> None:
    result = normalize_url("http://пример.қаз/вход?x=1")

    assert result.host == "xn--e1afmkfd.xn--80ao21a"
    assert result.registered_domain == "xn--e1afmkfd.xn--80ao21a"
    assert result.url == "http://xn--e1afmkfd.xn--80ao21a/вход?x=1"


def test_an_idn_host_with_capitals_and_full_width_dots_is_mapped_as_browsers_do() -> None:
    assert normalize_url("http://ПРИМЕР。ҚАЗ/").host == "xn--e1afmkfd.xn--80ao21a"


def test_a_host_given_as_a_label_is_kept() -> None:
    assert normalize_url("http://XN--E1AFMKFD.xn--80ao21a/").host == "xn--e1afmkfd.xn--80ao21a"


def test_an_underscore_in_a_host_name_is_accepted_as_browsers_do() -> None:
    assert normalize_url("http://my_shop.kz/").registered_domain == "my_shop.kz"


@pytest.mark.parametrize(
    ("raw", "host", "shown"),
    [
        ("http://[2001:DB8::1]/i", "2001:db8::1", "http://[2001:db8::1]/i"),
        ("http://[2001:db8:0:0::1]:8080/i", "2001:db8::1", "http://[2001:db8::1]:8080/i"),
        ("https://[::ffff:192.0.2.1]:443", "::ffff:c000:201", "https://[::ffff:c000:201]/"),
    ],
)
def test_an_ipv6_literal_in_brackets_is_an_ip_host(raw: str, host: str, shown: str) -> None:
    result = normalize_url(raw)

    assert (result.host, result.url, result.is_ip, result.registered_domain) == (host, shown, True, None)


@pytest.mark.parametrize(
    ("raw", "host"),
    [
        ("http://192.0.2.10:8080/i", "192.0.2.10"),
        ("http://3221225994/", "192.0.2.10"),
        ("http://0xc0.0.2.10/", "192.0.2.10"),
        ("http://0300.0.2.012/", "192.0.2.10"),
    ],
)
def test_an_ipv4_host_in_any_form_a_browser_accepts_is_an_ip_host(raw: str, host: str) -> None:
    result = normalize_url(raw)

    assert (result.host, result.is_ip, result.registered_domain) == (host, True, None)


def test_the_result_carries_every_part() -> None:
    assert normalize_url("HTTPS://user@Shop.Example.com.kz:8443/a?b#c") == NormalizedURL(
        url="https://shop.example.com.kz:8443/a?b",
        scheme="https",
        host="shop.example.com.kz",
        port=8443,
        is_ip=False,
        registered_domain="example.com.kz",
        path_and_query="/a?b",
    )


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("a.b.shop.com.kz", "shop.com.kz"),
        ("shop.org.kz", "shop.org.kz"),
        ("a.b.gov.kz", "b.gov.kz"),
        ("www.evil.kz", "evil.kz"),
        ("evil.kz", "evil.kz"),
        ("xn--e1afmkfd.xn--80ao21a", "xn--e1afmkfd.xn--80ao21a"),
        ("www.roblox.com.kz", "roblox.com.kz"),
        ("com.kz", None),
        ("kz", None),
        ("localhost", None),
        ("192.0.2.1", None),
        ("[2001:db8::1]", None),
    ],
)
def test_the_registered_domain_follows_the_public_suffix_list(host: str, expected: str | None) -> None:
    assert registered_domain(host) == expected


def test_private_suffixes_are_not_registered_domains_of_their_own() -> None:
    # Only the ICANN section counts: the registry acts on the name registered under the suffix.
    assert registered_domain("evil.blogspot.com") == "blogspot.com"


def test_a_single_label_host_has_no_registered_domain() -> None:
    result = normalize_url("http://intranet/login")

    assert (result.is_ip, result.registered_domain) == (False, None)


@pytest.mark.parametrize(
    ("domain", "inside"),
    [
        ("evil.kz", True),
        ("shop.com.kz", True),
        ("xn--e1afmkfd.xn--80ao21a", True),
        ("evil.com", False),
        ("kz.example.com", False),
        ("evilkz", False),
        ("EVIL.KZ.", True),
    ],
)
def test_the_zone_filter_keeps_names_under_the_zones(domain: str, inside: bool) -> None:
    assert in_zones(domain, ZONES) is inside


def test_zones_may_be_written_in_unicode_or_with_dots() -> None:
    assert in_zones("xn--e1afmkfd.xn--80ao21a", [".қаз"])
    assert in_zones("shop.com.kz", ["com.kz."])
    assert not in_zones("shop.org.kz", ["com.kz"])


def test_no_zones_means_nothing_is_inside() -> None:
    assert not in_zones("evil.kz", [])


def test_the_incident_key_is_the_sha256_of_category_and_url() -> None:
    expected = hashlib.sha256(b"phishing\nhttp://evil.kz/").hexdigest()

    assert incident_key("phishing", "http://evil.kz/") == expected
    assert incident_key("malware", "http://evil.kz/") != expected


def test_two_spellings_of_one_page_get_one_key() -> None:
    first = normalize_url("http://EVIL.kz./a.exe#x").url
    second = normalize_url("hxxp://user@evil[.]kz:80/a.exe").url

    assert incident_key("malware", first) == incident_key("malware", second)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("http://", "no host"),
        ("hxxp://", "no host"),
        ("javascript:alert(1)", "scheme 'javascript' is not accepted"),
        ("mailto:abuse@evil.kz", "scheme 'mailto' is not accepted"),
        ("file:///etc/passwd", "scheme 'file' is not accepted"),
        ("data:text/html,<b>x</b>", "scheme 'data' is not accepted"),
        ("http://evil.kz/a\nb", "control character U+000A"),
        ("http://evil\x00.kz/", "control character U+0000"),
        ("http://evil..kz/", "empty label"),
        ("http://evil kz/", "invalid label"),
        ("http://evil.kz:99999/", "port '99999'"),
        ("http://evil.kz:0/", "port '0'"),
        ("http://evil.kz:8o/", "port '8o'"),
        ("http://[2001:db8::1/", "closing bracket"),
        ("http://[2001:db8::zz]/", "not a valid IPv6 address"),
        ("http://[fe80::1%25eth0]/", "zone identifier"),
        ("http://2001:db8::1/", "must be in brackets"),
        ("http://256.1.1.1/", "not a valid IPv4 address"),
        ("http://1.2.3.4.5/", "not a valid IPv4 address"),
        ("http://xn--a.kz/", "invalid A-label"),
        ("http://" + "a" * 64 + ".kz/", "invalid label"),
        ("http://" + "a." * 130 + "kz/", "more than 253"),
        ("http://evil.kz/" + "a" * MAX_URL_LENGTH, f"more than {MAX_URL_LENGTH}"),
    ],
)
def test_an_unusable_url_is_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(BadURL, match=re.escape(reason)) as caught:
        normalize_url(raw)

    assert caught.value.reason == str(caught.value)


def test_bad_url_is_a_value_error() -> None:
    assert issubclass(BadURL, ValueError)


def test_a_url_of_exactly_the_limit_is_accepted() -> None:
    raw = "http://evil.kz/" + "a" * (MAX_URL_LENGTH - len("http://evil.kz/"))

    assert normalize_url(raw).url == raw


# The plain-URL shortcut in normalize_url must give what the general path gives. A user-info part
# sends the same URL down the general path (which drops it), so the two results must be equal.
_HOST = st.from_regex(r"[A-Za-z0-9_\-]{1,12}(\.[A-Za-z0-9_\-]{1,12}){0,3}\.?", fullmatch=True)
_TAIL = st.from_regex(r"([/?#][ -~]{0,30})?", fullmatch=True)
_PORT = st.sampled_from(["", ":80", ":443", ":8080", ":0", ":99999", ":021"])


@settings(max_examples=400, deadline=None)
@given(scheme=st.sampled_from(["http", "HTTPS", "Http"]), host=_HOST, port=_PORT, tail=_TAIL)
def test_plain_shortcut_agrees_with_general_path(scheme: str, host: str, port: str, tail: str) -> None:
    def outcome(raw: str) -> NormalizedURL | str:
        try:
            return normalize_url(raw)
        except BadURL as exc:
            return f"BadURL: {exc.reason.replace('u@', '')}"

    plain = f"{scheme}://{host}{port}{tail}"
    assert outcome(plain) == outcome(f"{scheme}://u@{host}{port}{tail}")
