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
# Requests the schema calls valid, with real path values, must be accepted (2xx, or 401/403/404
# for what the persona may not do or see, or 409 for a state the request cannot know), and
# every response must match its schema. The operations that conform are listed per persona and
# may not regress; the others (mostly list responses whose enum fields the response schema does
# not describe yet) are reported by the test's output and join the list as they are mended.
# Not yet listed, for reasons the schema cannot say today: `GET /ledger/entries` refuses ranges over
# 100,000 entries (a rule between two parameters), and bodies with NUL characters are refused
# (the schema's strings do not exclude U+0000 yet). Report requests, token revocation and approvals
# have rules between fields (one of two, not blank after trimming) that the schema does not state yet.
CONFORMING: dict[str, frozenset[str]] = {
    "officer": frozenset(
        {
            "DELETE /api/v1/webhooks/{id}",
            "GET /api/v1/datasets/{sha256}",
            "GET /api/v1/ledger/checkpoint",
            "GET /api/v1/ledger/entries/{seq}",
            "GET /api/v1/ledger/keys",
            "GET /api/v1/me",
            "GET /api/v1/models/{slug}",
            "GET /api/v1/models/{slug}/access",
            "GET /api/v1/models/{slug}/alerts/{id}",
            "GET /api/v1/models/{slug}/monitoring-policy",
            "GET /api/v1/models/{slug}/retraining-policy",
            "GET /api/v1/models/{slug}/thresholds",
            "GET /api/v1/models/{slug}/versions/{version}",
            "GET /api/v1/models/{slug}/versions/{version}/lineage",
            "GET /api/v1/models/{slug}/versions/{version}/signature",
            "GET /api/v1/reports/{id}",
            "GET /api/v1/reports/{id}/download",
            "GET /api/v1/users",
            "GET /api/v1/users/{username}",
            "GET /api/v1/webhooks/{id}",
            "GET /api/v1/webhooks/{id}/deliveries",
            "PATCH /api/v1/webhooks/{id}",
            "POST /api/v1/datasets",
            "POST /api/v1/integrations/mlflow/webhook",
            "POST /api/v1/models/{slug}/alerts/{id}/acknowledge",
            "POST /api/v1/models/{slug}/alerts/{id}/resolve",
            "POST /api/v1/models/{slug}/decisions",
            "POST /api/v1/models/{slug}/deployments",
            "POST /api/v1/models/{slug}/deployments/{id}/end",
            "POST /api/v1/models/{slug}/observations",
            "POST /api/v1/models/{slug}/versions",
            "POST /api/v1/models/{slug}/versions/{version}/cards",
            "POST /api/v1/models/{slug}/versions/{version}/ci-evidence",
            "POST /api/v1/models/{slug}/versions/{version}/retire",
            "POST /api/v1/models/{slug}/versions/{version}/review",
            "POST /api/v1/reports/{id}/retry",
            "POST /api/v1/role-grants/{id}/confirm",
            "POST /api/v1/role-grants/{id}/reject",
            "POST /api/v1/tokens",
            "POST /api/v1/transfers/{id}/accept",
            "POST /api/v1/users",
            "POST /api/v1/users/{username}/deactivate",
            "POST /api/v1/users/{username}/password",
            "POST /api/v1/users/{username}/privileges",
            "POST /api/v1/users/{username}/reactivate",
            "POST /api/v1/users/{username}/roles/grant",
            "POST /api/v1/users/{username}/roles/revoke",
        }
    ),
    "auditor": frozenset(
        {
            "DELETE /api/v1/webhooks/{id}",
            "GET /api/v1/datasets/{sha256}",
            "GET /api/v1/deliveries",
            "GET /api/v1/ledger/checkpoint",
            "GET /api/v1/ledger/entries/{seq}",
            "GET /api/v1/ledger/keys",
            "GET /api/v1/me",
            "GET /api/v1/models/{slug}",
            "GET /api/v1/models/{slug}/access",
            "GET /api/v1/models/{slug}/alerts/{id}",
            "GET /api/v1/models/{slug}/monitoring-policy",
            "GET /api/v1/models/{slug}/retraining-policy",
            "GET /api/v1/models/{slug}/thresholds",
            "GET /api/v1/models/{slug}/versions/{version}",
            "GET /api/v1/models/{slug}/versions/{version}/lineage",
            "GET /api/v1/models/{slug}/versions/{version}/signature",
            "GET /api/v1/reports/{id}",
            "GET /api/v1/reports/{id}/download",
            "GET /api/v1/users",
            "GET /api/v1/users/{username}",
            "GET /api/v1/webhooks",
            "GET /api/v1/webhooks/{id}",
            "GET /api/v1/webhooks/{id}/deliveries",
            "PATCH /api/v1/webhooks/{id}",
            "POST /api/v1/datasets",
            "POST /api/v1/integrations/mlflow/webhook",
            "POST /api/v1/models",
            "POST /api/v1/models/{slug}/access/grant",
            "POST /api/v1/models/{slug}/access/revoke",
            "POST /api/v1/models/{slug}/alerts/{id}/acknowledge",
            "POST /api/v1/models/{slug}/alerts/{id}/resolve",
            "POST /api/v1/models/{slug}/decisions",
            "POST /api/v1/models/{slug}/decisions/{decision_id}/reviews",
            "POST /api/v1/models/{slug}/deployments",
            "POST /api/v1/models/{slug}/deployments/{id}/end",
            "POST /api/v1/models/{slug}/observations",
            "POST /api/v1/models/{slug}/transfers",
            "POST /api/v1/models/{slug}/validation",
            "POST /api/v1/models/{slug}/versions",
            "POST /api/v1/models/{slug}/versions/{version}/cards",
            "POST /api/v1/models/{slug}/versions/{version}/ci-evidence",
            "POST /api/v1/models/{slug}/versions/{version}/retire",
            "POST /api/v1/models/{slug}/versions/{version}/review",
            "POST /api/v1/reports/{id}/retry",
            "POST /api/v1/role-grants/{id}/confirm",
            "POST /api/v1/role-grants/{id}/reject",
            "POST /api/v1/tokens",
            "POST /api/v1/transfers/{id}/accept",
            "POST /api/v1/users",
            "POST /api/v1/users/{username}/deactivate",
            "POST /api/v1/users/{username}/password",
            "POST /api/v1/users/{username}/privileges",
            "POST /api/v1/users/{username}/reactivate",
            "POST /api/v1/users/{username}/roles/grant",
            "POST /api/v1/users/{username}/roles/revoke",
            "POST /api/v1/webhooks",
            "PUT /api/v1/models/{slug}/monitoring-policy",
            "PUT /api/v1/models/{slug}/retraining-policy",
            "PUT /api/v1/models/{slug}/thresholds",
        }
    ),
}


def schema_mismatches(schema, world: World, user) -> dict[str, str]:
    """Call every operation with schema-valid input and real path values; return mismatches."""
    known = known_path_parameters(world)
    failures = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        fixed = {name: value for name, value in known.items() if f"{{{name}}}" in operation.path}

        @settings(HYPOTHESIS, max_examples=4)
        @given(case=operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed))
        def call(case):
            response = case.call(headers=fresh_headers(user))
            if response.status_code == 409:
                return  # e.g. a name already taken: valid input meeting the record's state
            if response.status_code == 400 and "NUL" in response.text:
                return  # text with NUL characters is refused by design; the schema cannot say so yet
            if case.media_type not in (None, "application/json"):
                return  # only JSON bodies are held to the schema so far; form bodies are not yet
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
    found = schema_mismatches(api_schema, world, user)
    regressed = {name: problem for name, problem in found.items() if name in CONFORMING[persona]}
    assert sorted(regressed) == [], "\n\n".join(f"{k}: {v}" for k, v in regressed.items())
