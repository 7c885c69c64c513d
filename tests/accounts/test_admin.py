"""The admin pages an administrator sets a deployment up with: registrar users (and the link on the
user's own page) and the registrars' e-mail addresses."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.api import conftest as api_fixtures
from tests.api.conftest import World
from zonewarden.domains.models import Registrar
from zonewarden.registry.models import RegistrarUser

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults")]
world = api_fixtures.world  # registrar-x works for reg-x, registrar-y for reg-y


@pytest.fixture
def admin_client(world: World) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("admin", "", "unused-password-1"))
    return client


def listed(client: Client, path: str, **query: object) -> set[str]:
    """Return the rows a change list shows, as text."""
    answer = client.get(path, query)
    assert answer.status_code == 200
    return {str(row) for row in answer.context["cl"].result_list}


def test_the_registrar_users_page_lists_searches_and_filters(admin_client: Client) -> None:
    index = admin_client.get("/admin/").content.decode()
    assert "/admin/registry/registraruser/" in index and "Registrar users" in index

    page = "/admin/registry/registraruser/"
    both = {"registrar-x for Registrar X", "registrar-y for Registrar Y"}
    assert listed(admin_client, page) == both
    assert listed(admin_client, page, q="reg-y") == {"registrar-y for Registrar Y"}
    assert listed(admin_client, page, q="Registrar X") == {"registrar-x for Registrar X"}
    assert listed(admin_client, page, q="registrar-") == both
    reg_x = Registrar.objects.get(code="reg-x")
    assert listed(admin_client, page, registrar__id__exact=reg_x.pk) == {"registrar-x for Registrar X"}


def test_an_administrator_links_a_user_to_a_registrar_on_the_registrar_users_page(
    admin_client: Client,
) -> None:
    newcomer = User.objects.create_user("newcomer")
    reg_y = Registrar.objects.get(code="reg-y")
    assert admin_client.get("/admin/registry/registraruser/add/").status_code == 200

    answer = admin_client.post(
        "/admin/registry/registraruser/add/", {"user": newcomer.pk, "registrar": reg_y.pk}
    )

    assert answer.status_code == 302
    assert RegistrarUser.objects.get(user=newcomer).registrar == reg_y
    # One registrar per user: a second link is refused.
    again = admin_client.post(
        "/admin/registry/registraruser/add/",
        {"user": newcomer.pk, "registrar": Registrar.objects.get(code="reg-x").pk},
    )
    assert again.status_code == 200 and "already exists" in again.content.decode()


def test_the_registrar_autocomplete_finds_registrars_by_code(admin_client: Client) -> None:
    answer = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": "registry", "model_name": "registraruser", "field_name": "registrar", "term": "reg-y"},
    )
    assert answer.status_code == 200
    assert [row["text"] for row in answer.json()["results"]] == ["Registrar Y"]


def test_the_users_page_shows_the_registrar_link_inline(admin_client: Client) -> None:
    user = User.objects.get(username="registrar-x")
    reg_x = Registrar.objects.get(code="reg-x")

    page = admin_client.get(f"/admin/auth/user/{user.pk}/change/").content.decode()

    assert 'name="registrar_membership-TOTAL_FORMS"' in page
    assert f'<option value="{reg_x.pk}" selected>Registrar X</option>' in page
    by_registrar = {"registrar_membership__registrar__id__exact": reg_x.pk}
    assert listed(admin_client, "/admin/auth/user/", **by_registrar) == {"registrar-x"}


def test_the_registrars_list_edits_their_e_mail_in_place_and_searches_by_it(admin_client: Client) -> None:
    page = admin_client.get("/admin/domains/registrar/").content.decode()
    registrars = list(Registrar.objects.order_by("name"))
    assert [r.code for r in registrars] == ["reg-a", "reg-x", "reg-y"]
    assert 'name="form-0-email"' in page and "x@reg.kz" in page

    form = {
        "form-TOTAL_FORMS": "3",
        "form-INITIAL_FORMS": "3",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for index, registrar in enumerate(registrars):
        form[f"form-{index}-id"] = str(registrar.pk)
        form[f"form-{index}-email"] = registrar.email
    form["form-0-email"] = "abuse@reg-a.kz"

    assert admin_client.post("/admin/domains/registrar/", form).status_code == 302
    assert Registrar.objects.get(code="reg-a").email == "abuse@reg-a.kz"
    assert Registrar.objects.get(code="reg-x").email == "x@reg.kz"

    form["form-1-email"] = "not an address"
    refused = admin_client.post("/admin/domains/registrar/", form)
    assert refused.status_code == 200 and "Enter a valid email address." in refused.content.decode()
    assert Registrar.objects.get(code="reg-x").email == "x@reg.kz"

    for term, name in (("y@reg.kz", "Registrar Y"), ("Registrar X", "Registrar X"), ("reg-a", "Registrar A")):
        assert listed(admin_client, "/admin/domains/registrar/", q=term) == {name}, term
