"""Turn a reported URL into one canonical form, find its registered domain, and key incidents by it.

The canonical form is what de-duplication compares, so two feeds reporting the same page must
end up with the same string: scheme and host are lower-cased, the host is an A-label without a
trailing dot, user-info, default ports and the fragment are dropped. The path and the query are
kept byte for byte, because they are the evidence (two different paths are two different pages).

Nothing here reaches the network: the public suffix list is the copy bundled with the
publicsuffixlist package.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

import idna
from publicsuffixlist import PublicSuffixList

__all__ = [
    "ACCEPTED_SCHEMES",
    "MAX_URL_LENGTH",
    "BadURL",
    "NormalizedURL",
    "in_zones",
    "incident_key",
    "normalize_url",
    "registered_domain",
]

MAX_URL_LENGTH = 4096
DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}
ACCEPTED_SCHEMES = frozenset(DEFAULT_PORTS)
# Big enough to hold every distinct host of a large feed file, small enough to stay a few MB.
_CACHE_SIZE = 1 << 16

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_AUTHORITY_END = re.compile(r"[/?#]")
# Letters, digits, hyphen and underscore: underscores are not valid in host names, but real
# phishing hosts use them and browsers resolve them, so they must not be lost.
_LABEL = re.compile(r"[a-z0-9_\-]{1,63}")
_ASCII_NAME = re.compile(r"(?:[a-z0-9_\-]{1,63}\.)*[a-z0-9_\-]{1,63}")
# The WHATWG "ends in a number" test: such a host is an IPv4 address or nothing.
_NUMBER = re.compile(r"[0-9]+|0x[0-9a-f]*")
_DEFANGED_SCHEME = re.compile(r"h(?:xx|\*\*)ps?(?=\[?:)", re.IGNORECASE)
_DEFANGED_NAME = re.compile(r"h(?:xx|\*\*)ps?", re.IGNORECASE)
_SCHEME_AND_SEPARATOR = re.compile(r"([A-Za-z][A-Za-z0-9+.*\-]*)(\[:\]//|\[://\]|\[:\]|:)")
# A URL normalize_url can take apart without the general path (no defanging, user-info, IPv6).
_PLAIN = re.compile(r"(?i)(https?)://([a-z0-9_.\-]+)(?::([0-9]{1,5}))?(?=[/?#]|\Z)")
_DEFANGED_DOT = re.compile(r"\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)", re.IGNORECASE)


class BadURL(ValueError):
    """A reported URL that cannot be used; `reason` says why, for a person to read."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class NormalizedURL:
    """A URL in canonical form with the parts intake decides on."""

    url: str
    scheme: str
    host: str
    port: int | None
    is_ip: bool
    registered_domain: str | None
    path_and_query: str


def normalize_url(raw: str) -> NormalizedURL:
    """Return the canonical form of a reported URL, or raise BadURL saying why it is unusable."""
    if not isinstance(raw, str):
        raise BadURL(f"expected text, got {type(raw).__name__}")
    if len(raw) > MAX_URL_LENGTH:
        raise BadURL(f"the URL is {len(raw)} characters long, more than {MAX_URL_LENGTH}")
    text = raw.strip()
    if not text:
        raise BadURL("the URL is empty")
    control = _CONTROL.search(text)
    if control is not None:
        raise BadURL(f"the URL contains the control character U+{ord(control.group()):04X}")
    plain = None if "[" in text or "(" in text or "{" in text else _PLAIN.match(text)
    if plain is not None:
        # Most feed URLs: http(s)://host[:port] and then the path; nothing to undo or split off.
        scheme = plain.group(1).lower()
        port = _port(plain.group(3) or "", scheme)
        host, is_ip, domain = _host_facts(plain.group(2))
        tail, bracketed = text[plain.end() :], False
    else:
        text = _refang(text)
        scheme, rest = _split_scheme(text)
        end = _AUTHORITY_END.search(rest)
        authority, tail = (rest[: end.start()], rest[end.start() :]) if end else (rest, "")
        # Everything before the last @ is user-info (phishers use it to show a trusted name first).
        authority = authority[authority.rfind("@") + 1 :]
        host_text, port_text, bracketed = _split_port(authority)
        port = _port(port_text, scheme)
        if bracketed:
            host, is_ip, domain = _ipv6(host_text), True, None
        else:
            host, is_ip, domain = _host_facts(host_text)

    fragment = tail.find("#")
    if fragment >= 0:
        tail = tail[:fragment]
    if not tail:
        path_and_query = "/"
    elif tail[0] == "?":
        path_and_query = "/" + tail
    else:
        path_and_query = tail

    shown_host = f"[{host}]" if bracketed else host
    netloc = shown_host if port is None else f"{shown_host}:{port}"
    return NormalizedURL(
        url=f"{scheme}://{netloc}{path_and_query}",
        scheme=scheme,
        host=host,
        port=port,
        is_ip=is_ip,
        registered_domain=domain,
        path_and_query=path_and_query,
    )


