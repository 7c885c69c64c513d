"""Escalation and restoration requests, the registry's decisions, registrars' reports."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from tests.conftest import almaty
from zonewarden.cases import workflow
from zonewarden.cases.audit import verify_chain
from zonewarden.cases.models import Case, State
from zonewarden.checks.schedule import queue_check
from zonewarden.domains.models import Registrar
from zonewarden.jobs.queue import run_due_jobs
from zonewarden.notices.models import Notice
from zonewarden.notices.outbox import send_due
from zonewarden.publish.service import publish_due
from zonewarden.registry import letters
from zonewarden.registry.models import RegistryRequest, RequestItem
from zonewarden.registry.service import (
    RequestError,
    build_request,
    decide,
    due_for_escalation,
    file_registrar_report,
    late_registrars,
    queue,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]
T0 = almaty(2026, 4, 1, 11)  # a Wednesday
LEAD = "user:lead"
OPERATOR = "user:registry"


def due(make_case: Callable[..., Case], at: dt.datetime = T0) -> Case:
    """A case notified once whose escalation check found the incident still there."""
    case = workflow.confirm(make_case(at), actor="user:analyst", at=at)
    run_due_jobs(at, worker="t")
    send_due(at, worker="t")
    queue_check(case, purpose="escalation", at=at)
    run_due_jobs(at, worker="t")
    case.refresh_from_db()
    assert case.escalation_due_at == at
    Registrar.objects.filter(code="reg-a").update(email="abuse@registrar-a.kz")
    return case


def test_an_escalation_request_is_one_numbered_letter_in_pdf_and_docx(make_case: Callable[..., Case]) -> None:
    first, second = due(make_case), due(make_case)
    assert [case.pk for case in due_for_escalation()] == [first.pk, second.pk]
    request = build_request("escalation", [first, second], actor=LEAD, at=T0)
    assert request.number == "KZ-CERT/E-2026-0001"
    pdf, docx = bytes(request.pdf), bytes(request.docx)
    assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == request.pdf_sha256
    assert hashlib.sha256(docx).hexdigest() == request.docx_sha256
    document = zipfile.ZipFile(io.BytesIO(docx)).read("word/document.xml").decode()
    assert first.domain_id in document and second.domain_id in document and "KZ-CERT/E-2026-0001" in document
    for case in (first, second):
        case.refresh_from_db()
        assert case.state == State.ESCALATED
    items = list(request.items.order_by("pk"))
    # One business day from receipt: Wednesday 1 April → Thursday 2 April inclusive.
    assert [item.deadline for item in items] == [almaty(2026, 4, 3)] * 2
    assert build_request("escalation", [due(make_case)], actor=LEAD, at=T0).number == "KZ-CERT/E-2026-0002"
    assert verify_chain().ok


def test_a_case_that_does_not_qualify_refuses_the_whole_request(make_case: Callable[..., Case]) -> None:
    ready = due(make_case)
    fresh = make_case(T0)
    with pytest.raises(RequestError, match=f"Case {fresh.pk} .* is not due for escalation: it is recorded"):
        build_request("escalation", [ready, fresh], actor=LEAD, at=T0)
    ready.refresh_from_db()
    assert ready.state == State.NOTIFYING and not RegistryRequest.objects.exists()


def test_the_letter_escapes_what_came_from_feeds(make_case: Callable[..., Case]) -> None:
    case = due(make_case)
    case.incidents.update(url=f"http://{case.domain_id}/<img src=x onerror=alert(1)>")
    data = letters.context("escalation", "N-1", T0, letters.rows_for([case]))
    from django.template.loader import render_to_string

    markup = render_to_string("registry/letter.html", data)
    assert "<img" not in markup and "&lt;img src=x onerror=alert(1)&gt;" in markup
    assert f"hxxp://{case.domain_id.replace('.', '[.]')}" in markup


def test_suspension_holds_the_name_tells_the_registrar_and_starts_its_clock(
    make_case: Callable[..., Case],
) -> None:
    case = due(make_case)
    request = build_request("escalation", [case], actor=LEAD, at=T0)
    [item] = queue()
    assert item.request == request and item.is_open
    at = T0 + dt.timedelta(hours=3)
    decide(item, RequestItem.Outcome.SUSPENDED, actor=OPERATOR, at=at)
    case.refresh_from_db()
    assert case.state == State.SUSPENDED and "serverHold" in case.domain.statuses
    # 10 working days after 1 April 2026: 2, 3, 6 … 14 April, 15 April inclusive.
    assert case.registrar_deadline == almaty(2026, 4, 16)
    notice = Notice.objects.get(case=case, kind=Notice.Kind.REGISTRAR)
    assert notice.recipients == ["abuse@registrar-a.kz"] and "2026-04-15" in notice.body_text
    assert "serverHold" in notice.body_text and case.domain_id in notice.subject
    assert queue() == []
    with pytest.raises(RequestError, match="was suspended already"):
        decide(item, RequestItem.Outcome.SUSPENDED, actor=OPERATOR, at=at)


def test_withdrawal_and_rejection_need_a_reason(make_case: Callable[..., Case]) -> None:
    first, second = due(make_case), due(make_case)
    build_request("escalation", [first, second], actor=LEAD, at=T0)
    one, two = queue()
    with pytest.raises(RequestError, match="“withdrawn” needs a reason"):
        decide(one, RequestItem.Outcome.WITHDRAWN, actor=OPERATOR)
    decide(one, RequestItem.Outcome.WITHDRAWN, actor=OPERATOR, reason="the site was cleaned this morning")
    decide(two, RequestItem.Outcome.REJECTED, actor=OPERATOR, reason="the name is not registered")
    assert {case.state for case in Case.objects.filter(pk__in=[first.pk, second.pk])} == {State.WITHDRAWN}
    assert RequestItem.objects.get(pk=two.pk).reason == "the name is not registered"


def test_registrar_reports_stop_the_clock_and_late_ones_are_flagged(make_case: Callable[..., Case]) -> None:
    on_time, late = due(make_case), due(make_case)
    build_request("escalation", [on_time, late], actor=LEAD, at=T0)
    for item in queue():
        decide(item, RequestItem.Outcome.SUSPENDED, actor=OPERATOR, at=T0)
    report = file_registrar_report(
        on_time, text="hosting account locked", actor="user:registrar-a", at=T0 + dt.timedelta(days=2)
    )
    assert not report.late
    on_time.refresh_from_db()
    assert on_time.next_due_at is None
    assert [case.pk for case in late_registrars(almaty(2026, 4, 20))] == [late.pk]
    late_report = file_registrar_report(late, text="done", actor="user:registrar-a", at=almaty(2026, 4, 20))
    assert late_report.late


def test_restoration_lifts_the_hold_tells_owner_and_registrar_and_closes(
    make_case: Callable[..., Case], tmp_path: Path
) -> None:
    case = due(make_case)
    build_request("escalation", [case], actor=LEAD, at=T0)
    decide(queue()[0], RequestItem.Outcome.SUSPENDED, actor=OPERATOR, at=T0)
    with pytest.raises(RequestError, match="is not due for escalation: it is suspended"):
        build_request("escalation", [case], actor=LEAD, at=T0)
    later = T0 + dt.timedelta(days=3)
    request = build_request("restoration", [case], actor=LEAD, at=later)
    assert request.number == "KZ-CERT/R-2026-0001"
    case.refresh_from_db()
    assert case.state == State.RESTORATION_REQUESTED
    decide(queue()[0], RequestItem.Outcome.RESTORED, actor=OPERATOR, at=later)
    case.refresh_from_db()
    assert case.state == State.RESTORED and "serverHold" not in case.domain.statuses
    assert not Notice.objects.filter(
        case=case, dedupe_key=f"restored:{case.pk}"
    ).exists()  # not before the DNS
    with override_settings(ZONEWARDEN_ZONEFILE_DIR=str(tmp_path)):
        assert publish_due(later, worker="t").applied == 2  # the suspension, then the restoration
    case.refresh_from_db()
    assert case.state == State.CLOSED
    kinds = sorted(Notice.objects.filter(case=case).values_list("kind", "dedupe_key"))
    assert [kind for kind, _ in kinds].count(Notice.Kind.REGISTRAR) == 2  # suspended, then restored
    assert any(key == f"restored:{case.pk}" for _, key in kinds)
    assert verify_chain().ok


def test_the_escalate_command_lists_and_writes_the_letter(
    make_case: Callable[..., Case], tmp_path: Path
) -> None:
    case = due(make_case)
    listing = StringIO()
    call_command("escalate", stdout=listing)
    assert case.domain_id in listing.getvalue()
    out = StringIO()
    call_command("escalate", "--all", "--out", str(tmp_path), stdout=out)
    assert "KZ-CERT/E-2026-0001: 1 name(s)" in out.getvalue()
    assert (tmp_path / "KZ-CERT_E-2026-0001.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "KZ-CERT_E-2026-0001.docx").exists()
    with pytest.raises(CommandError, match="nothing is due"):
        call_command("escalate", "--all", "--out", str(tmp_path), stdout=StringIO())


def test_the_registry_command_works_the_queue(make_case: Callable[..., Case]) -> None:
    first, second = due(make_case), due(make_case)
    build_request("escalation", [first, second], actor=LEAD, at=T0)
    one, two = queue()
    out = StringIO()
    call_command("registry", "queue", stdout=out)
    assert first.domain_id in out.getvalue() and second.domain_id in out.getvalue()
    call_command("registry", "suspend", str(one.pk), stdout=StringIO())
    with pytest.raises(CommandError, match="“withdrawn” needs a reason"):
        call_command("registry", "withdraw", str(two.pk), stdout=StringIO())
    call_command("registry", "withdraw", str(two.pk), "--reason", "fixed", stdout=StringIO())
    assert {item.outcome for item in RequestItem.objects.all()} == {"suspended", "withdrawn"}
    call_command("registry", "report", str(first.pk), "--text", "locked", stdout=StringIO())
    late = StringIO()
    call_command("registry", "late-registrars", stdout=late)
    assert late.getvalue().strip() == "no registrar is late"
