"""Users in each role, with API tokens, and a registry with two registrars' suspended names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import almaty
from zonewarden import access
from zonewarden.cases import workflow
from zonewarden.cases.models import Case
from zonewarden.domains.models import Registrar
from zonewarden.registry.models import RegistrarUser

T0 = almaty(2026, 4, 1, 11)


def client_for(user: User) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@dataclass
class World:
    clients: dict[str, APIClient]
    case_a: Case
    case_b: Case
    recorded: Case


@pytest.fixture
def world(make_domain: Callable[..., object], make_case: Callable[..., Case]) -> World:
    access.ensure_groups()
    registrar_a = Registrar.objects.create(code="reg-x", name="Registrar X", email="x@reg.kz")
    registrar_b = Registrar.objects.create(code="reg-y", name="Registrar Y", email="y@reg.kz")
    clients = {}
    for name, role in [
        ("analyst", access.ANALYST),
        ("lead", access.LEAD),
        ("operator", access.REGISTRY),
        ("auditor", access.AUDITOR),
        ("registrar-x", access.REGISTRAR),
        ("registrar-y", access.REGISTRAR),
    ]:
        user = User.objects.create_user(name, password="x")
        user.groups.add(Group.objects.get(name=role))
        clients[name] = client_for(user)
    RegistrarUser.objects.create(user=User.objects.get(username="registrar-x"), registrar=registrar_a)
    RegistrarUser.objects.create(user=User.objects.get(username="registrar-y"), registrar=registrar_b)
    cases = []
    for registrar in (registrar_a, registrar_b):
        domain = make_domain()
        domain.registrar = registrar  # type: ignore[attr-defined]
        domain.save()  # type: ignore[attr-defined]
        case = workflow.confirm(make_case(T0, domain=domain), actor="user:analyst", at=T0)
        case = workflow.record_notice_sent(case, number=1, actor="system:worker", at=T0)
        case = workflow.escalate(case, actor="user:lead", at=T0)
        cases.append(workflow.record_suspension(case, actor="user:operator", at=T0))
    recorded = make_case(T0)
    return World(clients, cases[0], cases[1], recorded)