def _refang(text: str) -> str:
    """Undo the usual defanging (hxxp, [.], [:], [://]) that analysts apply to shared URLs."""
    if "[" not in text and "(" not in text and "{" not in text and not _DEFANGED_SCHEME.match(text):
        return text
    defanged = False
    scheme = _SCHEME_AND_SEPARATOR.match(text)
    if scheme is not None:
        name, separator = scheme.groups()
        defanged = separator != ":"
        if _DEFANGED_NAME.fullmatch(name):
            name, defanged = "https" if name[-1] in "sS" else "http", True
        text = f"{name}:{'' if separator in (':', '[:]') else '//'}{text[scheme.end() :]}"
    start = text.find("://")
    start = start + 3 if start >= 0 else 0
    end = _AUTHORITY_END.search(text, start)
    stop = end.start() if end else len(text)
    authority = text[start:stop]
    if defanged or "[:]" in authority or _DEFANGED_DOT.search(authority):
        # A defanged URL has its dots bracketed in the path too; a bracketed dot only in the path
        # of an otherwise plain URL is left alone, as the path is kept as it was reported.
        text = text[:start] + authority.replace("[:]", ":") + text[stop:]
        text = _DEFANGED_DOT.sub(".", text)
    return text


def _split_scheme(text: str) -> tuple[str, str]:
    """Return the lower-case scheme (http when none is given) and the rest after `//`."""
    match = _SCHEME.match(text)
    if match is None:
        return "http", text[2:] if text.startswith("//") else text
    candidate = match.group(1).lower()
    after = text[match.end() :]
    if candidate in ACCEPTED_SCHEMES:
        # Browsers take any number of slashes after a special scheme, so feeds contain such URLs.
        return candidate, after.lstrip("/")
    if after[:1] in ("", "/") and "." not in candidate:
        raise BadURL(f"the scheme {candidate!r} is not accepted (only {', '.join(sorted(ACCEPTED_SCHEMES))})")
    if after == "" or after[:1].isdigit() or after[:1] in "/?#":
        # "evil.kz:8080/x" is a bare host with a port, not a URL with the scheme "evil.kz".
        return "http", text
    raise BadURL(f"the scheme {candidate!r} is not accepted (only {', '.join(sorted(ACCEPTED_SCHEMES))})")


def _split_port(authority: str) -> tuple[str, str, bool]:
    """Split host and port text; say whether the host was a bracketed IPv6 literal."""
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            raise BadURL("the IPv6 address has no closing bracket")
        after = authority[close + 1 :]
        if after and after[0] != ":":
            raise BadURL(f"unexpected text {after!r} after the IPv6 address")
        return authority[1:close], after[1:], True
    colons = authority.count(":")
    if colons == 0:
        return authority, "", False
    if colons > 1:
        raise BadURL("an IPv6 address in a URL must be in brackets")
    host, _, port = authority.partition(":")
    return host, port, False


def _port(text: str, scheme: str) -> int | None:
    """Return the port as a number, or None when it is absent or the scheme's default."""
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 5:
        raise BadURL(f"the port {text!r} is not a number from 1 to 65535")
    port = int(text)
    if not 0 < port <= 65535:
        raise BadURL(f"the port {text!r} is not a number from 1 to 65535")
    return None if DEFAULT_PORTS.get(scheme) == port else port


@functools.lru_cache(maxsize=4096)
def _ipv6(text: str) -> str:
    """Return the compressed lower-case form of an IPv6 literal."""
    if "%" in text:
        raise BadURL("an IPv6 zone identifier has no place in a reported URL")
    try:
        return ipaddress.IPv6Address(text).compressed
    except ValueError:
        raise BadURL(f"{text!r} is not a valid IPv6 address") from None


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _host_facts(text: str) -> tuple[str, bool, str | None]:
    """Return the canonical host, whether it is an IPv4 address, and its registered domain."""
    host, is_ip = _canonical_host(text)
    return host, is_ip, None if is_ip else _find_registered_domain(host)


