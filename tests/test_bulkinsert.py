"""The fast INSERT used by intake and the audit trail stores what the ORM would have stored."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from tests.conftest import almaty
from zonewarden.bulkinsert import EncodedJSON, insert_rows, select_in
from zonewarden.cases.models import Case, State
from zonewarden.domains.models import Domain
from zonewarden.intake.models import Incident

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]


def test_values_and_defaults_read_back_through_the_orm() -> None:
    first = almaty(2026, 3, 20, 23, 30)  # 18:30 UTC: the time zone must survive
    last = dt.datetime(2026, 3, 21, 1, 2, 3, 456789, tzinfo=dt.UTC)
    insert_rows(Domain, ("name", "unicode_name"), [("пример.қаз", "пример.қаз")])
    insert_rows(
        Incident,
        ("key", "domain_id", "url", "category_id", "sources", "first_seen", "last_seen", "evidence"),
        [("k1", "пример.қаз", "http://x/'\"", "phishing", ["a", "ә"], first, last, {"n": [1, None]})],
    )
    incident = Incident.objects.get(key="k1")
    assert (incident.first_seen, incident.last_seen) == (first, last)
    assert incident.sources == ["a", "ә"]
    assert incident.evidence == {"n": [1, None]}
    assert incident.url == "http://x/'\""
    assert incident.status == Incident.Status.REPORTED  # the model's default
    assert incident.created_at is not None and incident.case_id is None


def test_conflicts_are_skipped_only_when_asked() -> None:
    insert_rows(Domain, ("name",), [("a.kz",), ("b.kz",)])
    assert insert_rows(Domain, ("name",), [("b.kz",), ("c.kz",)], ignore_conflicts=True) == 2
    assert sorted(Domain.objects.values_list("name", flat=True)) == ["a.kz", "b.kz", "c.kz"]
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(Domain, ("name",), [("a.kz",)])


def test_a_column_that_does_not_exist_is_named() -> None:
    with pytest.raises(ValueError, match="Domain has no column for colour"):
        insert_rows(Domain, ("name", "colour"), [("a.kz", "red")])


def test_a_missing_required_value_is_named() -> None:
    with pytest.raises(ValueError, match="Case.opened_at has no default"):
        insert_rows(Case, ("domain_id",), [("a.kz",)])


def test_select_in_reads_more_values_than_one_statement_takes() -> None:
    names = [f"d{number}.kz" for number in range(2500)]
    insert_rows(Domain, ("name",), [(name,) for name in names])
    moment = almaty(2026, 1, 5, 9)
    insert_rows(
        Case, ("domain_id", "state", "opened_at"), [(name, State.RECORDED, moment) for name in names[:2000]]
    )
    insert_rows(
        Case, ("domain_id", "state", "opened_at"), [(name, State.CLOSED, moment) for name in names[2000:]]
    )
    found = select_in(Case, ("domain_id", "id"), "domain_id", names, also=("state", [State.RECORDED]))
    assert sorted(name for name, _ in found) == sorted(names[:2000])
    assert dict(found) == dict(Case.objects.filter(state=State.RECORDED).values_list("domain_id", "pk"))


def test_json_encoded_elsewhere_is_stored_as_json() -> None:
    insert_rows(Domain, ("name",), [("a.kz",)])
    moment = almaty(2026, 1, 5, 9)
    insert_rows(
        Incident,
        ("key", "domain_id", "url", "category_id", "first_seen", "last_seen", "evidence"),
        [
            (
                "k",
                "a.kz",
                "http://a.kz/",
                "malware",
                moment,
                moment,
                EncodedJSON('{"feed": "urlhaus", "tags": ["exe", "ә"]}'),
            )
        ],
    )
    assert Incident.objects.get(key="k").evidence == {"feed": "urlhaus", "tags": ["exe", "ә"]}
    assert Incident.objects.filter(evidence__feed="urlhaus").count() == 1
