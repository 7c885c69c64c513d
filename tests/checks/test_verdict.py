"""Verdicts on saved pages, by the default rules of each category."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from zonewarden.checks.fetch import Fetched
from zonewarden.checks.verdict import Reference, Rule, judge, read_page, simhash, similarity

PAGES = Path(__file__).parent / "pages"
PHISHING = [
    Rule("credential_form", {}),
    Rule("same_title", {}),
    Rule("similar_body", {"min_similarity": 0.8}),
]
MALWARE = [
    Rule("same_payload", {}),
    Rule("content_type", {"types": ["application/x-dosexec"], "magic": True}),
]
DEFACEMENT = [Rule("marker_text", {"markers": ["hacked by"]})]


def served(
    name: str | None = None, *, body: bytes = b"", status: int = 200, content_type: str = "text/html"
) -> Fetched:
    data = (PAGES / name).read_bytes() if name else body
    return Fetched(
        url="http://x.kz/",
        status=status,
        body=data,
        content_type=content_type,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def reference_of(name: str) -> Reference:
    page = read_page(served(name))
    return Reference(page.title, page.simhash, page.sha256)


def test_a_phishing_page_with_its_form_is_still_there() -> None:
    page = read_page(served("phish_login.html"))
    assert page.credential_form and page.title == "Halyk Homebank — Вход"
    assert judge(page, PHISHING, None, {}) == (True, "the page still has a credential form")


def test_the_same_title_without_the_form_still_counts_against_the_reference() -> None:
    page = read_page(served("phish_no_form.html"))
    present, why = judge(page, PHISHING, reference_of("phish_login.html"), {})
    assert present and "title" in why
    assert judge(page, PHISHING, None, {})[0] is False  # nothing to compare with: not proof


def test_a_replaced_page_is_gone() -> None:
    page = read_page(served("parked.html"))
    assert judge(page, PHISHING, reference_of("phish_login.html"), {}) == (
        False,
        "the page no longer looks like the reported one",
    )


def test_a_similar_body_is_recognised_by_its_fuzzy_hash() -> None:
    shop, parked = read_page(served("clean_shop.html")), read_page(served("parked.html"))
    phish = read_page(served("phish_login.html"))
    assert similarity(shop.simhash, parked.simhash) > similarity(shop.simhash, phish.simhash)
    assert similarity(phish.simhash, phish.simhash) == 1.0
    assert simhash("") == "" and similarity("", phish.simhash) == 0.0


def test_error_answers_mean_gone() -> None:
    page = read_page(served("phish_login.html", status=404))
    assert judge(page, PHISHING, None, {}) == (False, "the server answers 404")


def test_malware_by_payload_hash_by_type_and_by_magic_bytes() -> None:
    exe = served(body=b"MZ\x90\x00" + b"\x00" * 100, content_type="text/plain")
    page = read_page(exe)
    assert judge(page, MALWARE, None, {}) == (True, "the body is still a Windows executable")
    typed = read_page(served(body=b"data", content_type="application/x-dosexec"))
    assert (
        judge(typed, MALWARE, None, {})[1]
        == "an executable or archive is still served (application/x-dosexec)"
    )
    same = read_page(served(body=b"#payload"))
    assert judge(same, MALWARE, Reference(sha256=same.sha256), {})[1].startswith("the same payload")
    assert judge(read_page(served("clean_shop.html")), MALWARE, Reference(sha256=same.sha256), {})[0] is False


def test_defacement_by_marker_text_and_by_the_defacer_the_feed_named() -> None:
    defaced = read_page(served("defaced.html"))
    assert judge(defaced, DEFACEMENT, None, {})[1] == "the marker 'hacked by' is still on the page"
    other = read_page(served(body=b"<html><body>owned by Sh4d0w T34m</body></html>"))
    assert judge(other, DEFACEMENT, None, {"defacer": "Sh4d0w T34m"})[0] is True
    assert (
        judge(read_page(served("clean_shop.html")), DEFACEMENT, None, {"defacer": "Sh4d0w T34m"})[0] is False
    )


@pytest.mark.parametrize(
    "junk", [b"", b"\xff\xfe\x00<title", b"<title>" + b"a" * 100000, b"<form><input type=password"]
)
def test_odd_bodies_never_crash(junk: bytes) -> None:
    page = read_page(served(body=junk))
    judge(page, PHISHING + MALWARE + DEFACEMENT, Reference("t", "0" * 16, "x"), {"defacer": 5})
