"""Generated requests against the demo data never make the server fail, and the server answers
as the schema says.

The schema is loaded from /api/schema/ and every operation in it is called in-process through
the WSGI application, against the real test database holding the demo that `manage.py
seed_demo` writes (governance.demo: credit-risk with versions 1.0.0 to 2.1.0, its datasets,
deployments, drift alert and decisions demo-00001...; here with few decisions), with the Bearer
token of demo-officer-1 (a compliance officer) and of demo-auditor. Each operation gets valid
and invalid inputs, with random path parameters and with ones naming real demo records (so
requests reach past the 404s): no generated request may cause a server error. Schema-valid
requests with real path values must be accepted and answered as the schema says (see "Schema
mismatches" below).

Generation is derandomized, so a run is reproducible.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from knox.models import AuthToken
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, positive_data_acceptance, response_schema_conformance

from governance.models import Dataset, RegisteredModel, RoleGrant

# Decisions the demo is seeded with: enough for real decision ids, few enough to seed quickly.
DEMO_DECISIONS = 40

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


@dataclass
class Demo:
    """The seeded demo: its callers and the real values of the path parameters."""

    users: dict[str, User]
    path_values: dict[str, str]  # by parameter name
    ids: dict[str, str]  # the record an `{id}` names, by the path prefix it follows


@pytest.fixture
def demo(transactional_db) -> Demo:
    """The demo written by `manage.py seed_demo`, committed (and flushed after the test)."""
    call_command("seed_demo", decisions=DEMO_DECISIONS, stdout=io.StringIO(), stderr=io.StringIO())
    model = RegisteredModel.objects.get(slug="credit-risk")
    candidate = model.versions.get(version="2.1.0")  # the review candidate: registered, unsigned
    production = model.deployments.filter(environment="production", ended_at__isnull=True).get()
    ids = {
        "/api/v1/models/{slug}/alerts/": model.alerts.filter(kind="drift").order_by("pk").first(),
        "/api/v1/models/{slug}/deployments/": production,
        "/api/v1/role-grants/": RoleGrant.objects.filter(grantee__username="demo-officer-2").get(),
    }
    return Demo(
        users={user.username: user for user in User.objects.filter(username__startswith="demo-")},
        path_values={
            "slug": model.slug,
            "version": candidate.version,
            "decision_id": model.decisions.order_by("decision_id").first().decision_id,
            "sha256": Dataset.objects.get(version_links__version=candidate, version_links__role="training").sha256,
            "seq": "1",
            "username": "demo-owner",
        },
        ids={prefix: str(record.pk) for prefix, record in ids.items()},
    )


@pytest.fixture
def api_schema(demo):
    """The live schema of the in-process application, over committed data: the WSGI handler
    opens and closes its own transactions, as a real server does."""
    return schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


def known_path_parameters(operation, demo: Demo) -> dict[str, str]:
    """The real demo values of the operation's path parameters (those the demo has)."""
    known = {name: value for name, value in demo.path_values.items() if f"{{{name}}}" in operation.path}
    for prefix, pk in demo.ids.items():
        if operation.path.startswith(f"{prefix}{{id}}"):
            known["id"] = pk
    return known


def strategy_for(operation, demo: Demo):
    fixed = known_path_parameters(operation, demo)
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


def server_errors(schema, demo: Demo, user) -> dict[str, str]:
    """Call every operation with generated input; return {operation: failure} for each 5xx."""
    failures = {}
    for result in schema.get_all_operations():
        operation = result.ok()

        @HYPOTHESIS
        @given(case=strategy_for(operation, demo))
        def call(case):
            response = case.call(headers=fresh_headers(user))
            case.validate_response(response, checks=[not_a_server_error])

        try:
            call()
        except (Exception, BaseExceptionGroup) as failure:  # the failing example, shrunk by Hypothesis
            failures[f"{operation.method.upper()} {operation.path}"] = str(failure)[:2000]
    return failures


def test_no_generated_request_from_an_officer_is_a_server_error(api_schema, demo):
    assert server_errors(api_schema, demo, demo.users["demo-officer-1"]) == {}


def test_no_generated_request_from_an_auditor_is_a_server_error(api_schema, demo):
    assert server_errors(api_schema, demo, demo.users["demo-auditor"]) == {}


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


def known_references() -> dict[str, str]:
    """Real values for the body fields that name another record (a demo user, a role group):
    the schema says their shape, not which ones exist. The demo has one model owner, so a
    transfer to them meets the model's state (409)."""
    return {
        "owner": "demo-owner",
        "to_owner": "demo-owner",
        "user": "demo-pipeline",
        "group": "pipeline",
    }


def with_references(references: dict[str, str]):
    def refer(case):
        if isinstance(case.body, dict):
            case.body.update({name: value for name, value in references.items() if name in case.body})
        return case

    return refer


def schema_mismatches(schema, demo: Demo, user) -> dict[str, str]:
    """Call every operation with schema-valid input, real path values and real references;
    return the mismatches."""
    refer = with_references(known_references())
    failures = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        fixed = known_path_parameters(operation, demo)

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
def test_schema_valid_requests_are_accepted_and_answered_as_the_schema_says(api_schema, demo, persona):
    user = demo.users["demo-officer-1" if persona == "officer" else "demo-auditor"]
    found = schema_mismatches(api_schema, demo, user)
    assert sorted(found) == [], "\n\n".join(f"{k}: {v}" for k, v in found.items())
