"""Malformed input is refused with 400 and the one error shape, and never answers 500.

The second half holds inputs that once answered 500 (some on one database only): too large to
store, too deeply nested, NUL characters, times at the edge of the calendar; and a malformed
?wait= that used to be refused only after the write.
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from governance.models import Dataset, ModelVersion
from tests.api.factories import as_json, decision_item, ledger_size, sha, version_body

CREDIT = "/api/v1/models/credit-risk"


@pytest.fixture
def as_persona(people):
    """A client that answers 500 instead of raising, so a server error is an assertion."""

    def make(persona: str) -> APIClient:
        client = APIClient(raise_request_exception=False)
        client.force_authenticate(people[persona])
        return client

    return make


def dataset(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "holdout",
        "uri": "s3://data/holdout.parquet",
        "sha256": sha("holdout"),
        "size_bytes": 5,
        **overrides,
    }


def decisions_of(world, **overrides: Any) -> dict[str, Any]:
    item = as_json(decision_item(900, "1.0.0", world.deployment.started_at))
    return {"decisions": [{**item, **overrides}]}


# (persona, path, body or a function of the world) -> 400 {"code", "message", "errors"}
MALFORMED_BODIES = {
    "a dataset without a hash": ("pipeline_granted", "/api/v1/datasets", {"name": "x", "uri": "y", "size_bytes": 1}),
    "a dataset hash that is not SHA-256": ("pipeline_granted", "/api/v1/datasets", dataset(sha256="ABC")),
    "a negative dataset size": ("pipeline_granted", "/api/v1/datasets", dataset(size_bytes=-1)),
    "a dataset size that is text": ("pipeline_granted", "/api/v1/datasets", dataset(size_bytes="big")),
    "a dataset as a list": ("pipeline_granted", "/api/v1/datasets", [dataset()]),
    "a model slug with spaces": (
        "owner",
        "/api/v1/models",
        {
            "slug": "Bad Slug",
            "name": "n",
            "intended_purpose": "p",
            "regulated_use": "credit",
            "risk_tier": "high",
            "owner": "owner",
        },
    ),
    "a model owned by nobody known": (
        "owner",
        "/api/v1/models",
        {
            "slug": "ok",
            "name": "n",
            "intended_purpose": "p",
            "regulated_use": "credit",
            "risk_tier": "extreme",
            "owner": "ghost",
        },
    ),
    "a version without training data": (
        "pipeline_granted",
        f"{CREDIT}/versions",
        lambda w: {**version_body("2.0.0", [{"sha256": w.datasets["test"], "role": "test"}])},
    ),
    "a version naming an unregistered dataset": (
        "pipeline_granted",
        f"{CREDIT}/versions",
        lambda w: version_body("2.0.0", [{"sha256": sha("unknown"), "role": "training"}]),
    ),
    "a version with a bad name and parent": (
        "pipeline_granted",
        f"{CREDIT}/versions",
        lambda w: version_body("2 0 0!", [{"sha256": w.datasets["train"], "role": "training"}], parent="0.0.1"),
    ),
    "a metric that is not a decimal string": (
        "pipeline_granted",
        f"{CREDIT}/versions",
        lambda w: {
            **version_body("2.0.0", [{"sha256": w.datasets["train"], "role": "training"}]),
            "metrics": [{"name": "auc", "value": "1e-3"}],
        },
    ),
    "a card section that does not exist": (
        "pipeline_granted",
        f"{CREDIT}/versions/1.1.0/cards",
        {"content": {"secret_sauce": "x"}},
    ),
    "an empty card": ("pipeline_granted", f"{CREDIT}/versions/1.1.0/cards", {"content": {}}),
    "a signature meaning nothing": (
        "officer_1",
        f"{CREDIT}/versions/1.1.0/approvals",
        {"meaning": "maybe", "reason": "r", "password": "p"},
    ),
    "a signature of a card revision that does not exist": (
        "officer_1",
        f"{CREDIT}/versions/1.1.0/approvals",
        {"meaning": "reviewed", "reason": "r", "password": "correct-horse-battery-staple", "card_revision": 99},
    ),
    "an environment that is not a name": (
        "pipeline_granted",
        f"{CREDIT}/deployments",
        {"version": "1.0.0", "environment": "Prod Env!"},
    ),
    "decisions that are not a list": ("pipeline_granted", f"{CREDIT}/decisions", {"decisions": "all of them"}),
    "a decision score that is not a decimal": (
        "pipeline_granted",
        f"{CREDIT}/decisions",
        lambda w: decisions_of(w, output_score="high"),
    ),
    "a decision in an unknown mode": (
        "pipeline_granted",
        f"{CREDIT}/decisions",
        lambda w: decisions_of(w, mode="psychic"),
    ),
    "an override without a reason": (
        "pipeline_granted",
        f"{CREDIT}/decisions",
        lambda w: decisions_of(w, overridden=True, override_reason=""),
    ),
    "a snapshot with a float": (
        "pipeline_granted",
        f"{CREDIT}/decisions",
        lambda w: decisions_of(w, input_snapshot={"income": 1.5}),
    ),
    "a grant to a user and a group at once": (
        "officer_1",
        f"{CREDIT}/access/grant",
        {"user": "pipeline-stranger", "group": "pipeline", "actions": ["view"]},
    ),
    "a grant of an unknown action": (
        "officer_1",
        f"{CREDIT}/access/grant",
        {"user": "pipeline-stranger", "actions": ["approve"]},
    ),
    "a review with an unknown action": (
        "officer_1",
        f"{CREDIT}/decisions/d-00001/reviews",
        {"action": "shrug", "reason": "r"},
    ),
    "an override review without a reason": (
        "officer_1",
        f"{CREDIT}/decisions/d-00001/reviews",
        {"action": "override", "reason": ""},
    ),
    "an erasure without a basis": ("officer_1", f"{CREDIT}/decisions/d-00001/erase", {"reason": ""}),
    "validation due before the last validation": (
        "officer_1",
        f"{CREDIT}/validation",
        {"validated_at": "2026-05-01", "next_validation_due": "2026-01-01", "valid_until": None},
    ),
    "a transfer to a pipeline": ("owner", f"{CREDIT}/transfers", {"to_owner": "pipeline-granted"}),
}


def assert_error_shape(response, status: int = 400) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "errors"}
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], dict)
    return body


def test_every_malformed_body_is_refused_with_400_and_writes_nothing(world, as_persona):
    """Refusals write nothing (checked after each), so the cases take turns on one world."""
    before = ledger_size()
    answers = {}
    for case, (persona, path, body) in MALFORMED_BODIES.items():
        response = as_persona(persona).post(path, body(world) if callable(body) else body, format="json")
        answers[case] = (response.status_code, response.json().get("code"), ledger_size() - before)
        if response.status_code == 400:
            assert_error_shape(response)
    assert answers == dict.fromkeys(MALFORMED_BODIES, (400, "invalid", 0))


MALFORMED_QUERIES = (
    "/api/v1/decisions",
    "/api/v1/decisions?subject_ref=",
    f"{CREDIT}/deployments/at?at=2026-01-01T00:00:00Z",
    f"{CREDIT}/deployments/at?environment=production",
    f"{CREDIT}/deployments/at?environment=production&at=yesterday",
    f"{CREDIT}/deployments/at?environment=production&at=2026-01-01T00:00:00",
    f"{CREDIT}/decisions?occurred_after=last-week",
    "/api/v1/versions?status=pending",
    "/api/v1/versions?registered_after=2026-13-45",
    "/api/v1/models?risk_tier=extreme",
)


def test_every_malformed_query_is_refused_with_400_naming_the_parameter(world, as_persona):
    client = as_persona("auditor")
    answers = {}
    for path in MALFORMED_QUERIES:
        response = client.get(path)
        answers[path] = response.status_code
        if response.status_code == 400:
            body = assert_error_shape(response)
            assert body["code"] in {"invalid", "invalid_parameters"}, path
            assert body["errors"], path
    assert answers == dict.fromkeys(MALFORMED_QUERIES, 400)


@pytest.mark.parametrize(
    "path",
    [f"{CREDIT}/decisions?overridden=perhaps", f"{CREDIT}/deployments?active=sometimes"],
)
def test_a_boolean_filter_that_is_not_a_boolean_is_refused(path, world, as_persona):
    assert as_persona("auditor").get(path).status_code == 400


def test_a_body_that_is_not_json_is_a_parse_error(world, as_persona):
    response = as_persona("pipeline_granted").post(
        "/api/v1/datasets", data="{not json", content_type="application/json"
    )
    assert assert_error_shape(response)["code"] == "parse_error"


def test_an_unknown_page_is_404(world, as_persona):
    assert_error_shape(as_persona("auditor").get("/api/v1/models?page=99"), 404)


# --- Inputs that once answered 500 -----------------------------------------------------------
def test_a_dataset_size_too_large_to_store_is_a_400(world, as_persona):
    for field in ("size_bytes", "row_count"):
        response = as_persona("pipeline_granted").post("/api/v1/datasets", dataset(**{field: 2**63}), format="json")
        assert response.status_code == 400, (field, response.status_code)
        assert not Dataset.objects.filter(sha256=sha("holdout")).exists()


def test_a_deeply_nested_body_is_a_parse_error(world, as_persona):
    response = as_persona("pipeline_granted").post(
        "/api/v1/datasets", data="[" * 100_000, content_type="application/json"
    )
    assert response.status_code == 400, response.status_code


NUL_IN_URL = (
    f"{CREDIT}/versions/%00",
    f"{CREDIT}/versions/%00/cards",
    f"{CREDIT}/decisions/%00",
    "/api/v1/datasets/%00",
    "/api/v1/datasets/%00/versions",
    "/api/v1/decisions?subject_ref=%00",
    f"{CREDIT}/deployments/at?environment=%00&at=2026-01-01T00:00:00Z",
)


def test_a_nul_character_in_the_url_is_never_a_server_error(world, as_persona):
    client = as_persona("auditor")
    answers = {path: client.get(path).status_code for path in NUL_IN_URL}
    assert {path: status for path, status in answers.items() if status >= 500} == {}


@pytest.mark.parametrize("where", ["hyperparameter name", "input snapshot"])
def test_a_nul_character_inside_stored_json_is_never_a_server_error(where, world, as_persona):
    from model_ledger_verify import canonical

    if where == "hyperparameter name":
        path = f"{CREDIT}/versions"
        body = {**version_body("2.0.0", [{"sha256": world.datasets["train"], "role": "training"}])}
        body["hyperparameters"] = {"depth\u0000": "6"}
    else:
        import hashlib

        snapshot = {"note": "a\u0000b"}
        path = f"{CREDIT}/decisions"
        body = decisions_of(
            world, input_snapshot=snapshot, input_sha256=hashlib.sha256(canonical.dumps(snapshot)).hexdigest()
        )
    response = as_persona("pipeline_granted").post(path, body, format="json")
    assert response.status_code < 500, response.status_code


@pytest.mark.parametrize("content_type", ["form", "multipart"])
def test_a_nul_character_in_a_form_body_is_refused_with_400(content_type, world, as_persona):
    # A form-encoded transfer naming an owner "\x00ö" once reached PostgreSQL and answered 500.
    client = as_persona("officer_1")
    path = f"{CREDIT}/transfers"
    if content_type == "form":
        response = client.post(path, "to_owner=%00%C3%B6", content_type="application/x-www-form-urlencoded")
    else:
        response = client.post(path, {"to_owner": "\x00\u00f6"}, format="multipart")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "parse_error"
    assert "NUL" in response.json()["message"]


OUT_OF_RANGE_TIMES = (
    f"{CREDIT}/decisions?occurred_after=0001-01-01T00:00:00%2B01:00",
    f"{CREDIT}/decisions?occurred_before=9999-12-31T23:59:59-01:00",
    "/api/v1/versions?registered_after=0001-01-01T00:00:00%2B01:00",
    f"{CREDIT}/deployments/at?environment=production&at=0001-01-01T00:00:00%2B01:00",
    f"{CREDIT}/deployments/at?environment=production&at=9999-12-31T23:59:59-01:00",
)


def test_a_time_at_the_edge_of_the_calendar_is_never_a_server_error(world, as_persona):
    client = as_persona("auditor")
    answers = {path: client.get(path).status_code for path in OUT_OF_RANGE_TIMES}
    assert {path: status for path, status in answers.items() if status not in (200, 400)} == {}


def test_a_time_with_an_offset_beyond_postgresqls_is_answered_as_the_same_time_in_utc(world, as_persona):
    # RFC 3339 offsets reach ±23:59; PostgreSQL refuses those past ±15:59 (once a 500).
    client = as_persona("auditor")
    far = client.get(f"{CREDIT}/deployments/at?environment=production&at=2026-12-08T17:40:00%2B17:40")
    utc = client.get(f"{CREDIT}/deployments/at?environment=production&at=2026-12-08T00:00:00Z")
    assert (far.status_code, far.json()) == (200, utc.json())


def test_a_malformed_wait_parameter_writes_nothing(world, as_persona):
    client = as_persona("pipeline_granted")
    before = ledger_size()
    for path, body in (
        ("/api/v1/datasets?wait=bogus", dataset()),
        (f"{CREDIT}/decisions?wait=soon", decisions_of(world)),
    ):
        assert client.post(path, body, format="json").status_code == 400
        assert ledger_size() == before, f"{path} was refused but written"


def test_errors_of_nested_fields_are_messages_not_python_reprs(world, as_persona):
    response = as_persona("pipeline_granted").post(
        f"{CREDIT}/versions/1.1.0/cards", {"content": {"model_details": ["not", "text"]}}, format="json"
    )
    body = assert_error_shape(response)
    assert "ErrorDetail" not in response.content.decode(), body["errors"]


def test_nothing_is_registered_when_a_version_body_is_refused(world, as_persona):
    before = ModelVersion.objects.count()
    as_persona("pipeline_granted").post(f"{CREDIT}/versions", {"version": "2.0.0"}, format="json")
    assert ModelVersion.objects.count() == before
