"""WHOIS for the .kz and .қаз zones: a parser, an RFC 3912 client and a loopback test server.

Pure Python on purpose (no Django imports), so it can be tested and reused on its own;
the Django side stores what `parse_kz_whois(...).to_json()` returns.
"""

from __future__ import annotations

from zonewarden.whois.client import (
    DEFAULT_SERVERS,
    RateLimiter,
    WhoisAnswerTooLarge,
    WhoisConnectionError,
    WhoisConnectionRefused,
    WhoisEmptyAnswer,
    WhoisError,
    WhoisInvalidName,
    WhoisTimeout,
    WhoisUnknownZone,
    lookup,
    query_whois,
    server_for,
)
from zonewarden.whois.parser import (
    AdminContact,
    NameServer,
    Registrant,
    WhoisRecord,
    parse_kz_whois,
    to_alabel,
)

__all__ = [
    "DEFAULT_SERVERS",
    "AdminContact",
    "NameServer",
    "RateLimiter",
    "Registrant",
    "WhoisAnswerTooLarge",
    "WhoisConnectionError",
    "WhoisConnectionRefused",
    "WhoisEmptyAnswer",
    "WhoisError",
    "WhoisInvalidName",
    "WhoisRecord",
    "WhoisTimeout",
    "WhoisUnknownZone",
    "lookup",
    "parse_kz_whois",
    "query_whois",
    "server_for",
    "to_alabel",
]
