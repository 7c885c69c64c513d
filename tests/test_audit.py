"""The audit chain: events cannot be changed through the ORM, and a change made behind its back is found."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tests.conftest import almaty
from zonewarden.cases import workflow
from zonewarden.cases.audit import verify_chain
from zonewarden.cases.models import Case, CaseEvent

pytestmark = pytest.mark.django_db
T0 = almaty(2026, 4, 1, 9)


@pytest.fixture
def history(make_case: Callable[..., Case]) -> list[CaseEvent]:
    for _ in range(3):
        case = workflow.confirm(make_case(T0), actor="user:analyst", at=T0)
        workflow.record_notice_sent(case, number=1, actor="system:worker", at=T0)
    return list(CaseEvent.objects.order_by("seq"))


def _raw(sql: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_untouched_chain_verifies(history: list[CaseEvent]) -> None:
    report = verify_chain()
    assert report.ok
    assert report.checked == len(history) == 9


def test_an_edited_event_is_named(history: list[CaseEvent]) -> None:
    target = history[4]
    _raw(f"UPDATE {CaseEvent._meta.db_table} SET actor = %s WHERE id = %s", ["user:mallory", target.pk])
    report = verify_chain(batch_size=2)
    assert not report.ok
    assert report.broken_seq == target.seq
    assert f"event #{target.seq}" in report.problem and "changed" in report.problem


def test_a_deleted_event_is_found(history: list[CaseEvent]) -> None:
    _raw(f"DELETE FROM {CaseEvent._meta.db_table} WHERE id = %s", [history[2].pk])
    report = verify_chain()
    assert report.broken_seq == history[2].seq
    assert "missing" in report.problem


def test_a_deleted_last_event_is_found_through_the_head(history: list[CaseEvent]) -> None:
    _raw(f"DELETE FROM {CaseEvent._meta.db_table} WHERE id = %s", [history[-1].pk])
    report = verify_chain()
    assert not report.ok
    assert "head" in report.problem


def test_events_cannot_be_updated_or_deleted_through_the_orm(history: list[CaseEvent]) -> None:
    event = history[0]
    event.actor = "user:mallory"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        CaseEvent.objects.filter(pk=event.pk).update(actor="x")
    with pytest.raises(PermissionError):
        CaseEvent.objects.all().delete()


def test_audit_verify_command_reports_intact_and_broken_chains(history: list[CaseEvent]) -> None:
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert "intact: 9 events" in out.getvalue()
    _raw(f"UPDATE {CaseEvent._meta.db_table} SET detail = %s WHERE id = %s", ['{"number": 2}', history[5].pk])
    with pytest.raises(CommandError, match=f"event #{history[5].seq}"):
        call_command("audit", "verify")
