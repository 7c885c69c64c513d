"""The public page of suspended names, and what an anonymous visitor meets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import almaty
from zonewarden.cases import workflow
from zonewarden.cases.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]
T0 = almaty(2026, 4, 1, 11)


def suspended_case(make_domain: Callable[..., object], make_case: Callable[..., Case], name: str) -> Case:
    case = workflow.confirm(make_case(T0, domain=make_domain(name)), actor="user:analyst", at=T0)
    case = workflow.record_notice_sent(case, number=1, actor="system:worker", at=T0)
    case = workflow.escalate(case, actor="user:lead", at=T0)
    return workflow.record_suspension(case, actor="user:registry", at=T0)


def test_the_suspended_names_are_public_with_date_and_ground(
    client: Client, make_domain: Callable[..., object], make_case: Callable[..., Case]
) -> None:
    suspended_case(make_domain, make_case, "xn--80awbu3c.xn--80ao21a")
    other = make_case(T0)
    page = client.get("/suspended/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "2026-04-01" in text and "paragraph 16, sub-paragraph 4" in text
    assert other.domain_id not in text
    found = client.get("/suspended/", {"q": "МЫСАЛ.қаз"}).content.decode()
    assert "has been suspended since 2026-04-01" in found
    assert "is not suspended" in client.get("/suspended/", {"q": other.domain_id}).content.decode()


def test_the_look_up_shows_hostile_input_inert(client: Client) -> None:
    text = client.get("/suspended/", {"q": "<script>alert(1)</script>"}).content.decode()
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text


def test_an_anonymous_visitor_of_the_front_page_is_sent_to_log_in(client: Client) -> None:
    first = client.get("/")
    assert first.status_code == 302
    final = client.get("/", follow=True)
    assert final.redirect_chain[-1][0].startswith("/login/")
    assert "Log in" in final.content.decode()


def test_failed_log_ins_are_limited(client: Client, django_user_model: object) -> None:
    from django.test import override_settings

    from zonewarden.accounts.models import LoginFailure

    django_user_model.objects.create_user("analyst", password="right-one", is_staff=True)  # type: ignore[attr-defined]
    with override_settings(ZONEWARDEN_LOGIN_FAILURES=3):
        for _ in range(3):
            assert (
                client.post("/admin/login/", {"username": "analyst", "password": "wrong"}).status_code == 200
            )
        blocked = client.post("/admin/login/", {"username": "analyst", "password": "right-one"})
        assert blocked.status_code == 429
        # The count is in the database: another client (another process, another address) is
        # refused for that user name too.
        other = Client(REMOTE_ADDR="127.0.0.9")
        assert other.post("/login/", {"username": "ANALYST ", "password": "right-one"}).status_code == 429
        # One address trying many user names is refused as well.
        for number in range(3):
            other.post("/login/", {"username": f"guess{number}", "password": "x"})
        assert other.post("/login/", {"username": "someone", "password": "x"}).status_code == 429
        # Failures older than the window no longer count.
        LoginFailure.objects.update(at=timezone.now() - dt.timedelta(hours=1))
        assert (
            client.post("/admin/login/", {"username": "analyst", "password": "right-one"}).status_code == 302
        )
