"""The auditor-facing ledger API: what it returns, to whom, and how it refuses bad input."""

from __future__ import annotations

import base64
import json

import pytest
from django.contrib.auth.models import Permission, User
from rest_framework.test import APIClient

from ledger import selectors, services
from model_ledger_verify import checkpoints, merkle, notes
from tests.ledger.helpers import fill


@pytest.fixture
def alice(db) -> User:
    """An auditor: may read the ledger."""
    user = User.objects.create_user("alice", password="x-pass-123456")
    user.user_permissions.add(Permission.objects.get(codename="view_entry"))
    return user


@pytest.fixture
def charlie(db) -> User:
    """A signed-in stranger without ledger access."""
    return User.objects.create_user("charlie", password="x-pass-123456")


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def as_alice(client, alice) -> APIClient:
    client.force_authenticate(alice)
    return client


@pytest.fixture
def log(alice, charlie):
    """25 entries under a checkpoint (the first are the people's `user.created`), then 5 more."""
    services.tree_integrate_all()
    fill(25 - selectors.tree_size())
    services.checkpoint_sign()
    fill(5, start=25)  # integrated, not yet covered by a checkpoint


def _verifier(signing_key_file) -> notes.Verifier:
    signer = notes.Signer.from_string(signing_key_file.read_text().strip())
    return notes.Verifier.from_string(signer.verifier_key())


def test_the_latest_checkpoint_is_public_plain_text(client, log, signing_key_file):
    response = client.get("/api/v1/ledger/checkpoint")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = checkpoints.open_checkpoint(response.content.decode(), [_verifier(signing_key_file)])
    assert body.size == 25


def test_it_answers_404_json_before_any_checkpoint(client, db):
    response = client.get("/api/v1/ledger/checkpoint")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_keys_list_holds_the_active_verifier_key(client, log, signing_key_file):
    keys = client.get("/api/v1/ledger/keys").json()["keys"]
    assert [k["verifier_key"] for k in keys] == [_verifier(signing_key_file).verifier_key()]
    assert keys[0]["valid_until"] is None


def test_the_checkpoint_history_is_paginated(client, log):
    fill(1, start=30)
    services.checkpoint_sign()
    page = client.get("/api/v1/ledger/checkpoints").json()
    assert page["count"] == 2
    assert [cp["size"] for cp in page["results"]] == [25, 31]


def test_entries_need_credentials(client, log):
    response = client.get("/api/v1/ledger/entries/0")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_entries_are_refused_to_users_without_ledger_access(client, charlie, log):
    client.force_authenticate(charlie)
    assert client.get("/api/v1/ledger/entries/0").status_code == 403


def test_an_entry_carries_its_exact_leaf_bytes_and_their_decoding(as_alice, log):
    body = as_alice.get("/api/v1/ledger/entries/3").json()
    leaf = base64.b64decode(body["leaf"])
    assert merkle.leaf_hash(leaf).hex() == body["leaf_hash"]
    assert body["decoded"] == json.loads(leaf)
    assert body["decoded"]["seq"] == 3


def test_a_missing_entry_is_404(as_alice, log):
    assert as_alice.get("/api/v1/ledger/entries/999").status_code == 404


def test_entry_ranges_stream_as_ndjson(as_alice, log):
    response = as_alice.get("/api/v1/ledger/entries?start=10&end=20")
    assert response["Content-Type"] == "application/x-ndjson"
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == list(range(10, 20))


def test_an_inclusion_proof_verifies_against_the_signed_checkpoint(as_alice, log, signing_key_file):
    body = as_alice.get("/api/v1/ledger/proofs/inclusion?seq=7").json()
    checkpoint = checkpoints.open_checkpoint(body["checkpoint"], [_verifier(signing_key_file)])
    assert body["tree_size"] == checkpoint.size == 25
    merkle.verify_inclusion(
        7,
        25,
        bytes.fromhex(body["leaf_hash"]),
        [bytes.fromhex(p) for p in body["proof"]],
        checkpoint.root,
    )


def test_an_inclusion_proof_can_be_asked_for_by_leaf_hash(as_alice, log):
    leaf_hash = as_alice.get("/api/v1/ledger/entries/11").json()["leaf_hash"]
    body = as_alice.get(f"/api/v1/ledger/proofs/inclusion?leaf_hash={leaf_hash}&size=25").json()
    assert body["seq"] == 11


def test_a_consistency_proof_verifies_between_checkpoints(as_alice, log):
    services.checkpoint_sign()
    body = as_alice.get("/api/v1/ledger/proofs/consistency?size1=25&size2=30").json()
    from ledger.models import Checkpoint

    roots = {cp.size: bytes(cp.root) for cp in Checkpoint.objects.all()}
    merkle.verify_consistency(25, 30, roots[25], roots[30], [bytes.fromhex(p) for p in body["proof"]])


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/ledger/proofs/inclusion?seq=-1",
        "/api/v1/ledger/proofs/inclusion?seq=abc",
        "/api/v1/ledger/proofs/inclusion?seq=1.5",
        "/api/v1/ledger/proofs/inclusion?seq=26",
        "/api/v1/ledger/proofs/inclusion?seq=1&size=26",
        "/api/v1/ledger/proofs/inclusion?seq=1&size=99999999999999999999999",
        "/api/v1/ledger/proofs/inclusion?leaf_hash=zz",
        "/api/v1/ledger/proofs/inclusion",
        "/api/v1/ledger/proofs/consistency?size1=26",
        "/api/v1/ledger/proofs/consistency?size1=5&size2=4",
        "/api/v1/ledger/proofs/consistency?size1=x",
        "/api/v1/ledger/entries?start=-3",
        "/api/v1/ledger/entries?start=5&end=2",
        "/api/v1/ledger/entries?start=0&end=999999999",
    ],
)
def test_bad_parameters_get_a_clear_400(as_alice, log, query):
    response = as_alice.get(query)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_parameters"
    assert body["message"]


def test_the_openapi_schema_documents_the_ledger_endpoints(client, db):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    assert "/api/v1/ledger/proofs/inclusion" in paths
    assert "/api/v1/ledger/checkpoint" in paths
