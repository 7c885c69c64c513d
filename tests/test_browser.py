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
from zonewarden.checks.screenshot import CHROMIUM_ARGS
from zonewarden.domains.models import Registrar
from zonewarden.registry.models import RegistrarReport, RegistrarUser

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


PHONE = {"width": 390, "height": 844}


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
    fresh_incident = fresh.incidents.get().pk
    # The address, not "localhost": Playwright's driver would ask the system's resolver for ::1.
    base = str(live_server.url).replace("://localhost:", "://127.0.0.1:")  # type: ignore[attr-defined]
    ARTIFACTS.mkdir(exist_ok=True)

    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        # Chromium's own background look-ups (autofill, accounts, updates) would go to the
        # system's resolver: it finds only the test server, no DNS query leaves the machine.
        rules = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, rules])

        def session(name: str, start: str, viewport: dict[str, int] | None = None):  # type: ignore[no-untyped-def]
            page = browser.new_context(viewport=viewport or {"width": 1200, "height": 900}).new_page()
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
        analyst.wait_for_selector("text=1 case confirmed")

        analyst.goto(f"{base}/escalation/")
        analyst.check(f"input[name=case][value='{ready.pk}']")
        analyst.screenshot(path=str(ARTIFACTS / "2-analyst-escalation.png"))
        analyst.click("text=Build the suspension request")
        analyst.wait_for_selector("text=is built")
        letter = analyst.get_attribute("a:has-text('Letter (PDF)')", "href")
        assert letter is not None
        fetched = analyst.request.get(f"{base}{letter}")
        assert fetched.ok and fetched.body().startswith(b"%PDF")

        operator = session("operator", "/registry/")
        row = f"tr:has(a:text-is('{ready.domain_id}'))"
        operator.screenshot(path=str(ARTIFACTS / "3-registry-queue.png"))
        operator.click(f"{row} button[value=suspended]")
        # htmx swaps the decided row in place: no page load.
        operator.wait_for_selector(f"{row} strong.ok")

        # The CERT's dashboard and the registry's queue on a phone: charts scale, tables fold.
        phone_analyst = session("analyst", "/dashboard/", PHONE)
        phone_analyst.wait_for_selector("figure.chart svg")
        assert fits_the_screen(phone_analyst)
        phone_analyst.screenshot(path=str(ARTIFACTS / "7-dashboard-phone.png"), full_page=True)
        phone_operator = session("operator", "/registry/reports/", PHONE)
        assert fits_the_screen(phone_operator)

        registrar_page = session("registrar", "/registrar/", PHONE)
        registrar_page.fill("textarea[name=text]", "The hosting account is locked.")
        registrar_page.screenshot(path=str(ARTIFACTS / "4-registrar-phone.png"), full_page=True)
        assert fits_the_screen(registrar_page)
        registrar_page.click("text=File the report")
        registrar_page.wait_for_selector("text=is filed")

        owner = browser.new_context(viewport=PHONE).new_page()
        owner.goto(f"{base}/owner/{owner_token(ready)}/")
        assert fits_the_screen(owner)
        owner.fill("#note", "We removed the kit and changed the passwords.")
        owner.click("text=I have fixed it")
        owner.wait_for_selector("text=your report is recorded")
        owner.screenshot(path=str(ARTIFACTS / "5-owner-phone.png"), full_page=True)

        public = browser.new_context(viewport=PHONE).new_page()
        public.goto(f"{base}/suspended/")
        public.select_option("#language", "kk")
        public.click("header form.language button")
        public.wait_for_selector("html[lang=kk]")
        assert "Suspended domain names" not in public.inner_text("h1")
        public.fill("#q", ready.domain_id)
        public.press("#q", "Enter")
        public.wait_for_selector(f"strong:has-text('{ready.domain_id}')")
        assert fits_the_screen(public)
        public.screenshot(path=str(ARTIFACTS / "6-public-kk-phone.png"), full_page=True)
        browser.close()

    assert Case.objects.get(pk=fresh.pk).state == State.NOTIFYING
    assert Case.objects.get(pk=ready.pk).state == State.SUSPENDED
    assert RegistrarReport.objects.get().text == "The hosting account is locked."
    assert Case.objects.get(pk=ready.pk).events.filter(action="owner.reported_fix").exists()
    for name in (
        "1-analyst-incidents",
        "2-analyst-escalation",
        "3-registry-queue",
        "4-registrar-phone",
        "5-owner-phone",
        "6-public-kk-phone",
        "7-dashboard-phone",
    ):
        assert (ARTIFACTS / f"{name}.png").read_bytes().startswith(b"\x89PNG")


def fits_the_screen(page) -> bool:  # type: ignore[no-untyped-def]
    """Usable on a phone: nothing makes the page scroll sideways."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))
