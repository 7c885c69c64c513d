"""Kazakh, Russian and English pages: the catalogues are complete, compiled, and hold every string
the templates and code mark; the language switcher and the browser's language choose among them."""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import polib
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation

from tests.api import conftest as api_fixtures
from tests.api.conftest import T0, World
from zonewarden.cases import workflow
from zonewarden.cases.models import Case
from zonewarden.registry.models import RequestItem
from zonewarden.registry.service import RequestError, build_request, decide

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "zonewarden"
LANGUAGES = ("kk", "ru")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\{ *\w+ *\}\}|<[^>]+>")
world = api_fixtures.world


def catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(PACKAGE / "locale" / language / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated_and_keeps_its_placeholders(language: str) -> None:
    po = catalogue(language)
    assert len(po) > 150
    assert po.untranslated_entries() == [] and po.fuzzy_entries() == []
    for entry in po:
        wanted = sorted(PLACEHOLDER.findall(entry.msgid))
        forms = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        for form in forms:
            assert form.strip(), entry.msgid
            assert sorted(PLACEHOLDER.findall(form)) == wanted, (language, entry.msgid, form)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_matches_the_source(language: str) -> None:
    po = catalogue(language)
    with open(PACKAGE / "locale" / language / "LC_MESSAGES" / "django.mo", "rb") as compiled:
        mo = gettext.GNUTranslations(compiled)
    for entry in po:
        if entry.msgid_plural:
            assert mo.ngettext(entry.msgid, entry.msgid_plural, 1) == entry.msgstr_plural[0], entry.msgid
        else:
            assert mo.gettext(entry.msgid) == entry.msgstr, f"{entry.msgid!r}: run `make messages`"


def test_the_catalogues_hold_every_marked_string(tmp_path: Path) -> None:
    if shutil.which("xgettext") is None:
        pytest.skip("xgettext is not installed (Debian package gettext)")
    copy = tmp_path / "zonewarden"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "zonewarden", "makemessages", "-l", "kk", "--no-location", "--no-obsolete"],
        cwd=copy,
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(PACKAGE.parent)},
    )
    fresh = {entry.msgid for entry in polib.pofile(str(copy / "locale/kk/LC_MESSAGES/django.po"))}
    kept = {entry.msgid for entry in catalogue("kk")}
    assert sorted(fresh - kept) == [], "new strings: run `make messages` and translate them"
    assert sorted(kept - fresh) == [], "strings no page uses any more: run `make messages`"


@pytest.mark.django_db
@pytest.mark.usefixtures("defaults")
def test_the_browsers_language_and_the_switcher_choose_the_pages_language(world: World) -> None:
    visitor = Client()
    russian = visitor.get("/suspended/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert '<html lang="ru">' in russian and "Suspended domain names</h1>" not in russian
    kazakh = visitor.get("/suspended/", HTTP_ACCEPT_LANGUAGE="kk").content.decode()
    assert '<html lang="kk">' in kazakh and kazakh != russian
    # The switcher's choice (a cookie) wins over the browser's.
    switched = visitor.post("/i18n/setlang/", {"language": "en", "next": "/suspended/"})
    assert switched.status_code == 302 and switched.url == "/suspended/"
    english = visitor.get("/suspended/", HTTP_ACCEPT_LANGUAGE="kk").content.decode()
    assert '<html lang="en">' in english and "Suspended domain names</h1>" in english
    # A signed-in analyst's pages and the case states follow too.
    analyst = Client()
    analyst.force_login(User.objects.get(username="analyst"))
    analyst.post("/i18n/setlang/", {"language": "ru", "next": "/cases/"})
    cases = analyst.get("/cases/").content.decode()
    assert "<th>Domain</th>" not in cases and world.case_a.domain_id in cases
    assert ">suspended<" not in cases  # the state, in Russian
    incidents = analyst.get("/incidents/").content.decode()
    assert ">Фишинг<" in incidents and ">Phishing<" not in incidents  # the category, in Russian
    # `next` never leads off the site.
    away = Client().post("/i18n/setlang/", {"language": "kk", "next": "https://evil.example/"})
    assert away.url == "/"


@pytest.mark.django_db
@pytest.mark.usefixtures("defaults")
def test_refusals_from_the_services_speak_the_pages_language(
    world: World, make_case: Callable[..., Case]
) -> None:
    case = workflow.record_notice_sent(
        workflow.confirm(make_case(T0), actor="user:analyst", at=T0), number=1, actor="system:worker", at=T0
    )
    Case.objects.filter(pk=case.pk).update(escalation_due_at=T0)
    build_request("escalation", [Case.objects.get(pk=case.pk)], actor="user:lead", at=T0)
    operator = Client(HTTP_ACCEPT_LANGUAGE="ru")
    operator.force_login(User.objects.get(username="operator"))
    item = RequestItem.objects.get(case=case)
    row = operator.post("/registry/", {"item": item.pk, "outcome": "withdrawn"}, HTTP_HX_REQUEST="true")
    assert "нужна причина" in row.content.decode() and "needs a reason" not in row.content.decode()
    # The same refusal where English is active (the command line) stays English.
    with translation.override("en"), pytest.raises(RequestError, match="needs a reason"):
        decide(item, "withdrawn", actor="cli:registry")


@pytest.mark.parametrize(("configured", "expected"), [(None, "en"), ("kk", "kk")])
def test_commands_speak_english_unless_told(tmp_path: Path, configured: str | None, expected: str) -> None:
    env = {**os.environ, "ZONEWARDEN_VAR_DIR": str(tmp_path), "ZONEWARDEN_LANGUAGE": "ru"}
    env.pop("ZONEWARDEN_CLI_LANGUAGE", None)
    if configured:
        env["ZONEWARDEN_CLI_LANGUAGE"] = configured
    code = "from django.utils.translation import get_language; print(get_language())"
    done = subprocess.run(
        [sys.executable, "-m", "zonewarden", "shell", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip().splitlines()[-1] == expected
