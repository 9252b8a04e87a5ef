"""Who may do what, endpoint by endpoint and persona by persona (DESIGN.md, roles table).

Every endpoint of api/urls.py is here but the ledger's (tests/api/test_ledger_api.py) and the
gates, monitoring, alerts, retraining and webhook ones (tests/api/test_monitoring_api.py).

401 without credentials, 404 for what the caller may not read (and lists never show it), 403 for
a forbidden write on something readable. Reads and refused writes change nothing (the refusals
are checked to leave the ledger untouched), so the personas take turns on one world; every
permitted write starts from a fresh world of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from governance.demo import FULL_CARD
from governance.models import Approval, Dataset, ModelVersion, RegisteredModel, Report
from governance.roles import Role
from governance.services import access as access_services
from governance.services import registry
from governance.services import reports as report_services
from ledger.models import Entry
from tests.api.factories import (
    CREDIT_READERS,
    CREDIT_STRANGERS,
    OFFICERS,
    PASSWORD,
    PERSONAS,
    READ_ALL,
    World,
    as_json,
    decision_item,
    ledger_size,
    links,
    rfc3339,
    sha,
    version,
    version_body,
)

CREDIT = "/api/v1/models/credit-risk"
ERROR_CODES = {401: "not_authenticated", 403: "permission_denied", 404: "not_found", 409: "conflict"}
# Who may read reports on credit-risk: its owner and every reader of all records.
REPORT_READERS = ("owner", *READ_ALL)


def table(ok=(), forbidden=(), hidden=(), conflict=(), *, ok_status: int = 200) -> dict[str, int]:
    """The expected status for every persona: anonymous 401, then ok / 403 / 404 / 409."""
    expected = {"anonymous": 401}
    expected.update(dict.fromkeys(ok, ok_status))
    expected.update(dict.fromkeys(forbidden, 403))
    expected.update(dict.fromkeys(hidden, 404))
    expected.update(dict.fromkeys(conflict, 409))
    assert sorted(expected) == sorted(PERSONAS), f"row misses {set(PERSONAS) - set(expected)}"
    return expected


def everyone_signed_in(ok_status: int = 200) -> dict[str, int]:
    return table(ok=[p for p in PERSONAS if p != "anonymous"], ok_status=ok_status)


def url_of(target: str | Callable[[World], str], world: World) -> str:
    return target(world) if callable(target) else target


def train(world: World) -> str:
    return world.datasets["train"]


def pending_report(world: World) -> str:
    """A version report the owner asked for; it stays pending (generation starts on commit)."""
    report = report_services.report_request(actor=world.model.owner, kind="version", version=world.v100)
    return f"/api/v1/reports/{report.pk}"


def reports_with_one_pending(world: World) -> str:
    pending_report(world)
    return "/api/v1/reports"


def trace() -> tuple[int, int]:
    """What a write leaves behind: ledger events, and report requests (which log on generation)."""
    return ledger_size(), Report.objects.count()


# --- Reads ------------------------------------------------------------------------------------
READS: dict[str, tuple[str | Callable[[World], str], dict[str, int]]] = {
    "list models": ("/api/v1/models", everyone_signed_in()),
    "read credit-risk": (CREDIT, table(ok=CREDIT_READERS, hidden=CREDIT_STRANGERS)),
    "read an ungranted model": (
        "/api/v1/models/fraud-score",
        table(ok=("owner", *READ_ALL), hidden=("pipeline_granted", *CREDIT_STRANGERS)),
    ),
    "read access grants": (
        f"{CREDIT}/access",
        table(ok=(*OFFICERS, "admin"), forbidden=("pipeline_granted", "owner", "auditor"), hidden=CREDIT_STRANGERS),
    ),
    "list datasets": ("/api/v1/datasets", everyone_signed_in()),
    "read a linked dataset": (
        lambda w: f"/api/v1/datasets/{train(w)}",
        table(ok=CREDIT_READERS, hidden=CREDIT_STRANGERS),
    ),
    "read a dataset linked to nothing": (
        lambda w: f"/api/v1/datasets/{w.datasets['stranger-notes']}",
        table(ok=("pipeline_stranger", *READ_ALL), hidden=("pipeline_granted", "owner", "other_owner")),
    ),
    "list versions trained on a dataset": (
        lambda w: f"/api/v1/datasets/{train(w)}/versions",
        table(ok=CREDIT_READERS, hidden=CREDIT_STRANGERS),
    ),
    "list the version queue": ("/api/v1/versions", everyone_signed_in()),
    "list versions of a model": (f"{CREDIT}/versions", table(ok=CREDIT_READERS, hidden=CREDIT_STRANGERS)),
    "read a version": (f"{CREDIT}/versions/1.0.0", table(ok=CREDIT_READERS, hidden=CREDIT_STRANGERS)),
    "read a version's lineage": (
        f"{CREDIT}/versions/1.1.0/lineage",
        table(ok=CREDIT_READERS, hidden=CREDIT_STRANGERS),
    ),
    "list card revisions": (f"{CREDIT}/versions/1.0.0/cards", table(ok=CREDIT_READERS, hidden=CREDIT_STRANGERS)),
    "list approvals": (f"{CREDIT}/versions/1.0.0/approvals", table(ok=CREDIT_READERS, hidden=CREDIT_STRANGERS)),
    "preview a signature": (
        f"{CREDIT}/versions/1.1.0/signature",
        table(ok=CREDIT_READERS, hidden=CREDIT_STRANGERS),
    ),
    "list deployments": (f"{CREDIT}/deployments", table(ok=CREDIT_READERS, hidden=CREDIT_STRANGERS)),
    "ask what served at a time": (
        lambda w: f"{CREDIT}/deployments/at?environment=production&at={rfc3339(timezone.now())}",
        table(ok=CREDIT_READERS, hidden=CREDIT_STRANGERS),
    ),
    "list decisions of a model": (f"{CREDIT}/decisions", table(ok=CREDIT_READERS, hidden=CREDIT_STRANGERS)),
    "read a decision": (f"{CREDIT}/decisions/d-00001", table(ok=CREDIT_READERS, hidden=CREDIT_STRANGERS)),
    "search decisions by subject": ("/api/v1/decisions?subject_ref=applicant-1", everyone_signed_in()),
    "list reports": ("/api/v1/reports", everyone_signed_in()),
    "read a report": (pending_report, table(ok=REPORT_READERS, hidden=("pipeline_granted", *CREDIT_STRANGERS))),
    "download a report not ready yet": (
        lambda w: f"{pending_report(w)}/download",
        table(conflict=REPORT_READERS, hidden=("pipeline_granted", *CREDIT_STRANGERS)),
    ),
}


@pytest.mark.parametrize("endpoint", list(READS))
def test_reading_answers_every_persona_with_the_expected_status(endpoint, world, client_for):
    target, expected = READS[endpoint]
    url = url_of(target, world)
    responses = {persona: client_for(persona).get(url) for persona in PERSONAS}
    assert {p: r.status_code for p, r in responses.items()} == expected
    for persona, response in responses.items():
        if response.status_code in ERROR_CODES:
            assert response.json()["code"] == ERROR_CODES[response.status_code], persona


BOTH_MODELS = {"credit-risk", "fraud-score"}
CREDIT_VERSIONS = {"credit-risk/1.0.0", "credit-risk/1.1.0"}
ALL_VERSIONS = {*CREDIT_VERSIONS, "fraud-score/0.1.0"}
CREDIT_SETS = {"train", "validation", "test"}
ALL_SETS = {*CREDIT_SETS, "stranger-notes", "fraud-train"}


def each(readers, items) -> dict[str, set[str]]:
    return {reader: set(items) for reader in readers}


LISTS: dict[str, tuple[str | Callable[[World], str], Callable[[dict], str], dict[str, set[str]]]] = {
    "models": (
        "/api/v1/models",
        lambda row: row["slug"],
        {
            "pipeline_granted": {"credit-risk"},
            "pipeline_stranger": set(),
            "owner": BOTH_MODELS,
            "other_owner": set(),
            **each(READ_ALL, BOTH_MODELS),
        },
    ),
    "datasets": (
        "/api/v1/datasets",
        lambda row: row["name"],
        {
            "pipeline_granted": CREDIT_SETS,
            "pipeline_stranger": {"stranger-notes"},
            "owner": {*CREDIT_SETS, "fraud-train"},
            "other_owner": set(),
            **each(READ_ALL, ALL_SETS),
        },
    ),
    "the version queue": (
        "/api/v1/versions",
        lambda row: f"{row['model']}/{row['version']}",
        {
            "pipeline_granted": CREDIT_VERSIONS,
            "pipeline_stranger": set(),
            "owner": ALL_VERSIONS,
            "other_owner": set(),
            **each(READ_ALL, ALL_VERSIONS),
        },
    ),
    "decisions about applicant-1": (
        "/api/v1/decisions?subject_ref=applicant-1",
        lambda row: row["decision_id"],
        {
            **each(CREDIT_READERS, {"d-00001", "d-00002"}),
            **each(CREDIT_STRANGERS, ()),
        },
    ),
    "versions trained on the train set": (
        lambda w: f"/api/v1/datasets/{train(w)}/versions",
        lambda row: f"{row['model']}/{row['version']}",
        each(CREDIT_READERS, CREDIT_VERSIONS),
    ),
    "versions of credit-risk": (
        f"{CREDIT}/versions",
        lambda row: row["version"],
        each(CREDIT_READERS, {"1.0.0", "1.1.0"}),
    ),
    "decisions of credit-risk": (
        f"{CREDIT}/decisions",
        lambda row: row["decision_id"],
        each(CREDIT_READERS, {"d-00001", "d-00002", "d-00003"}),
    ),
    "deployments of credit-risk": (
        f"{CREDIT}/deployments",
        lambda row: f"{row['version']}@{row['environment']}",
        each(CREDIT_READERS, {"1.0.0@production"}),
    ),
    "approvals of credit-risk 1.0.0": (
        f"{CREDIT}/versions/1.0.0/approvals",
        lambda row: row["signer"],
        each(CREDIT_READERS, {"officer-1", "officer-2"}),
    ),
    "reports": (
        reports_with_one_pending,
        lambda row: f"{row['kind']}:{row['model']}/{row['version']}",
        {
            **each(REPORT_READERS, {"version:credit-risk/1.0.0"}),
            **each(("pipeline_granted", *CREDIT_STRANGERS), ()),
        },
    ),
    "card revisions of credit-risk 1.0.0": (
        f"{CREDIT}/versions/1.0.0/cards",
        lambda row: str(row["revision"]),
        each(CREDIT_READERS, {"1"}),
    ),
}


@pytest.mark.parametrize("listing", list(LISTS))
def test_a_list_shows_each_persona_exactly_what_it_may_read(listing, world, client_for):
    target, key, expected = LISTS[listing]
    url = url_of(target, world)
    seen = {}
    for persona in expected:
        response = client_for(persona).get(url)
        assert response.status_code == 200, (persona, response.content)
        seen[persona] = {key(row) for row in response.json()["results"]}
    assert seen == expected


def test_an_ungranted_pipeline_sees_no_model_and_no_dataset_but_its_own(world, client_for):
    client = client_for("pipeline_stranger")
    assert client.get("/api/v1/models").json()["count"] == 0
    assert [d["name"] for d in client.get("/api/v1/datasets").json()["results"]] == ["stranger-notes"]
    assert client.get("/api/v1/versions").json()["count"] == 0


def test_an_auditor_sees_every_model(world, client_for):
    body = client_for("auditor").get("/api/v1/models").json()
    assert body["count"] == 2
    assert {m["slug"] for m in body["results"]} == BOTH_MODELS


def test_an_owner_who_owns_nothing_sees_no_model(world, client_for):
    assert client_for("other_owner").get("/api/v1/models").json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


# --- Writes -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Write:
    """A write: where it goes (given the world and the people), its body, and who gets what."""

    url: Callable[[World, dict[str, User | None]], str]
    body: Callable[[World], dict[str, Any]]
    expected: dict[str, int]
    # Personas whose cell shows an application bug, with the reason (strict xfail).
    bugs: dict[str, str] = field(default_factory=dict)


def fixed(url: str) -> Callable[[World, dict], str]:
    return lambda world, people: url


def propose_transfer(world: World, people: dict) -> str:
    transfer = access_services.ownership_transfer_request(
        actor=people["owner"], model=world.model, to_owner=people["other_owner"], reason="Team change"
    )
    return f"/api/v1/transfers/{transfer.pk}/accept"


NO_RECEIPT = (
    "POST /models/<slug>/validation records a ledger event (model.validation_updated) but its "
    "200 response carries no `receipt` (KeyError: 'receipt')"
)

WRITES: dict[str, Write] = {
    "register a model": Write(
        fixed("/api/v1/models"),
        lambda w: {
            "slug": "new-model",
            "name": "New model",
            "intended_purpose": "Score something.",
            "regulated_use": "other",
            "risk_tier": "medium",
            "owner": "owner",
        },
        table(
            ok=("owner", "other_owner", *OFFICERS, "admin"),
            forbidden=("pipeline_granted", "pipeline_stranger", "auditor"),
            ok_status=201,
        ),
    ),
    "record validation dates": Write(
        fixed(f"{CREDIT}/validation"),
        lambda w: {"validated_at": "2026-01-10", "next_validation_due": "2027-01-10", "valid_until": None},
        table(ok=(*OFFICERS, "admin"), forbidden=("pipeline_granted", "owner", "auditor"), hidden=CREDIT_STRANGERS),
    ),
    "propose a new owner": Write(
        fixed(f"{CREDIT}/transfers"),
        lambda w: {"to_owner": "other-owner", "reason": "Team change"},
        table(
            ok=("owner", *OFFICERS, "admin"),
            forbidden=("pipeline_granted", "auditor"),
            hidden=CREDIT_STRANGERS,
            ok_status=201,
        ),
    ),
    "accept ownership": Write(
        propose_transfer,
        lambda w: {},
        table(
            ok=("other_owner",),
            hidden=("pipeline_granted", "pipeline_stranger", "owner", *READ_ALL),
        ),
    ),
    "grant access": Write(
        fixed(f"{CREDIT}/access/grant"),
        lambda w: {"user": "pipeline-stranger", "actions": ["view"], "reason": "Read-only monitoring"},
        table(ok=(*OFFICERS, "admin"), forbidden=("pipeline_granted", "owner", "auditor"), hidden=CREDIT_STRANGERS),
    ),
    "revoke access": Write(
        fixed(f"{CREDIT}/access/revoke"),
        lambda w: {"user": "pipeline-granted", "actions": ["log"], "reason": "Serving moved"},
        table(ok=(*OFFICERS, "admin"), forbidden=("pipeline_granted", "owner", "auditor"), hidden=CREDIT_STRANGERS),
    ),
    "register a dataset": Write(
        fixed("/api/v1/datasets"),
        lambda w: {
            "name": "train-2026",
            "uri": "s3://data/train-2026.parquet",
            "sha256": sha("2026"),
            "size_bytes": 9,
        },
        table(
            ok=("pipeline_granted", "pipeline_stranger", "owner", "other_owner"),
            forbidden=READ_ALL,
            ok_status=201,
        ),
    ),
    "register a version": Write(
        fixed(f"{CREDIT}/versions"),
        lambda w: version_body("2.0.0", links(w.datasets), parent="1.1.0"),
        table(ok=("pipeline_granted", "owner"), forbidden=READ_ALL, hidden=CREDIT_STRANGERS, ok_status=201),
    ),
    "request review": Write(
        fixed(f"{CREDIT}/versions/1.1.0/review"),
        lambda w: {},
        table(ok=("pipeline_granted", "owner"), forbidden=READ_ALL, hidden=CREDIT_STRANGERS),
    ),
    "revise a card": Write(
        fixed(f"{CREDIT}/versions/1.1.0/cards"),
        lambda w: {"content": {**FULL_CARD, "caveats_and_recommendations": "Re-validate quarterly."}},
        table(ok=("pipeline_granted", "owner"), forbidden=READ_ALL, hidden=CREDIT_STRANGERS, ok_status=201),
    ),
    "sign an approval": Write(
        fixed(f"{CREDIT}/versions/1.1.0/approvals"),
        lambda w: {"meaning": "approved", "reason": "Validation report reviewed.", "password": PASSWORD},
        table(
            ok=OFFICERS,
            forbidden=("pipeline_granted", "owner", "auditor", "admin"),
            hidden=CREDIT_STRANGERS,
            ok_status=201,
        ),
    ),
    "deploy": Write(
        fixed(f"{CREDIT}/deployments"),
        lambda w: {"version": "1.0.0", "environment": "staging", "change_ticket": "CHG-2"},
        table(ok=("pipeline_granted", "owner"), forbidden=READ_ALL, hidden=CREDIT_STRANGERS, ok_status=201),
    ),
    "end a deployment": Write(
        lambda w, people: f"{CREDIT}/deployments/{w.deployment.pk}/end",
        lambda w: {"reason": "Suspended after a drift alert."},
        table(ok=("pipeline_granted", "owner"), forbidden=READ_ALL, hidden=CREDIT_STRANGERS),
    ),
    "retire a version": Write(
        fixed(f"{CREDIT}/versions/1.0.0/retire"),
        lambda w: {"reason": "Superseded."},
        table(ok=("pipeline_granted", "owner"), forbidden=READ_ALL, hidden=CREDIT_STRANGERS),
    ),
    "log decisions": Write(
        fixed(f"{CREDIT}/decisions"),
        lambda w: {
            "decisions": [as_json(decision_item(50, "1.0.0", w.deployment.started_at + timedelta(seconds=50)))]
        },
        table(
            ok=("pipeline_granted",),
            forbidden=("owner", *READ_ALL),
            hidden=CREDIT_STRANGERS,
            ok_status=201,
        ),
    ),
    "review a decision": Write(
        fixed(f"{CREDIT}/decisions/d-00001/reviews"),
        lambda w: {"action": "confirm", "reason": "Checked the file."},
        table(
            ok=("pipeline_granted", *OFFICERS),
            forbidden=("owner", "auditor", "admin"),
            hidden=CREDIT_STRANGERS,
            ok_status=201,
        ),
    ),
    "erase a decision's personal data": Write(
        fixed(f"{CREDIT}/decisions/d-00001/erase"),
        lambda w: {"reason": "GDPR Art. 17 request #42."},
        table(ok=(*OFFICERS, "admin"), forbidden=("pipeline_granted", "owner", "auditor"), hidden=CREDIT_STRANGERS),
    ),
    "request a report": Write(
        fixed("/api/v1/reports"),
        lambda w: {"kind": "version", "model": "credit-risk", "version": "1.0.0", "purpose": "Annual audit"},
        # Pipelines hold no report right on any model: refused before the body names a model.
        table(
            ok=REPORT_READERS,
            forbidden=("pipeline_granted", "pipeline_stranger"),
            hidden=("other_owner",),
            ok_status=202,
        ),
    ),
    "retry a report that has not failed": Write(
        lambda w, people: f"{pending_report(w)}/retry",
        lambda w: {},
        table(conflict=REPORT_READERS, hidden=("pipeline_granted", *CREDIT_STRANGERS)),
    ),
}


def _permitted_cells():
    for action, write in WRITES.items():
        for persona, status in write.expected.items():
            if status >= 400:
                continue
            marks = []
            if persona in write.bugs:
                marks.append(pytest.mark.xfail(strict=True, raises=KeyError, reason=write.bugs[persona]))
            yield pytest.param(action, persona, id=f"{action}-{persona}", marks=marks)


def receipts_of(body: dict) -> list[dict]:
    if "decisions" in body and "created" in body:
        return [item["receipt"] for item in body["decisions"]]
    return [body["receipt"]]


@pytest.mark.parametrize("action", list(WRITES))
def test_a_write_is_refused_to_everyone_the_roles_table_refuses(action, world, people, client_for):
    """Refusals write nothing, so the refused personas take turns on one world."""
    write = WRITES[action]
    url = write.url(world, people)
    refused = {persona: status for persona, status in write.expected.items() if status >= 400}
    before = trace()
    got, codes = {}, {}
    for persona in refused:
        response = client_for(persona).post(url, write.body(world), format="json")
        got[persona] = response.status_code
        codes[persona] = response.json().get("code")
        assert trace() == before, f"{persona}'s refused write left a trace"
    assert got == refused
    assert codes == {persona: ERROR_CODES[status] for persona, status in refused.items()}


@pytest.mark.parametrize(("action", "persona"), list(_permitted_cells()))
def test_a_permitted_write_succeeds_with_a_ledger_receipt(action, persona, world, people, client_for):
    """Each permitted write starts from a fresh world of its own."""
    write = WRITES[action]
    url = write.url(world, people)
    before = ledger_size()
    response = client_for(persona).post(url, write.body(world), format="json")
    assert response.status_code == write.expected[persona], response.content
    if response.status_code == 202:
        # A report request is accepted for generation; its ledger event comes with the report.
        assert response["Location"] == response.json()["status_url"]
        assert Report.objects.filter(pk=response.json()["id"], requested_by=people[persona]).exists()
        return
    assert ledger_size() > before
    for receipt in receipts_of(response.json()):
        entry = Entry.objects.get(seq=receipt["seq"])
        assert receipt["leaf_hash"] == bytes(entry.leaf_hash).hex()
        assert receipt["idempotency_key"] == entry.idempotency_key


# --- Separation of duties ---------------------------------------------------------------------
def sign(client: APIClient, version: str = "2.0.0", meaning: str = "approved", model: str = "credit-risk"):
    return client.post(
        f"/api/v1/models/{model}/versions/{version}/approvals",
        {"meaning": meaning, "reason": "Reviewed the validation report.", "password": PASSWORD},
        format="json",
    )


def failed_rules(response) -> set[str]:
    return {check["rule"] for check in response.json()["errors"]["sod_checks"] if not check["passed"]}


@pytest.fixture
def dual(make_user, world, officer_1) -> User:
    """Both a pipeline (granted register on credit-risk) and a compliance officer."""
    user = make_user("dual", Role.PIPELINE, Role.COMPLIANCE_OFFICER)
    access_services.access_grant(actor=officer_1, model=world.model, grantee=user, actions=["register"])
    return user


def test_an_officer_who_registered_the_version_cannot_sign_it(world, dual, pipeline_granted, client_for):
    version(dual, world.model, "2.0.0", links(world.datasets), parent="1.1.0")
    registry.card_revise(actor=pipeline_granted, version=ModelVersion.objects.get(version="2.0.0"), content=FULL_CARD)
    before = ledger_size()
    response = sign(client_for(dual))
    assert response.status_code == 403
    assert response.json()["code"] == "separation_of_duties"
    assert failed_rules(response) == {"signer_is_not_registrant"}
    assert ledger_size() == before
    assert not Approval.objects.filter(signer=dual).exists()


def test_an_officer_who_wrote_the_card_cannot_sign_it(world, dual, pipeline_granted, client_for):
    row = version(pipeline_granted, world.model, "2.0.0", links(world.datasets), parent="1.1.0")
    registry.card_revise(actor=dual, version=row, content=FULL_CARD)
    response = sign(client_for(dual))
    assert response.status_code == 403
    assert response.json()["code"] == "separation_of_duties"
    assert failed_rules(response) == {"signer_is_not_card_author"}


def test_an_officer_who_owns_the_model_cannot_sign_its_versions(world, make_user, officer_1, client_for):
    owning_officer = make_user("owning-officer", Role.MODEL_OWNER, Role.COMPLIANCE_OFFICER)
    model = registry.model_register(
        actor=officer_1,
        slug="churn",
        name="Churn",
        owner=owning_officer,
        risk_tier="low",
        regulated_use="other",
        intended_purpose="Predict churn.",
    )
    row = version(owning_officer, model, "1.0.0", [{"sha256": world.datasets["train"], "role": "training"}])
    registry.card_revise(actor=owning_officer, version=row, content=FULL_CARD)
    response = sign(client_for(owning_officer), "1.0.0", model="churn")
    assert response.status_code == 403
    assert failed_rules(response) == {
        "signer_is_not_registrant",
        "signer_is_not_model_owner",
        "signer_is_not_card_author",
    }


def test_an_admin_who_is_not_an_officer_cannot_sign(world, client_for):
    response = sign(client_for("admin"), "1.1.0")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not Approval.objects.filter(version=world.v110).exists()


def test_an_officer_approves_a_version_only_once(world, client_for):
    assert sign(client_for("officer_1"), "1.1.0").status_code == 201
    again = sign(client_for("officer_1"), "1.1.0")
    assert again.status_code == 403
    assert failed_rules(again) == {"signer_has_not_approved_before"}
    world.v110.refresh_from_db()
    assert world.v110.status == ModelVersion.Status.IN_REVIEW


# --- Ownership transfers ----------------------------------------------------------------------
def test_a_transfer_changes_hands_only_when_the_proposed_owner_accepts(world, client_for):
    proposed = client_for("owner").post(f"{CREDIT}/transfers", {"to_owner": "other-owner"}, format="json")
    assert proposed.status_code == 201
    accept = f"/api/v1/transfers/{proposed.json()['id']}/accept"
    assert client_for("owner").post(accept).status_code == 404
    assert client_for("other_owner").get(CREDIT).status_code == 404
    accepted = client_for("other_owner").post(accept)
    assert accepted.status_code == 200
    assert accepted.json()["owner"] == "other-owner"
    assert client_for("other_owner").get(CREDIT).status_code == 200
    assert client_for("owner").get(CREDIT).status_code == 404
    assert client_for("other_owner").post(accept).status_code == 409


# --- Leaks and ordering -----------------------------------------------------------------------
def test_registering_a_known_hash_reveals_nothing_the_caller_may_not_read(world, client_for):
    client = client_for("pipeline_stranger")
    assert client.get(f"/api/v1/datasets/{train(world)}").status_code == 404
    response = client.post(
        "/api/v1/datasets",
        {"name": "my copy", "uri": "s3://mine/train.parquet", "sha256": train(world), "size_bytes": 1_000},
        format="json",
    )
    assert response.status_code < 500
    assert "s3://data/train.parquet" not in response.content.decode()
    assert "pipeline-granted" not in response.content.decode()


def test_a_model_owner_cannot_grant_access_even_to_an_unknown_user(world, client_for):
    for username in ("pipeline-stranger", "nobody-by-that-name"):
        response = client_for("owner").post(
            f"{CREDIT}/access/grant", {"user": username, "actions": ["view"]}, format="json"
        )
        assert response.status_code == 403, (username, response.content)


# --- Authentication ---------------------------------------------------------------------------
def test_a_pipeline_signs_in_with_a_bearer_token(world, pipeline_granted):
    _, token = AuthToken.objects.create(pipeline_granted)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.get("/api/v1/models")
    assert response.status_code == 200
    assert [m["slug"] for m in response.json()["results"]] == ["credit-risk"]
    logged = client.post(
        f"{CREDIT}/decisions",
        {"decisions": [as_json(decision_item(60, "1.0.0", world.deployment.started_at + timedelta(seconds=60)))]},
        format="json",
    )
    assert logged.status_code == 201


@pytest.mark.parametrize(
    "header",
    ["Bearer not-a-real-token", "Bearer ", "Bearer a b", "Token abc", "Basic Zm9vOmJhcg=="],
)
def test_a_bad_token_is_refused_with_401(world, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/models")
    assert response.status_code == 401
    assert response.json()["code"] in {"authentication_failed", "not_authenticated"}


def test_an_expired_token_is_refused_with_401(world, pipeline_granted):
    _, token = AuthToken.objects.create(pipeline_granted, expiry=timedelta(seconds=-1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.get("/api/v1/models")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_no_credentials_is_401_with_a_bearer_challenge(world):
    response = APIClient().post("/api/v1/datasets", {}, format="json")
    assert response.status_code == 401
    assert response.json() == {
        "code": "not_authenticated",
        "message": "Authentication credentials were not provided.",
        "errors": {},
    }
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_deactivated_user_token_no_longer_works(world, pipeline_granted):
    _, token = AuthToken.objects.create(pipeline_granted)
    User.objects.filter(pk=pipeline_granted.pk).update(is_active=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/models").status_code == 401


def test_nothing_is_written_for_anonymous_callers(world):
    before = (ledger_size(), RegisteredModel.objects.count(), Dataset.objects.count())
    client = APIClient()
    for url in (f"{CREDIT}/decisions", "/api/v1/models", "/api/v1/datasets", f"{CREDIT}/versions"):
        assert client.post(url, {}, format="json").status_code == 401
    assert (ledger_size(), RegisteredModel.objects.count(), Dataset.objects.count()) == before
