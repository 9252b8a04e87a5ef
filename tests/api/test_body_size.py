"""Request bodies up to MAX_REQUEST_BODY_BYTES pass: a documented full batch of 1,000 decisions
with ~3 KB input snapshots is accepted; a larger body answers 413 in the JSON error shape."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from governance.models import Decision
from model_ledger_verify import canonical
from tests.api.factories import as_json, decision_item

pytestmark = pytest.mark.django_db
DECISIONS = "/api/v1/models/credit-risk/decisions"


def _batch(world, count: int, snapshot_bytes: int) -> list[dict]:
    at = world.deployment.started_at + timedelta(minutes=1)
    items = []
    for n in range(count):
        item = decision_item(10_000 + n, "1.0.0", at)
        snapshot = {f"feature_{k:03d}": f"{n}-{k}-" + "x" * 20 for k in range(snapshot_bytes // 36)}
        item["input_snapshot"] = snapshot
        item["input_sha256"] = hashlib.sha256(canonical.dumps(snapshot)).hexdigest()
        items.append(as_json(item))
    return items


def test_a_documented_full_batch_of_a_thousand_decisions_with_3_kb_inputs_is_accepted(world, client_for):
    items = _batch(world, 1_000, 3_000)
    body = json.dumps({"decisions": items})
    assert len(body) > 3_000_000
    response = client_for("pipeline_granted").post(DECISIONS, body, content_type="application/json")
    assert response.status_code == 201, response.content[:500]
    assert Decision.objects.filter(decision_id__startswith="d-1").count() >= 1_000


def test_a_body_over_the_limit_answers_413_in_the_error_shape(world, client_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000_000
    body = json.dumps({"decisions": _batch(world, 400, 3_000)})
    response = client_for("pipeline_granted").post(DECISIONS, body, content_type="application/json")
    assert response.status_code == 413
    error = response.json()
    assert error["code"] == "payload_too_large"
    assert "1,000,000 bytes" in error["message"]
    assert error["errors"] == {}


def test_the_default_limit_refuses_an_enormous_body_before_reading_it(db, client_for, people):
    response = client_for("pipeline_granted").post(DECISIONS, "x" * (11 * 2**20), content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (413, "payload_too_large")


def test_a_console_form_over_the_limit_gets_the_same_answer(db, settings):
    from django.test import Client

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = Client().post("/", {"username": "x" * 20_000, "password": "y"})
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert timezone.now()
