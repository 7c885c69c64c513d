"""The parties' pages in Debian's headless Chromium (Playwright): an analyst confirms incidents,
the registry suspends, a registrar reports, an owner reports the fix. Screenshots are kept in
test-artifacts/ as evidence of what each party saw."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from tests.conftest import almaty
from zonewarden import access
from zonewarden.cases import workflow
from zonewarden.cases.models import Case, State
from zonewarden.cases.ownerlink import owner_token
from zonewarden.domains.models import Registrar
from zonewarden.registry.models import RegistrarReport, RegistrarUser, RequestItem
from zonewarden.registry.service import build_request

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("defaults")]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
T0 = almaty(2026, 4, 1, 11)
PASSWORD = "browser-test-password"


@pytest.fixture(autouse=True)
def chromium() -> None:
    if shutil.which(CHROMIUM) is None:
        reason = f"{CHROMIUM} is not installed (Debian package chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {reason}")
        print(f"skipping: {reason}")
        pytest.skip(reason)


def user(name: str, role: str) -> User:
    account = User.objects.create_user(name, password=PASSWORD)
    account.groups.add(Group.objects.get(name=role))
    return account


def test_each_party_does_its_part_in_the_browser(live_server: object, make_case: Callable[..., Case]) -> None:
    access.ensure_groups()
    user("analyst", access.ANALYST)
    user("operator", access.REGISTRY)
    registrar = Registrar.objects.get_or_create(code="reg-a", defaults={"name": "Registrar A"})[0]
    RegistrarUser.objects.create(user=user("registrar", access.REGISTRAR), registrar=registrar)
    fresh = make_case(T0)
    ready = workflow.record_notice_sent(
        workflow.confirm(make_case(T0), actor="user:analyst", at=T0), number=1, actor="system:worker", at=T0
    )
    Case.objects.filter(pk=ready.pk).update(escalation_due_at=T0)
    build_request("escalation", [ready], actor="user:lead", at=T0)
    item = RequestItem.objects.get(case=ready)
    fresh_incident = fresh.incidents.get().pk
    base = str(live_server.url)  # type: ignore[attr-defined]
    ARTIFACTS.mkdir(exist_ok=True)

    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )

        def session(name: str, start: str):  # type: ignore[no-untyped-def]
            page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
            page.goto(f"{base}/login/?next={start}")
            page.fill("#id_username", name)
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}{start}")
            return page

        analyst = session("analyst", "/incidents/")
        analyst.check(f"input[name=incident][value='{fresh_incident}']")
        analyst.screenshot(path=str(ARTIFACTS / "1-analyst-incidents.png"))
        analyst.click("button[value=confirm]")
        analyst.wait_for_selector("text=case(s) confirmed")

        operator = session("operator", "/registry/")
        operator.screenshot(path=str(ARTIFACTS / "2-registry-queue.png"))
        operator.click(f"form:has(input[name=item][value='{item.pk}']) button[value=suspended]")
        operator.wait_for_selector("text=suspended")

        registrar_page = session("registrar", "/registrar/")
        registrar_page.fill("textarea[name=text]", "The hosting account is locked.")
        registrar_page.screenshot(path=str(ARTIFACTS / "3-registrar.png"))
        registrar_page.click("text=File the report")
        registrar_page.wait_for_selector("text=filed")

        owner = browser.new_context().new_page()
        owner.goto(f"{base}/owner/{owner_token(ready)}/")
        owner.fill("#note", "We removed the kit and changed the passwords.")
        owner.click("text=I have fixed it")
        owner.wait_for_selector("text=your report is recorded")
        owner.screenshot(path=str(ARTIFACTS / "4-owner.png"))
        browser.close()

    assert Case.objects.get(pk=fresh.pk).state == State.NOTIFYING
    assert Case.objects.get(pk=ready.pk).state == State.SUSPENDED
    assert RegistrarReport.objects.get().text == "The hosting account is locked."
    assert Case.objects.get(pk=ready.pk).events.filter(action="owner.reported_fix").exists()
    for name in ("1-analyst-incidents", "2-registry-queue", "3-registrar", "4-owner"):
        assert (ARTIFACTS / f"{name}.png").read_bytes().startswith(b"\x89PNG")
