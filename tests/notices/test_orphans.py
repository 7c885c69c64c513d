"""A notice claimed as the database went away: its worker puts it back once the database answers."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import almaty
from zonewarden.notices.models import Notice
from zonewarden.notices.outbox import release_orphans

pytestmark = pytest.mark.django_db
T0 = almaty(2026, 4, 1, 11)


def _notice(number: int, *, worker: str, handed_over: dt.datetime | None) -> Notice:
    return Notice.objects.create(
        dedupe_key=f"orphan-{number}",
        recipients=["admin@example.kz"],
        languages="kk,ru,en",
        from_email="incident@cert.kz",
        message_id=f"<orphan-{number}@cert.kz>",
        state=Notice.State.SENDING,
        claimed_by=worker,
        attempts=1,
        lease_until=T0 + dt.timedelta(minutes=10),
        attempt_started_at=handed_over,
        next_attempt_at=T0,
        created_at=T0,
    )


def test_only_this_workers_notices_never_handed_over_go_back() -> None:
    orphan = _notice(1, worker="host:1", handed_over=None)
    handed = _notice(2, worker="host:1", handed_over=T0)  # the server may have it: in doubt, kept
    others = _notice(3, worker="host:2", handed_over=None)  # another worker may be sending it now
    assert release_orphans("host:1") == 1
    orphan.refresh_from_db()
    assert orphan.state == Notice.State.PENDING and orphan.attempts == 0 and orphan.lease_until is None
    for kept in (handed, others):
        kept.refresh_from_db()
        assert kept.state == Notice.State.SENDING