def _canonical_host(text: str) -> tuple[str, bool]:
    """Return the host as a lower-case A-label name or dotted IPv4, and whether it is an address."""
    host = unquote(text) if "%" in text else text
    if not host.isascii():
        try:
            # UTS 46 mapping lower-cases and turns full-width dots and digits into ASCII ones.
            host = idna.uts46_remap(host, std3_rules=False, transitional=False)
        except UnicodeError as exc:
            raise BadURL(f"the host {text!r} is not a valid internationalised name: {exc}") from None
    host = host.lower()
    if host.endswith("."):
        host = host[:-1]
    if not host:
        raise BadURL("the URL has no host")
    if _NUMBER.fullmatch(host[host.rfind(".") + 1 :]):
        # Browsers read a host ending in a number as an IPv4 address (even 0x7f.1 or 3232235777).
        return _ipv4(host.split("."), text), True
    if _ASCII_NAME.fullmatch(host):
        name = host  # the common case: nothing to encode
        if "xn--" in name:
            for label in name.split("."):
                if label.startswith("xn--"):
                    _check_a_label(label, text)
    else:
        name = ".".join(_encode_label(label, text) for label in host.split("."))
    if len(name) > 253:
        raise BadURL(f"the host name is {len(name)} characters long, more than 253")
    return name, False


def _encode_label(label: str, host: str) -> str:
    """Return one label as an A-label, or raise BadURL saying what is wrong with it."""
    if label.isascii():
        if not _LABEL.fullmatch(label):
            what = "an empty label" if not label else f"the invalid label {label!r}"
            raise BadURL(f"the host {host!r} has {what}")
        if label.startswith("xn--"):
            _check_a_label(label, host)
        return label
    try:
        return idna.encode(label, uts46=True).decode("ascii")
    except UnicodeError as exc:
        raise BadURL(f"the host {host!r} is not a valid internationalised name: {exc}") from None


def _check_a_label(label: str, host: str) -> None:
    """Refuse an xn-- label that does not decode, as no browser would resolve it."""
    try:
        idna.decode(label)
    except UnicodeError:
        raise BadURL(f"the host {host!r} has the invalid A-label {label!r}") from None


def _ipv4(parts: list[str], text: str) -> str:
    """Read a numeric host the way browsers do (WHATWG URL) and return dotted-quad form."""
    if len(parts) > 4 or "" in parts:
        raise BadURL(f"the host {text!r} is not a valid IPv4 address")
    numbers = []
    for part in parts:
        try:
            if part[:2] == "0x":
                numbers.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part[0] == "0":
                numbers.append(int(part, 8))
            else:
                numbers.append(int(part, 10))
        except ValueError:
            raise BadURL(f"the host {text!r} is not a valid IPv4 address") from None
    *leading, last = numbers
    if any(number > 255 for number in leading) or last >= 256 ** (5 - len(numbers)):
        raise BadURL(f"the host {text!r} is not a valid IPv4 address")
    address = last
    for index, number in enumerate(leading):
        address += number << (8 * (3 - index))
    return str(ipaddress.IPv4Address(address))


@functools.cache
def _psl() -> PublicSuffixList:
    """Return the one public suffix list (ICANN section only), built on first use."""
    # only_icann: private entries such as blogspot.com would make every blog its own "domain",
    # while the registry acts on the name registered under the ICANN suffix.
    return PublicSuffixList(only_icann=True)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def registered_domain(host: str) -> str | None:
    """Return the registered domain of a host (shop.com.kz for a.b.shop.com.kz), None for none."""
    name = host.lower().rstrip(".")
    if not name or name.startswith("[") or ":" in name or _NUMBER.fullmatch(name[name.rfind(".") + 1 :]):
        return None  # an IP literal has no registered domain
    return _find_registered_domain(name)


def _find_registered_domain(name: str) -> str | None:
    """Look a lower-case A-label name up in the public suffix list."""
    found: str | None = _psl().privatesuffix(name)
    return found


@functools.lru_cache(maxsize=256)
def _zone_suffix(zone: str) -> str:
    """Return a zone as ".a-label" for suffix matching."""
    name = zone.strip().strip(".").lower()
    if not name.isascii():
        name = idna.encode(name, uts46=True).decode("ascii")
    return "." + name


@functools.lru_cache(maxsize=64)
def _zone_suffixes(zones: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_zone_suffix(zone) for zone in zones)


def in_zones(registered_domain: str, zones: Iterable[str]) -> bool:
    """Say whether a registered domain lies in one of the zones (A-label TLDs or suffixes)."""
    suffixes = _zone_suffixes(zones if isinstance(zones, tuple) else tuple(zones))
    return ("." + registered_domain.lower().rstrip(".")).endswith(suffixes)


def incident_key(category: str, url: str) -> str:
    """Return the de-duplication key of an incident: hex SHA-256 of category, newline, URL."""
    return hashlib.sha256(f"{category}\n{url}".encode()).hexdigest()
