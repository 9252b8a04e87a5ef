"""URL fields take only http(s) links, and artifact and dataset locations only storage URIs.

A `javascript:` URL stored in a record would become a clickable link in an officer's browser;
every URL field is refused at the service (400), by a database constraint, and its OpenAPI
schema carries the pattern so that generated clients send valid values.
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from governance.models import CiEvidence, Dataset, ModelVersion, RegisteredModel, Webhook
from tests.api.factories import links, model_body, sha, version_body
from tests.governance.readiness import junit_report

pytestmark = pytest.mark.django_db

CREDIT = "/api/v1/models/credit-risk"
HOSTILE = [
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    "data:text/html,<script>1</script>",
    "vbscript:x",
    " https://x",
]


def _dataset(uri: str) -> dict:
    return {"name": "holdout", "uri": uri, "sha256": sha(f"holdout-{uri}"), "size_bytes": 5}


WRITES = {
    "version pipeline_run_url": (
        "pipeline_granted",
        f"{CREDIT}/versions",
        lambda world, url: {**version_body("3.0.0", links(world.datasets)), "pipeline_run_url": url},
        "pipeline_run_url",
    ),
    "version code_repository": (
        "pipeline_granted",
        f"{CREDIT}/versions",
        lambda world, url: {**version_body("3.0.0", links(world.datasets)), "code_repository": url},
        "code_repository",
    ),
    "version artifact_uri": (
        "pipeline_granted",
        f"{CREDIT}/versions",
        lambda world, url: {**version_body("3.0.0", links(world.datasets)), "artifact_uri": url},
        "artifact_uri",
    ),
    "dataset uri": ("pipeline_granted", "/api/v1/datasets", lambda world, url: _dataset(url), "uri"),
    "model runbook": (
        "owner",
        "/api/v1/models",
        lambda world, url: {**model_body("new-model", "owner"), "runbook": url},
        "runbook",
    ),
    "CI evidence url": (
        "pipeline_granted",
        f"{CREDIT}/versions/1.1.0/ci-evidence",
        lambda world, url: {"run_id": "ci-9", "report": junit_report(name="ci-9"), "url": url},
        "url",
    ),
    "webhook url": (
        "officer_1",
        "/api/v1/webhooks",
        lambda world, url: {"url": url, "secret": "s" * 32, "events": ["alert.opened"]},
        "url",
    ),
}


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("write", list(WRITES))
def test_it_refuses_a_url_with_a_hostile_scheme(world, client_for, write, hostile):
    who, url, body, field = WRITES[write]
    response = client_for(who).post(url, body(world, hostile), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


@pytest.mark.parametrize(
    "uri", ["s3://lake/a.parquet", "gs://b/k", "abfss://c@acct.dfs.core.windows.net/p", "file:///data/x"]
)
def test_it_takes_artifacts_and_datasets_from_the_documented_storage_schemes(world, client_for, uri):
    pipeline = client_for("pipeline_granted")
    assert pipeline.post("/api/v1/datasets", _dataset(uri), format="json").status_code == 201
    body = {**version_body("3.0.0", links(world.datasets)), "artifact_uri": uri}
    assert pipeline.post(f"{CREDIT}/versions", body, format="json").status_code == 201


def test_it_takes_http_and_https_links(world, client_for):
    body = {
        **version_body("3.0.0", links(world.datasets)),
        "pipeline_run_url": "http://ci.internal/runs/7?tab=log#end",
        "code_repository": "https://git.example.com/risk/credit-risk",
    }
    assert client_for("pipeline_granted").post(f"{CREDIT}/versions", body, format="json").status_code == 201


@pytest.mark.parametrize(
    ("model", "field", "pick"),
    [
        (ModelVersion, "pipeline_run_url", lambda world: world.v110),
        (ModelVersion, "code_repository", lambda world: world.v110),
        (ModelVersion, "artifact_uri", lambda world: world.v110),
        (RegisteredModel, "runbook", lambda world: world.model),
        (Dataset, "uri", lambda world: Dataset.objects.first()),
        (CiEvidence, "url", lambda world: CiEvidence.objects.first()),
    ],
)
def test_the_database_refuses_a_hostile_url_written_around_the_services(world, model, field, pick):
    row = pick(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.filter(pk=row.pk).update(**{field: "javascript:alert(1)"})


def test_the_database_refuses_a_hostile_webhook_target(world, officer_1):
    with pytest.raises(IntegrityError), transaction.atomic():
        Webhook.objects.create(
            url="javascript:alert(1)", secret_encrypted="x", created_by=officer_1, created_at=world.model.created_at
        )


def _pattern(prop: dict) -> str:
    """The pattern of a string property (an optional one is `oneOf` it and the empty string)."""
    return prop.get("pattern") or next(option["pattern"] for option in prop["oneOf"] if "pattern" in option)


def test_the_schema_states_the_url_rules(client_for, people):
    schema = client_for("auditor").get("/api/schema/", HTTP_ACCEPT="application/json").json()["components"]["schemas"]
    version_in = schema["VersionIn"]["properties"]
    assert _pattern(version_in["pipeline_run_url"]).startswith("^https?://")
    assert _pattern(schema["WebhookSubscriptionIn"]["properties"]["url"]).startswith("^https?://")
    assert "|s3|" in _pattern(version_in["artifact_uri"]).replace("(", "|")
    assert _pattern(schema["DatasetIn"]["properties"]["uri"]) == _pattern(version_in["artifact_uri"])
