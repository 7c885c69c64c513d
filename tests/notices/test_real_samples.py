"""Conformance: real ARF abuse reports from the shared fixtures are read, and are not bounces.

The reports are not copied into the project (see SOURCES.md next to them); without the shared
folder these tests are skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from zonewarden.notices.mailparse import classify_message

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "real" / "arf"
FILES = sorted(REAL.glob("*.eml")) if REAL.is_dir() else []

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"real ARF samples not found at {REAL}")


@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_a_real_abuse_report_is_classified_without_being_taken_for_a_bounce(path: Path) -> None:
    result = classify_message(path.read_bytes())

    assert result.kind in ("reply", "auto_reply")
    assert result.failed_recipients == []
    assert result.original_message_id is None
    assert result.received_at is not None and result.received_at.tzinfo is not None
    assert result.from_address


def test_the_minimal_rfc_5965_report_keeps_its_subject_and_human_text() -> None:
    result = classify_message((REAL / "rfc5965_B1_minimal.eml").read_bytes())

    assert result.subject == "FW: Earn money"
    assert result.from_address == "abusedesk@example.com"
    assert result.text.startswith("This is an email abuse report")


def test_the_opendmarc_report_has_its_message_id() -> None:
    result = classify_message((REAL / "opendmarc_auth-failure_2021.eml").read_bytes())

    assert result.message_id == "20211005043702.CF8FA658E0@box.mydomain.name"
