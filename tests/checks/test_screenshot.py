"""Screenshots with Debian's headless Chromium: taken, and kept to the checked host only."""

from __future__ import annotations

import os
import shutil
import struct
from collections.abc import Callable

import pytest
from django.test import override_settings

from tests.checks.webserver import Answer, web_server
from tests.conftest import almaty
from zonewarden.cases.models import Case
from zonewarden.checks.models import Check
from zonewarden.checks.service import check_incidents

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def chromium() -> None:
    if shutil.which(CHROMIUM) is None:
        reason = f"{CHROMIUM} is not installed (Debian package chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {reason}")
        print(f"skipping: {reason}")
        pytest.skip(reason)


def test_a_check_gets_a_screenshot_and_the_browser_reaches_nothing_else(
    make_case: Callable[..., Case],
) -> None:
    case = make_case(almaty(2026, 4, 1, 11))
    with web_server() as site, web_server() as elsewhere:
        elsewhere.answers["/pixel.png"] = Answer(b"\x89PNG", content_type="image/png")
        site.answers["/login.php"] = Answer(
            (
                "<html><head><title>Вход</title><link rel=stylesheet href='/style.css'></head><body>"
                "<h1>Homebank</h1><form><input type=password></form>"
                f"<img src='http://other.kz:{elsewhere.port}/pixel.png'>"
                f"<img src='http://127.0.0.1:{elsewhere.port}/pixel.png'></body></html>"
            ).encode()
        )
        site.answers["/style.css"] = Answer(b"body { background: #fee; }", content_type="text/css")
        incident = case.incidents.get()
        incident.url = site.url("/login.php", case.domain_id)
        incident.save(update_fields=["url"])
        with override_settings(
            ZONEWARDEN_CHECK_ALLOW=["127.0.0.1"],
            ZONEWARDEN_CHECK_HOSTS=[f"{case.domain_id}=127.0.0.1", "other.kz=127.0.0.1"],
            ZONEWARDEN_CHECK_SCREENSHOTS=True,
            ZONEWARDEN_CHECK_TIMEOUT=20,
        ):
            [check] = check_incidents([incident])
        assert "/style.css" in site.hits  # the page's own host is reachable
        assert elsewhere.hits == []  # another name and an IP literal are not
    png = bytes(Check.objects.get(pk=check.pk).screenshot or b"")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1280, 800)
