"""Fuzzing: the parser never raises, whatever text a hostile server sends.

The tests call the parser without its last-resort safety net, so a bug shows up as a failure
instead of a quiet "not found".
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zonewarden.whois.parser import _parse, parse_kz_whois, parse_whois_time

SAMPLES = Path(__file__).resolve().parent / "samples"
# No example database: the run must not write a .hypothesis folder into the project.
FUZZ = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

LABELS = [
    "Domain Name............: ",
    "Name...................: ",
    "Organization Name......: ",
    "Email Address..........: ",
    "Name Server............: ",
    "IP Address.............: ",
    "Primary server.........: ",
    "Secondary ip address...: ",
    "Domain created: ",
    "Last modified : ",
    "Domain status : ",
    "                ",
    "Registar created: ",
    "Current Registrar......: ",
    "*** ",
    "% ",
]
HEADERS = ["Registrant", "Administrative Contact/Agent", "Name Server list", "Nameserver in listed order", ""]
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "tulpar-sauda.kz",
            "мысал.қаз",
            "2001:db8::1, 192.0.2.1",
            "2010-10-04 17:24:09.0",
            "2024-02-29 23:59:59 (GMT+0:00)",
            "clientHold - held https://icann.org/epp#clientHold, serverHold",
            "Nothing found for this query.",
            "ok - Normal state.",
        ]
    ),
)
LINES = st.one_of(
    st.builds(lambda label, value: label + value, st.sampled_from(LABELS), VALUES), st.sampled_from(HEADERS)
)
ANSWERS = st.lists(LINES, max_size=40).map("\n".join)
QUERIES = st.one_of(st.just("tulpar-sauda.kz"), st.just("мысал.қаз"), st.text(max_size=30))


@FUZZ
@given(raw=st.text(max_size=2000), query=QUERIES)
def test_random_text_never_makes_the_parser_raise(raw: str, query: str) -> None:
    record = _parse(raw, query)

    assert record.raw == raw
    record.to_json()


@FUZZ
@given(raw=ANSWERS, query=QUERIES)
def test_answers_shaped_like_whois_never_make_the_parser_raise(raw: str, query: str) -> None:
    record = _parse(raw, query)

    data = record.to_json()
    assert isinstance(data["found"], bool)
    assert all(isinstance(status, str) and status for status in data["statuses"])


@FUZZ
@given(cut=st.integers(min_value=0), junk=st.binary(max_size=200))
def test_a_real_looking_answer_cut_anywhere_or_with_binary_junk_never_raises(cut: int, junk: bytes) -> None:
    full = (SAMPLES / "legacy_blank_modified.txt").read_text(encoding="utf-8")
    raw = full[: cut % (len(full) + 1)] + junk.decode("utf-8", errors="replace") + junk.decode("latin-1")

    _parse(raw, "dala-kitap.kz").to_json()


@FUZZ
@given(value=st.text(max_size=60))
def test_random_date_text_never_makes_the_time_reader_raise(value: str) -> None:
    parsed = parse_whois_time(value)

    assert parsed is None or parsed.tzinfo is not None


def test_a_huge_answer_of_one_line_is_read_without_trouble() -> None:
    raw = "." * 2_000_000 + ":" + " " * 1_000_000 + "\x00" * 1000

    assert parse_kz_whois(raw, "tulpar-sauda.kz").found is False
