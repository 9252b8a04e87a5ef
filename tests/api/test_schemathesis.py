"""Requests generated from the OpenAPI schema never make the server fail (no 5xx).

The schema is loaded from /api/schema/ and every operation in it is called in-process through
the WSGI application, against the real test database holding the world of
tests/api/factories.py, with the Bearer token of a compliance officer and of an auditor. Each
operation gets valid and invalid inputs, with random path parameters and with ones naming real
records (so requests reach past the 404s). Only `not_a_server_error` is checked: a 4xx for a
generated input is the API doing its job.

Generation is derandomized, so a run is reproducible.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from knox.models import AuthToken
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, positive_data_acceptance, response_schema_conformance

from tests.api.factories import World

# Examples per operation and persona (each operation is also tried with real path parameters).
MAX_EXAMPLES = 8

HYPOTHESIS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


@pytest.fixture
def api_schema(transactional_db, world):
    """The live schema of the in-process application, over committed data: the WSGI handler
    opens and closes its own transactions, as a real server does."""
    return schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


def known_path_parameters(world: World) -> dict[str, str]:
    return {
        "slug": world.model.slug,
        "version": world.v110.version,
        "decision_id": world.decisions[0].decision_id,
        "sha256": world.datasets["train"],
        "seq": "1",
    }


def strategy_for(operation, world: World):
    known = known_path_parameters(world)
    fixed = {name: value for name, value in known.items() if f"{{{name}}}" in operation.path}
    strategies = [operation.as_strategy(mode) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
    if fixed:
        strategies += [
            operation.as_strategy(mode, path_parameters=fixed)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        ]
    return st.one_of(strategies)


def fresh_headers(user) -> dict[str, str]:
    """A new token for each call: a generated `POST /tokens/revoke` revokes the caller's own."""
    return {"Authorization": f"Bearer {AuthToken.objects.create(user)[1]}"}


def server_errors(schema, world: World, user) -> dict[str, str]:
    """Call every operation with generated input; return {operation: failure} for each 5xx."""
    failures = {}
    for result in schema.get_all_operations():
        operation = result.ok()

        @HYPOTHESIS
        @given(case=strategy_for(operation, world))
        def call(case):
            response = case.call(headers=fresh_headers(user))
            case.validate_response(response, checks=[not_a_server_error])

        try:
            call()
        except (Exception, BaseExceptionGroup) as failure:  # the failing example, shrunk by Hypothesis
            failures[f"{operation.method.upper()} {operation.path}"] = str(failure)[:2000]
    return failures


def test_no_generated_request_from_an_officer_is_a_server_error(api_schema, world, officer_1):
    assert server_errors(api_schema, world, officer_1) == {}


def test_no_generated_request_from_an_auditor_is_a_server_error(api_schema, world, auditor):
    assert server_errors(api_schema, world, auditor) == {}


# --- Schema mismatches -----------------------------------------------------------------------
# Requests the schema calls valid, with real path values and real references, must be accepted
# (2xx, or 401/403/404 for what the persona may not do or see, or 409 for a state the request
# cannot know), and every response must match its schema. The schema states what the API
# enforces: patterns, enums, lengths, decimal strings, URL schemes, text without NUL that is not
# blank, and the rules between fields (api/schema.py), so every operation is held to it.
#
# Rules JSON Schema cannot state are refused with 400 and let through here, each by the exact
# error it answers: an order between two values of one request, one of two query parameters,
# items of a list unique by some of their fields, and a tree size beyond the log or its latest
# checkpoint (the operations' descriptions say each).
UNSTATABLE_ERRORS: dict[str, tuple[str, ...]] = {
    "GET /api/v1/ledger/entries": ("`end` must not be before `start`.", "At most 100000 entries per request"),
    "GET /api/v1/ledger/proofs/inclusion": (
        "The `seq` parameter is required.",
        "No checkpoint has been signed yet.",
        "Tree size ",
        "Leaf index ",
    ),
    "GET /api/v1/ledger/proofs/consistency": ("No checkpoint has been signed yet.", "Tree size ", "size1 ("),
    "POST /api/v1/models/{slug}/validation": ("The next validation cannot be due before the last one.",),
    "PUT /api/v1/models/{slug}/thresholds": ("The same metric, slice and operator appear twice.",),
}


def states_an_unstatable_rule(operation, response) -> bool:
    if response.status_code != 400:
        return False
    errors = UNSTATABLE_ERRORS.get(f"{operation.method.upper()} {operation.path}", ())
    return any(error in response.text for error in errors)


def known_references(people) -> dict[str, str]:
    """Real values for the body fields that name another record (a user, a role group): the
    schema says their shape, not which ones exist."""
    return {
        "owner": people["owner"].username,
        "to_owner": people["other_owner"].username,
        "user": people["pipeline_granted"].username,
        "group": "pipeline",
    }


def with_references(references: dict[str, str]):
    def refer(case):
        if isinstance(case.body, dict):
            case.body.update({name: value for name, value in references.items() if name in case.body})
        return case

    return refer


def schema_mismatches(schema, world: World, user, people) -> dict[str, str]:
    """Call every operation with schema-valid input, real path values and real references;
    return the mismatches."""
    known = known_path_parameters(world)
    refer = with_references(known_references(people))
    failures = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        fixed = {name: value for name, value in known.items() if f"{{{name}}}" in operation.path}

        @settings(HYPOTHESIS, max_examples=4)
        @given(case=operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed).map(refer))
        def call(case):
            response = case.call(headers=fresh_headers(user))
            if response.status_code == 409:
                return  # e.g. a name already taken: valid input meeting the record's state
            if states_an_unstatable_rule(case.operation, response):
                return
            case.validate_response(
                response, checks=[not_a_server_error, positive_data_acceptance, response_schema_conformance]
            )

        try:
            call()
        except (Exception, BaseExceptionGroup) as failure:
            failures[f"{operation.method.upper()} {operation.path}"] = str(failure)[:600]
    return failures


@pytest.mark.parametrize("persona", ["officer", "auditor"])
def test_schema_valid_requests_are_accepted_and_answered_as_the_schema_says(api_schema, world, people, persona):
    user = people["officer_1" if persona == "officer" else "auditor"]
    found = schema_mismatches(api_schema, world, user, people)
    assert sorted(found) == [], "\n\n".join(f"{k}: {v}" for k, v in found.items())
