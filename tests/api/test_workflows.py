"""End-to-end stories through HTTP, as the pipeline, the owner and the officers live them.

The model's production-gate policies and each version's CI evidence are recorded through the
services (their own endpoints are tested elsewhere); everything else goes over the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from governance.demo import FULL_CARD
from governance.models import Approval, Decision, ModelCard, ModelVersion, RegisteredModel
from model_ledger_verify import checkpoints, merkle, notes
from tests.api.factories import (
    PASSWORD,
    as_json,
    decision_item,
    declare_policies,
    ledger_size,
    links,
    model_body,
    post_ci,
    rfc3339,
    sha,
    version_body,
)

LOAN = "/api/v1/models/loan-risk"
REASON = "Validation report reviewed; metrics within thresholds."


def created(response, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.content
    return response.json()


def at(moment: datetime) -> str:
    return rfc3339(moment).replace("+", "%2B")


def verifier(signing_key_file) -> notes.Verifier:
    signer = notes.Signer.from_string(signing_key_file.read_text().strip())
    return notes.Verifier.from_string(signer.verifier_key())


def assert_receipt_verifies(receipt: dict, signing_key_file) -> None:
    """The receipt's inclusion proof leads from its leaf hash to the signed checkpoint's root."""
    inclusion = receipt["inclusion"]
    checkpoint = checkpoints.open_checkpoint(inclusion["checkpoint"], [verifier(signing_key_file)])
    assert checkpoint.size == inclusion["tree_size"] > receipt["seq"]
    merkle.verify_inclusion(
        receipt["seq"],
        checkpoint.size,
        bytes.fromhex(receipt["leaf_hash"]),
        [bytes.fromhex(node) for node in inclusion["proof"]],
        checkpoint.root,
    )


# --- The story of loan-risk -------------------------------------------------------------------
@dataclass
class Story:
    """What happened to loan-risk, with what the callers saw along the way."""

    sets: dict[str, str] = field(default_factory=dict)
    statuses: list[tuple[str, str]] = field(default_factory=list)  # (after what, status of 1.0.0)
    preview: dict[str, Any] = field(default_factory=dict)
    deployments: dict[str, dict[str, Any]] = field(default_factory=dict)  # step -> deployment
    started: dict[str, datetime] = field(default_factory=dict)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    receipts: list[dict[str, Any]] = field(default_factory=list)


def release(client_for, people, story: Story, number: str, parent: str | None) -> None:
    """Register, document, test, review and approve a version, as the pipeline and two officers."""
    pipeline = client_for("pipeline_granted")
    body = created(pipeline.post(f"{LOAN}/versions", version_body(number, links(story.sets), parent), format="json"))
    story.receipts.append(body["receipt"])
    created(pipeline.post(f"{LOAN}/versions/{number}/cards", {"content": FULL_CARD}, format="json"))
    post_ci(ModelVersion.objects.get(model__slug="loan-risk", version=number), people["pipeline_granted"])
    assert created(pipeline.post(f"{LOAN}/versions/{number}/review"), 200)["status"] == "in_review"
    for officer in ("officer_1", "officer_2"):
        client = client_for(officer)
        preview = client.get(f"{LOAN}/versions/{number}/signature").json()
        signed = created(
            client.post(
                f"{LOAN}/versions/{number}/approvals",
                {
                    "meaning": "approved",
                    "reason": REASON,
                    "password": PASSWORD,
                    "card_revision": preview["card_revision"],
                    "expected_sha256": preview["signed_sha256"],
                },
                format="json",
            )
        )
        assert signed["signed_sha256"] == preview["signed_sha256"]
        if number == "1.0.0":
            story.preview.setdefault(officer, preview)
            story.statuses.append((officer, client.get(f"{LOAN}/versions/1.0.0").json()["status"]))


def deploy(client, story: Story, step: str, number: str) -> None:
    body = created(client.post(f"{LOAN}/deployments", {"version": number, "environment": "production"}, format="json"))
    story.deployments[step] = body
    story.started[step] = parse_datetime(body["started_at"])


def log(client_for, story: Story, first: int, count: int, number: str, since: datetime) -> dict[str, Any]:
    items = [
        decision_item(n, number, since + timedelta(microseconds=n), f"applicant-{n % 3}")
        for n in range(first, first + count)
    ]
    body = created(
        client_for("pipeline_granted").post(
            f"{LOAN}/decisions", {"decisions": [as_json(i) for i in items]}, format="json"
        )
    )
    story.decisions.extend(items)
    return body


@pytest.fixture
def story(people, client_for, owner) -> Story:
    """loan-risk (high risk): 1.0.0 approved and serving, 20 decisions; 1.1.0 approved and
    serving, 5 decisions; then the owner rolls production back to 1.0.0."""
    story = Story()
    registered = created(client_for("owner").post("/api/v1/models", model_body("loan-risk", "owner"), format="json"))
    story.receipts.append(registered["receipt"])
    declare_policies(RegisteredModel.objects.get(slug="loan-risk"), owner)
    granted = created(
        client_for("officer_1").post(
            f"{LOAN}/access/grant",
            {"user": "pipeline-granted", "actions": ["register", "log"], "reason": "Training and serving pipeline"},
            format="json",
        ),
        200,
    )
    assert granted["actions"] == ["log", "register", "view"]
    pipeline = client_for("pipeline_granted")
    for name in ("train", "validation", "test"):
        body = {"name": f"loan-{name}", "uri": f"s3://data/loan/{name}.parquet", "sha256": sha(f"loan-{name}")}
        story.sets[name] = created(pipeline.post("/api/v1/datasets", {**body, "size_bytes": 10}, format="json"))[
            "sha256"
        ]
    release(client_for, people, story, "1.0.0", None)
    deploy(pipeline, story, "first", "1.0.0")
    story.statuses.append(("deployment", client_for("owner").get(f"{LOAN}/versions/1.0.0").json()["status"]))
    log(client_for, story, 1, 20, "1.0.0", story.started["first"])
    release(client_for, people, story, "1.1.0", "1.0.0")
    deploy(pipeline, story, "upgrade", "1.1.0")
    log(client_for, story, 21, 5, "1.1.0", story.started["upgrade"])
    deploy(client_for("owner"), story, "rollback", "1.0.0")
    return story


def test_a_high_risk_version_is_approved_by_two_officers_deployed_and_rolled_back(story, client_for):
    assert story.preview["officer_1"]["approvals_required"] == 2
    assert story.preview["officer_1"]["card_revision"] == 1
    assert story.statuses == [("officer_1", "in_review"), ("officer_2", "approved"), ("deployment", "deployed")]
    client = client_for("auditor")
    approvals = client.get(f"{LOAN}/versions/1.0.0/approvals").json()["results"]
    assert [(a["signer"], a["meaning"], a["card_revision"]) for a in approvals] == [
        ("officer-1", "approved", 1),
        ("officer-2", "approved", 1),
    ]
    assert all(check["passed"] for a in approvals for check in a["sod_checks"])
    assert [gate["gate"] for gate in story.deployments["first"]["gates"] if not gate["passed"]] == []
    assert story.deployments["upgrade"]["rollback_of"] is None
    assert story.deployments["rollback"]["rollback_of"] == "1.1.0"
    rows = client.get(f"{LOAN}/deployments").json()["results"]
    assert [(d["version"], d["ended_at"] is None) for d in rows] == [
        ("1.0.0", True),
        ("1.1.0", False),
        ("1.0.0", False),
    ]
    statuses = {v["version"]: v["status"] for v in client.get(f"{LOAN}/versions").json()["results"]}
    assert statuses == {"1.0.0": "deployed", "1.1.0": "approved"}


def test_deployments_at_answer_which_version_served_and_who_approved_it(story, client_for):
    first, upgrade, rollback = (story.started[step] for step in ("first", "upgrade", "rollback"))
    client = client_for("auditor")

    def served(moment: datetime) -> tuple[str | None, list[str]]:
        body = client.get(f"{LOAN}/deployments/at?environment=production&at={at(moment)}").json()
        version = body["deployment"]["version"] if body["deployment"] else None
        return version, [a["signer"] for a in body["approvals"]]

    assert served(first - timedelta(seconds=1)) == (None, [])
    assert served(first + (upgrade - first) / 2) == ("1.0.0", ["officer-1", "officer-2"])
    assert served(upgrade + (rollback - upgrade) / 2) == ("1.1.0", ["officer-1", "officer-2"])
    assert served(rollback + timedelta(days=1)) == ("1.0.0", ["officer-1", "officer-2"])
    assert client.get(f"{LOAN}/deployments/at?environment=staging&at={at(rollback)}").json() == {
        "deployment": None,
        "approvals": [],
    }


def test_decisions_are_found_by_subject_version_and_time_and_take_human_reviews(story, client_for):
    client = client_for("officer_2")
    about_1 = {i["decision_id"] for i in story.decisions if i["subject_ref"] == "applicant-1"}
    assert len(about_1) == 9
    found = client.get("/api/v1/decisions?subject_ref=applicant-1&page_size=100").json()["results"]
    assert {d["decision_id"] for d in found} == about_1
    assert client.get("/api/v1/decisions?subject_ref=applicant-9").json()["count"] == 0

    of_100 = sorted(i["occurred_at"] for i in story.decisions if i["version"] == "1.0.0")
    since, until = of_100[5], of_100[15]
    url = f"{LOAN}/decisions?version=1.0.0&occurred_after={at(since)}&occurred_before={at(until)}&page_size=100"
    found = client.get(url).json()["results"]
    assert {d["decision_id"] for d in found} == {f"d-{n:05d}" for n in range(6, 16)}
    assert {d["version"] for d in found} == {"1.0.0"}
    assert client.get(f"{LOAN}/decisions?version=1.1.0").json()["count"] == 5

    review = created(
        client_for("officer_1").post(
            f"{LOAN}/decisions/d-00007/reviews",
            {"action": "override", "reason_code": "DOCS", "reason": "Income verified.", "final_label": "approve"},
            format="json",
        )
    )
    assert review["receipt"]["seq"] >= 0
    detail = client_for("auditor").get(f"{LOAN}/decisions/d-00007").json()
    assert [(r["reviewer"], r["action"], r["final_label"]) for r in detail["reviews"]] == [
        ("officer-1", "override", "approve")
    ]
    assert detail["subject_ref"] == "applicant-1"


def test_the_story_leaves_a_lineage_and_a_trail_an_auditor_can_follow(story, client_for):
    created(
        client_for("pipeline_granted").post(
            f"{LOAN}/versions", version_body("1.2.0", links(story.sets), "1.1.0"), format="json"
        )
    )
    client = client_for("auditor")
    middle = client.get(f"{LOAN}/versions/1.1.0/lineage").json()
    assert [v["version"] for v in middle["ancestors"]] == ["1.0.0"]
    assert [v["version"] for v in middle["descendants"]] == ["1.2.0"]
    root = client.get(f"{LOAN}/versions/1.0.0/lineage").json()
    assert root["ancestors"] == []
    assert [v["version"] for v in root["descendants"]] == ["1.1.0", "1.2.0"]
    leaf = client.get(f"{LOAN}/versions/1.2.0/lineage").json()
    assert [v["version"] for v in leaf["ancestors"]] == ["1.1.0", "1.0.0"]

    trained = client.get(f"/api/v1/datasets/{story.sets['train']}/versions").json()["results"]
    assert [(v["model"], v["version"]) for v in trained] == [
        ("loan-risk", "1.0.0"),
        ("loan-risk", "1.1.0"),
        ("loan-risk", "1.2.0"),
    ]
    assert client.get(f"/api/v1/datasets/{story.sets['test']}/versions").json()["count"] == 0

    for receipt in story.receipts:
        entry = client.get(f"/api/v1/ledger/entries/{receipt['seq']}")
        assert entry.status_code == 200
        assert entry.json()["leaf_hash"] == receipt["leaf_hash"]

    again = client_for("pipeline_granted").post(
        "/api/v1/datasets",
        {"name": "renamed", "uri": "s3://elsewhere", "sha256": story.sets["train"], "size_bytes": 10},
        format="json",
    )
    assert again.status_code == 200
    assert (again.json()["name"], again.json()["uri"]) == ("loan-train", "s3://data/loan/train.parquet")


# --- Signatures -------------------------------------------------------------------------------
def sign(client: APIClient, url: str, **body: Any):
    return client.post(f"{url}/approvals", {"meaning": "approved", "reason": REASON, **body}, format="json")


V110 = "/api/v1/models/credit-risk/versions/1.1.0"


def test_a_signature_with_the_wrong_password_is_refused_and_writes_nothing(world, client_for):
    before = ledger_size()
    response = sign(client_for("officer_1"), V110, password="not-my-password")
    assert response.status_code == 403
    assert response.json()["code"] == "reauthentication_failed"
    assert ledger_size() == before
    assert not Approval.objects.filter(version=world.v110).exists()
    world.v110.refresh_from_db()
    assert world.v110.status == "registered"


def test_a_signature_without_a_password_writes_nothing(world, client_for):
    before = ledger_size()
    for body in ({}, {"password": ""}, {"password": None}):
        response = sign(client_for("officer_1"), V110, **body)
        assert response.status_code in (400, 403), response.content
    assert ledger_size() == before
    assert not Approval.objects.filter(version=world.v110).exists()


def test_a_signature_without_a_password_is_a_failed_reauthentication(world, client_for):
    response = sign(client_for("officer_1"), V110)
    assert response.status_code == 403
    assert response.json()["code"] == "reauthentication_failed"


def test_a_low_risk_model_is_approved_by_one_officer(world, client_for):
    url = "/api/v1/models/fraud-score/versions/0.1.0"
    created(client_for("owner").post(f"{url}/cards", {"content": FULL_CARD}, format="json"))
    assert client_for("officer_1").get(f"{url}/signature").json()["approvals_required"] == 1
    created(sign(client_for("officer_2"), url, password=PASSWORD))
    assert client_for("owner").get(url).json()["status"] == "approved"


def test_a_stale_expected_hash_is_a_conflict_and_writes_nothing(world, client_for):
    preview = client_for("officer_1").get(f"{V110}/signature").json()
    created(
        client_for("pipeline_granted").post(
            f"{V110}/cards", {"content": {**FULL_CARD, "factors": "More."}}, format="json"
        )
    )
    before = ledger_size()
    response = sign(client_for("officer_1"), V110, password=PASSWORD, expected_sha256=preview["signed_sha256"])
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert list(response.json()["errors"]) == ["expected_sha256"]
    assert ledger_size() == before


def test_an_approved_card_takes_no_new_revision(world, client_for):
    response = client_for("pipeline_granted").post(
        "/api/v1/models/credit-risk/versions/1.0.0/cards",
        {"content": {**FULL_CARD, "factors": "Late edit."}},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert ModelCard.objects.filter(version=world.v100).count() == 1


def test_both_approvals_of_a_high_risk_version_cover_the_same_content(world, client_for):
    created(sign(client_for("officer_1"), V110, password=PASSWORD))
    client_for("pipeline_granted").post(
        f"{V110}/cards", {"content": {**FULL_CARD, "factors": "Changed."}}, format="json"
    )
    sign(client_for("officer_2"), V110, password=PASSWORD)
    world.v110.refresh_from_db()
    signed = set(
        Approval.objects.filter(version=world.v110, meaning="approved").values_list("signed_sha256", flat=True)
    )
    assert world.v110.status != "approved" or len(signed) == 1


# --- Decision batches -------------------------------------------------------------------------
CREDIT_DECISIONS = "/api/v1/models/credit-risk/decisions"


def batch(world, first: int, count: int, **overrides: Any) -> list[dict[str, Any]]:
    start = world.deployment.started_at
    return [
        as_json({**decision_item(n, "1.0.0", start + timedelta(milliseconds=n)), **overrides})
        for n in range(first, first + count)
    ]


def test_a_batch_with_a_malformed_item_is_refused_whole(world, client_for):
    items = batch(world, 100, 4)
    del items[3]["output_label"]
    before = (ledger_size(), Decision.objects.count())
    response = client_for("pipeline_granted").post(CREDIT_DECISIONS, {"decisions": items}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert (ledger_size(), Decision.objects.count()) == before


def test_a_malformed_item_is_named_by_its_index_and_its_fields(world, client_for):
    items = batch(world, 100, 4)
    del items[3]["output_label"]
    items[1]["mode"] = "psychic"
    response = client_for("pipeline_granted").post(CREDIT_DECISIONS, {"decisions": items}, format="json")
    errors = response.json()["errors"]
    assert sorted(errors) == ["1", "3"], errors
    assert (list(errors["1"]), list(errors["3"])) == (["mode"], ["output_label"])


def test_items_that_contradict_the_record_are_refused_whole_with_errors_by_index(world, client_for):
    items = batch(world, 100, 4)
    items[1]["input_sha256"] = sha("something else")
    items[2]["version"] = "9.9.9"
    before = (ledger_size(), Decision.objects.count())
    response = client_for("pipeline_granted").post(CREDIT_DECISIONS, {"decisions": items}, format="json")
    assert response.status_code == 400
    assert response.json()["message"]
    assert {index: list(fields) for index, fields in response.json()["errors"].items()} == {
        "1": ["input_sha256"],
        "2": ["version"],
    }
    assert (ledger_size(), Decision.objects.count()) == before


def test_a_decision_outside_any_deployment_is_a_conflict_and_nothing_is_written(world, client_for):
    items = batch(world, 200, 3)
    items[2]["occurred_at"] = rfc3339(world.deployment.started_at - timedelta(days=1))
    before = (ledger_size(), Decision.objects.count())
    response = client_for("pipeline_granted").post(CREDIT_DECISIONS, {"decisions": items}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert list(response.json()["errors"]) == ["2"]
    assert (ledger_size(), Decision.objects.count()) == before


def test_resending_a_batch_changes_nothing_and_returns_the_same_receipts(world, client_for):
    client = client_for("pipeline_granted")
    items = batch(world, 300, 10)
    first = client.post(CREDIT_DECISIONS, {"decisions": items}, format="json")
    assert first.status_code == 201
    assert first.json()["created"] == 10
    before = (ledger_size(), Decision.objects.count())
    again = client.post(CREDIT_DECISIONS, {"decisions": items}, format="json")
    assert again.status_code == 200
    assert again.json()["created"] == 0
    assert again.json()["decisions"] == first.json()["decisions"]
    assert (ledger_size(), Decision.objects.count()) == before


def test_resending_a_decision_id_with_other_content_is_a_conflict(world, client_for):
    client = client_for("pipeline_granted")
    created(client.post(CREDIT_DECISIONS, {"decisions": batch(world, 400, 2)}, format="json"))
    changed = batch(world, 400, 2, output_label="decline")
    response = client.post(CREDIT_DECISIONS, {"decisions": changed}, format="json")
    assert response.status_code == 409
    assert sorted(response.json()["errors"]) == ["0", "1"]


def test_a_batch_of_a_thousand_decisions_is_logged_and_one_more_is_refused(world, client_for):
    client = client_for("pipeline_granted")
    thousand = batch(world, 1_000, 1_000)
    response = client.post(CREDIT_DECISIONS, {"decisions": thousand}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["created"] == 1_000
    assert len({item["receipt"]["seq"] for item in body["decisions"]}) == 1_000
    before = (ledger_size(), Decision.objects.count())
    too_many = batch(world, 5_000, 1_001)
    refused = client.post(CREDIT_DECISIONS, {"decisions": too_many}, format="json")
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["decisions"]
    assert (ledger_size(), Decision.objects.count()) == before


def test_an_empty_batch_is_refused(world, client_for):
    response = client_for("pipeline_granted").post(CREDIT_DECISIONS, {"decisions": []}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["decisions"]


# --- Receipts with inclusion proofs -----------------------------------------------------------
def test_a_write_waiting_for_a_checkpoint_gets_an_inclusion_proof_that_verifies(world, client_for, signing_key_file):
    response = client_for("pipeline_granted").post(
        "/api/v1/datasets?wait=checkpoint",
        {"name": "holdout", "uri": "s3://data/holdout.parquet", "sha256": sha("holdout"), "size_bytes": 5},
        format="json",
    )
    receipt = created(response)["receipt"]
    assert_receipt_verifies(receipt, signing_key_file)


def test_every_receipt_of_a_batch_waiting_for_a_checkpoint_verifies(world, client_for, signing_key_file):
    response = client_for("pipeline_granted").post(
        f"{CREDIT_DECISIONS}?wait=checkpoint", {"decisions": batch(world, 600, 7)}, format="json"
    )
    receipts = [item["receipt"] for item in created(response)["decisions"]]
    assert len({r["inclusion"]["tree_size"] for r in receipts}) == 1
    for receipt in receipts:
        assert_receipt_verifies(receipt, signing_key_file)


def test_a_receipt_without_waiting_has_no_inclusion_proof(world, client_for):
    receipt = created(client_for("owner").post(f"{V110}/cards", {"content": FULL_CARD}, format="json"))["receipt"]
    assert set(receipt) == {"idempotency_key", "seq", "leaf_hash"}


def test_a_batch_not_waiting_is_accepted_once_committed_and_sequenced_later(world, client_for):
    from ledger.models import Entry, Submission

    client = client_for("pipeline_granted")
    items = batch(world, 500, 5)
    response = client.post(f"{CREDIT_DECISIONS}?wait=none", {"decisions": items}, format="json")
    assert response.status_code == 202
    assert response.json()["created"] == 5
    receipts = [d["receipt"] for d in response.json()["decisions"]]
    keys = [r["idempotency_key"] for r in receipts]
    assert all(set(r) == {"idempotency_key"} for r in receipts)
    # Durable in the queue, not yet in the log.
    assert Submission.objects.filter(idempotency_key__in=keys).count() == 5
    assert not Entry.objects.filter(idempotency_key__in=keys).exists()
    # Resending, waiting for the entries, writes nothing and answers the full receipts.
    again = client.post(CREDIT_DECISIONS, {"decisions": items}, format="json")
    assert again.status_code == 200
    assert again.json()["created"] == 0
    assert [d["receipt"]["idempotency_key"] for d in again.json()["decisions"]] == keys
    entries = {e.idempotency_key: e.seq for e in Entry.objects.filter(idempotency_key__in=keys)}
    assert [d["receipt"]["seq"] for d in again.json()["decisions"]] == [entries[key] for key in keys]


def test_only_decision_batches_may_skip_waiting_for_their_entries(world, client_for):
    response = client_for("pipeline_granted").post("/api/v1/datasets?wait=none", {}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"wait": ["`wait` must be entry or checkpoint."]}
