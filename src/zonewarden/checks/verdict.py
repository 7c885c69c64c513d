"""Turn what a fetch showed into a verdict, by the category's rules (data, see VerdictRule).

The first successful check of an incident is its reference: later checks compare their title,
fuzzy hash and payload hash with it. Everything here is pure: page bytes in, findings out.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from zonewarden.checks.fetch import Fetched

MAGIC = {
    b"MZ": "a Windows executable",
    b"\x7fELF": "an ELF executable",
    b"PK\x03\x04": "a ZIP archive (or APK/JAR)",
    b"Rar!": "a RAR archive",
    b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive",
    b"\x1f\x8b": "a gzip file",
    b"#!/": "a script",
}
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_PASSWORD = re.compile(rb"<input\b[^>]*\btype\s*=\s*[\"']?password", re.IGNORECASE)
_FORM = re.compile(rb"<form\b", re.IGNORECASE)
_TAGS = re.compile(r"<script\b.*?</script>|<style\b.*?</style>|<[^>]+>", re.IGNORECASE | re.DOTALL)
_WORDS = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Page:
    """The facts a verdict looks at, read from a fetch."""

    status: int | None
    content_type: str
    sha256: str
    title: str
    simhash: str
    credential_form: bool
    text: str
    magic: str | None


def _charset(fetched: Fetched) -> str:
    match = re.search(r"charset=([\w-]+)", fetched.headers.get("Content-Type", ""), re.IGNORECASE)
    return match.group(1) if match else "utf-8"


def page_text(body: bytes, charset: str = "utf-8") -> str:
    try:
        text = body.decode(charset, "replace")
    except LookupError:
        text = body.decode("utf-8", "replace")
    return html.unescape(_TAGS.sub(" ", text))


def simhash(text: str) -> str:
    """A 64-bit SimHash of the text's word 3-shingles, as 16 hex digits ("" for too little text)."""
    words = [word.lower() for word in _WORDS.findall(text)][:20000]
    shingles = [" ".join(words[i : i + 3]) for i in range(max(len(words) - 2, 0))] or words
    if not shingles:
        return ""
    weights = [0] * 64
    for shingle in shingles:
        value = int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest(), "big")
        for bit in range(64):
            weights[bit] += 1 if value >> bit & 1 else -1
    number = sum(1 << bit for bit in range(64) if weights[bit] > 0)
    return f"{number:016x}"


def similarity(first: str, second: str) -> float:
    """1.0 for equal fuzzy hashes, 0.5 for unrelated texts, down to 0 for opposite ones."""
    if not first or not second:
        return 0.0
    return 1 - bin(int(first, 16) ^ int(second, 16)).count("1") / 64


def read_page(fetched: Fetched) -> Page:
    body = fetched.body
    title_match = _TITLE.search(body[:200000])
    charset = _charset(fetched)
    title = page_text(title_match.group(1), charset).strip()[:500] if title_match else ""
    is_markup = "html" in fetched.content_type or body.lstrip()[:1] == b"<"
    text = page_text(body, charset) if is_markup else ""
    magic = next((what for prefix, what in MAGIC.items() if body.startswith(prefix)), None)
    return Page(
        status=fetched.status,
        content_type=fetched.content_type,
        sha256=fetched.sha256,
        title=" ".join(title.split()),
        simhash=simhash(text) if is_markup else "",
        credential_form=bool(is_markup and _FORM.search(body) and _PASSWORD.search(body)),
        text=text,
        magic=magic,
    )


@dataclass(frozen=True)
class Reference:
    """What the incident looked like at its first successful check."""

    title: str = ""
    simhash: str = ""
    sha256: str = ""


@dataclass(frozen=True)
class Rule:
    kind: str
    parameters: dict[str, Any]


def judge(
    page: Page, rules: Sequence[Rule], reference: Reference | None, evidence: dict[str, Any]
) -> tuple[bool, str]:
    """Say whether the incident is still there by the rules, and why."""
    if page.status is not None and page.status >= 400:
        return False, f"the server answers {page.status}"
    for rule in rules:
        found = _holds(rule, page, reference, evidence)
        if found:
            return True, found
    if reference is None:
        return False, "the page shows none of the signs of this category"
    return False, "the page no longer looks like the reported one"


def _markers(rule: Rule, evidence: dict[str, Any]) -> Iterable[str]:
    yield from (str(marker) for marker in rule.parameters.get("markers", []))
    for key in ("marker", "defacer"):
        value = evidence.get(key)
        if isinstance(value, str) and len(value.strip()) >= 3:
            yield value.strip()


def _holds(rule: Rule, page: Page, reference: Reference | None, evidence: dict[str, Any]) -> str | None:
    kind = rule.kind
    if kind == "credential_form" and page.credential_form:
        return "the page still has a credential form"
    if kind == "same_title" and reference and reference.title and page.title == reference.title:
        return f"the title is still {page.title[:100]!r}"
    if kind == "similar_body" and reference and reference.simhash and page.simhash:
        score = similarity(page.simhash, reference.simhash)
        if score >= float(rule.parameters.get("min_similarity", 0.8)):
            return f"the page is {score:.0%} similar to the reported one"
    if kind == "same_payload" and reference and reference.sha256 and page.sha256 == reference.sha256:
        return "the same payload is still served (SHA-256 unchanged)"
    if kind == "content_type":
        if page.content_type in {str(item).lower() for item in rule.parameters.get("types", [])}:
            return f"an executable or archive is still served ({page.content_type})"
        if rule.parameters.get("magic") and page.magic:
            return f"the body is still {page.magic}"
    if kind == "marker_text" and page.text:
        lowered = page.text.lower()
        for marker in _markers(rule, evidence):
            if marker.lower() in lowered:
                return f"the marker {marker[:80]!r} is still on the page"
    return None
