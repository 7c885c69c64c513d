"""Fuzzing: classifying hostile bytes never raises, and what comes out is always clean.

Besides the public function, the tests call the lenient compat32 path without the last-resort
safety net, so a bug in the readers shows up as a failure instead of a quiet "unknown".
"""

from __future__ import annotations

import datetime as dt
from email import policy
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zonewarden.notices.mailparse import (
    ADDRESS_LIMIT,
    DIAGNOSTIC_LIMIT,
    ID_LENGTH_LIMIT,
    ID_LIMIT,
    SUBJECT_LIMIT,
    TEXT_LIMIT,
    InboundMessage,
    _classify,
    classify_message,
)

SAMPLES = Path(__file__).resolve().parent / "samples"
SAMPLE_BYTES = [path.read_bytes() for path in sorted(SAMPLES.glob("*.eml"))]
# No example database: the run must not write a .hypothesis folder into the project.
FUZZ = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
KINDS = {"hard_bounce", "soft_bounce", "auto_reply", "reply", "unknown"}
SNIPPETS = [
    b"\r\n",
    b"\n\n",
    b"--",
    b"=?utf-8?b?",
    b"=?koi8-r?q?=FF?=",
    b"?=",
    b"<",
    b">",
    b"@",
    b";",
    b'"',
    b"\x00",
    b"\xff\xfe",
    b"\xd0\x90",
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n",
    b"Content-Type: message/delivery-status\r\n",
    b"Content-Type: message/rfc822\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"Content-Transfer-Encoding: x-uuencode\r\n",
    b"charset=idna",
    b"Action: failed\r\n",
    b"Status: 5.",
    b"Message-ID: <@>\r\n",
    b"From: <\r\n",
    b"Date: Wed, 99 Mar 2026 25:61:61 +9999\r\n",
    b"<script>",
]


def assert_clean(result: InboundMessage) -> None:
    """Check the invariants every result keeps, whatever the input."""
    assert result.kind in KINDS
    assert len(result.subject) <= SUBJECT_LIMIT
    assert len(result.text) <= TEXT_LIMIT
    assert result.diagnostic is None or len(result.diagnostic) <= DIAGNOSTIC_LIMIT
    assert result.from_address is None or len(result.from_address) <= ADDRESS_LIMIT
    assert len(result.in_reply_to) <= ID_LIMIT and len(result.references) <= ID_LIMIT
    assert all(0 < len(item) <= ID_LENGTH_LIMIT for item in [*result.in_reply_to, *result.references])
    assert result.received_at is None or result.received_at.utcoffset() is not None
    for text in (
        result.subject,
        result.text,
        result.diagnostic or "",
        result.message_id or "",
        result.reason,
    ):
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogates: the text must be storable


@st.composite
def mutated_samples(draw: st.DrawFn) -> bytes:
    """Return a sample message cut, spliced and sprinkled with hostile snippets."""
    data = bytearray(draw(st.sampled_from(SAMPLE_BYTES)))
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        action = draw(st.sampled_from(["cut", "insert", "flip", "delete"]))
        position = draw(st.integers(min_value=0, max_value=len(data)))
        if action == "cut":
            del data[position:]
        elif action == "insert":
            data[position:position] = draw(st.one_of(st.sampled_from(SNIPPETS), st.binary(max_size=20)))
        elif action == "flip" and position < len(data):
            data[position] = draw(st.integers(min_value=0, max_value=255))
        elif action == "delete":
            del data[position : position + draw(st.integers(min_value=1, max_value=40))]
    return bytes(data)


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(raw: bytes) -> None:
    assert_clean(classify_message(raw))


@FUZZ
@given(mutated_samples())
def test_mutated_sample_messages_never_raise(raw: bytes) -> None:
    assert_clean(classify_message(raw))


@FUZZ
@given(st.one_of(st.binary(max_size=2000), mutated_samples()))
def test_the_lenient_compat32_path_never_raises_on_its_own(raw: bytes) -> None:
    assert_clean(_classify(raw, policy.compat32))


@FUZZ
@given(st.lists(st.sampled_from(SNIPPETS), max_size=30).map(b"".join))
def test_messages_made_of_hostile_snippets_never_raise(raw: bytes) -> None:
    assert_clean(classify_message(b"From: a@example.kz\r\n" + raw))


def test_an_aware_datetime_is_what_the_samples_give() -> None:
    dates = [classify_message(raw).received_at for raw in SAMPLE_BYTES]

    assert all(date is None or isinstance(date, dt.datetime) and date.tzinfo for date in dates)
