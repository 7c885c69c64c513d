"""Schemathesis against the API's own OpenAPI schema: no 500s, no response that breaks the schema."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.api.conftest import World

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("defaults")]


def test_every_operation_holds_to_its_schema(world: World) -> None:
    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app)
    token = world.clients["analyst"]._credentials["HTTP_AUTHORIZATION"]  # type: ignore[attr-defined]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    tried = []
    for operation in operations:
        if operation.path == "/api/ingests/" and operation.method.upper() == "POST":
            continue  # multipart file uploads are fuzzed by the intake parsers' own tests

        @settings(
            max_examples=8,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            response = case.call(headers={"Authorization": token})
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        run()
        tried.append(f"{operation.method.upper()} {operation.path}")
    assert "GET /api/cases/{id}/events/" in tried
