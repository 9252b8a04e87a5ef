"""Every operation decides who may call it before it reads the body.

The walk covers every operation of the OpenAPI schema, so an endpoint added later is walked too:
anonymous callers get 401, an auditor posting an empty body to a write gets 403, 404 or 405
(never the body's field errors), and a pipeline granted everything on a model gets 403 for the
writes only compliance officers (and admins) may make. A refused caller learns nothing about the
body's rules, and a refusal that can see the model names the right it lacks.
"""

from __future__ import annotations

import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from governance.models import Report
from governance.services import access as access_services
from governance.services import reports as report_services
from tests.api.factories import World

# Operations anyone may call: the published checkpoint, the verifier keys, the checkpoints, the
# witnesses' status and the C2SP tlog tiles (public by design, so anyone can audit the log; entry
# bundles under the tiles check ledger access themselves), and the MLflow webhook
# (it authenticates by its HMAC signature, not by a user).
PUBLIC = {
    "GET /tlog/checkpoint",
    "GET /tlog/tile/{path}",
    "GET /api/v1/ledger/checkpoint",
    "GET /api/v1/ledger/checkpoints",
    "GET /api/v1/ledger/keys",
    "GET /api/v1/ledger/witnesses",
    "POST /api/v1/integrations/mlflow/webhook",
}
# The writes an auditor may make (DESIGN.md: auditors generate and download reports).
AUDITOR_WRITES = {"POST /api/v1/reports", "POST /api/v1/reports/{id}/retry"}
# Writes everyone signed in may make about themselves: issuing and revoking their own API tokens.
SELF_SERVICE = {"POST /api/v1/tokens", "POST /api/v1/tokens/revoke"}
# Writes only compliance officers and admins make; a pipeline granted all it can be granted on
# credit-risk is refused them.
OFFICER_ONLY = {
    "POST /api/v1/models/{slug}/access/grant",
    "POST /api/v1/models/{slug}/access/revoke",
    "POST /api/v1/models/{slug}/validation",
    "POST /api/v1/models/{slug}/decisions/{decision_id}/erase",
    "POST /api/v1/models/{slug}/versions/{version}/approvals",
    "PUT /api/v1/models/{slug}/thresholds",
    "PUT /api/v1/models/{slug}/monitoring-policy",
    "PUT /api/v1/models/{slug}/retraining-policy",
    "POST /api/v1/webhooks",
    "PATCH /api/v1/webhooks/{id}",
    "DELETE /api/v1/webhooks/{id}",
    "POST /api/v1/reports",
    "POST /api/v1/models",
}
WRITES = {"post", "put", "patch", "delete"}


def operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", *WRITES}
    )


@pytest.fixture
def report(world: World, people) -> Report:
    return report_services.report_request(
        actor=people["owner"], kind=Report.Kind.VERSION, version=world.v100, decision=None, purpose="Audit"
    )


def concrete(path: str, world: World, report: Report) -> str:
    """Fill the path's parameters with real records of the world (so requests get past 404s)."""
    values = {
        "slug": world.model.slug,
        "version": world.v110.version,
        "decision_id": world.decisions[0].decision_id,
        "sha256": world.datasets["train"],
        "seq": "0",
    }
    if path.startswith("/api/v1/reports/"):
        values["id"] = str(report.pk)
    elif "/deployments/" in path:
        values["pk"] = str(world.deployment.pk)
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), path)


def test_the_walk_covers_the_api():
    walked = operations()
    assert len(walked) > 50
    named = {f"{method} {path}" for method, path in walked}
    assert named >= PUBLIC | AUDITOR_WRITES | OFFICER_ONLY


def test_every_operation_answers_401_to_anonymous_callers(world, report, client_for):
    client = client_for("anonymous")
    wrong = {}
    for method, path in operations():
        if f"{method} {path}" in PUBLIC:
            continue
        response = client.generic(method, concrete(path, world, report), "{}", content_type="application/json")
        if response.status_code != 401:
            wrong[f"{method} {path}"] = response.status_code
    assert wrong == {}


def test_an_auditor_posting_an_empty_body_to_a_write_learns_nothing_about_the_body(world, report, client_for):
    client = client_for("auditor")
    wrong = {}
    for method, path in operations():
        name = f"{method} {path}"
        if method.lower() not in WRITES or name in PUBLIC | AUDITOR_WRITES | SELF_SERVICE:
            continue
        response = client.generic(method, concrete(path, world, report), "{}", content_type="application/json")
        if response.status_code not in (403, 404, 405):
            wrong[name] = (response.status_code, response.json().get("code"))
    assert wrong == {}


def test_a_granted_pipeline_is_refused_officer_writes_before_the_body_is_read(world, report, client_for):
    client = client_for("pipeline_granted")
    wrong = {}
    for name in sorted(OFFICER_ONLY):
        method, path = name.split(" ", 1)
        response = client.generic(method, concrete(path, world, report), "{}", content_type="application/json")
        if response.status_code != 403:
            wrong[name] = (response.status_code, response.json().get("code"))
    assert wrong == {}


def test_a_pipeline_that_may_see_a_model_but_not_register_is_told_the_missing_right(world, people, client_for):
    access_services.access_grant(
        actor=people["officer_1"], model=world.model, grantee=people["pipeline_stranger"], actions=["log"]
    )
    response = client_for("pipeline_stranger").post(f"/api/v1/models/{world.model.slug}/versions", {}, format="json")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "permission_denied"
    assert "`register`" in body["message"] and world.model.slug in body["message"]


def test_a_caller_who_may_not_see_the_model_gets_404_whatever_the_right(world, client_for):
    response = client_for("pipeline_stranger").post(f"/api/v1/models/{world.model.slug}/versions", {}, format="json")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
