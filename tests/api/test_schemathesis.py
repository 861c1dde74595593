"""Schemathesis over /api/schema/: every operation, generated and mutated input, fixed seed.

A bounded budget (a few examples per operation, derandomised so every run sends the same
requests) keeps it well under a minute. Every response must be no 5xx, and must match what the
schema documents: its status code, content type and body (the error shape included).
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import World

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
# Not negative_data_rejection: DRF reads a JSON number as text for a text field by design
# (`"last_name": 0` is "0"); page sizes and ids are refused by config.validation.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def _keep_the_test_connection():
    """The WSGI app closes the database connection after each request; the test's transaction
    lives on it. Django's own test client disconnects the same handlers."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def owner_token(world: World, _keep_the_test_connection) -> str:
    token, _created = Token.objects.get_or_create(user=world.users["owner"])
    return token.key


@schema.parametrize()
@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,  # the fixed seed: the same examples on every run
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, owner_token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Token {owner_token}"}, checks=CHECKS)
