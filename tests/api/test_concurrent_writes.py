"""Concurrent duplicates never answer 500: real threads, each with its own connection, post the
same write to the API against PostgreSQL at once. A duplicate with the same content answers as
its retry would (the existing record, `created: 0`); with other content, 409 with per-item errors."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import close_old_connections, connection
from django.utils import timezone
from rest_framework.test import APIClient

from governance.demo import FULL_CARD
from governance.models import CiEvidence, Dataset, Decision, ModelCard, ModelVersion, Observation, Webhook
from tests.api.factories import as_json, decision_item, links, rfc3339, sha, version_body
from tests.governance.readiness import junit_report

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CLIENTS = 8
CREDIT = "/api/v1/models/credit-risk"


def race(user: User, calls: list[tuple[str, dict]]) -> list[tuple[int, dict]]:
    """POST each (url, body) from its own thread and connection, all released at once."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[int, dict] | None] = [None] * len(calls)
    errors: list[BaseException] = []

    def post(index: int) -> None:
        try:
            client = APIClient()
            client.force_authenticate(user)
            barrier.wait()
            url, body = calls[index]
            response = client.post(url, body, format="json")
            results[index] = (response.status_code, response.json())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    close_old_connections()
    assert errors == []
    assert all(result is not None and result[0] < 500 for result in results), results
    return results  # type: ignore[return-value]


def _decisions(world, first: int, count: int, label: str = "approve") -> dict:
    at = world.deployment.started_at + timedelta(minutes=5)
    items = [as_json({**decision_item(first + n, "1.0.0", at), "output_label": label}) for n in range(count)]
    return {"decisions": items}


def test_concurrent_identical_decision_batches_log_each_decision_once(world, people):
    batch = _decisions(world, 5_000, 20)
    results = race(people["pipeline_granted"], [(f"{CREDIT}/decisions", batch)] * CLIENTS)
    assert sorted(status for status, _ in results) == [200] * (CLIENTS - 1) + [201]
    assert sum(body["created"] for _, body in results) == 20
    assert Decision.objects.filter(decision_id__startswith="d-05").count() == 20


def test_concurrent_batches_sharing_some_ids_agree_or_conflict_per_item(world, people):
    calls = [(f"{CREDIT}/decisions", _decisions(world, 6_000 + 5 * n, 10)) for n in range(CLIENTS)]
    calls.append((f"{CREDIT}/decisions", _decisions(world, 6_000, 10, label="decline")))
    results = race(people["pipeline_granted"], calls)
    for status, body in results:
        assert status in (200, 201, 409), body
        if status == 409:
            assert body["code"] == "conflict" and body["errors"]
    logged = Decision.objects.filter(decision_id__startswith="d-06")
    assert logged.count() == len({item["decision_id"] for _, body in calls for item in body["decisions"]})


def test_concurrent_observations_for_one_window_are_recorded_once(world, people):
    end = timezone.now()
    item = {
        "version": "1.0.0",
        "environment": "production",
        "window_start": rfc3339(world.deployment.started_at),
        "window_end": rfc3339(end),
        "kind": "feature_drift",
        "feature": "income",
        "psi": "0.10",
        "ks": "0.05",
    }
    results = race(people["pipeline_granted"], [(f"{CREDIT}/observations", {"observations": [item]})] * CLIENTS)
    assert sorted(status for status, _ in results) == [200] * (CLIENTS - 1) + [201]
    assert Observation.objects.filter(feature="income", window_start=world.deployment.started_at).count() == 1


def test_concurrent_registrations_of_one_dataset_register_it_once(world, people):
    body = {"name": "holdout", "uri": "s3://data/holdout.parquet", "sha256": sha("race-holdout"), "size_bytes": 7}
    results = race(people["pipeline_granted"], [("/api/v1/datasets", body)] * CLIENTS)
    assert sorted(status for status, _ in results) == [200] * (CLIENTS - 1) + [201]
    assert Dataset.objects.filter(sha256=sha("race-holdout")).count() == 1


def test_concurrent_registrations_of_one_version_register_it_once(world, people):
    body = version_body("7.0.0", links(world.datasets))
    results = race(people["pipeline_granted"], [(f"{CREDIT}/versions", body)] * CLIENTS)
    assert sorted(status for status, _ in results) == [201] + [409] * (CLIENTS - 1)
    assert ModelVersion.objects.filter(version="7.0.0").count() == 1


def test_concurrent_card_revisions_each_get_their_own_number(world, people):
    calls = [(f"{CREDIT}/versions/1.1.0/cards", {"content": FULL_CARD})] * CLIENTS
    results = race(people["pipeline_granted"], calls)
    assert {status for status, _ in results} == {201}
    revisions = sorted(ModelCard.objects.filter(version=world.v110).values_list("revision", flat=True))
    assert revisions == list(range(1, len(revisions) + 1))


def test_concurrent_ci_evidence_is_all_recorded(world, people):
    body = {"run_id": "ci-race", "report": junit_report(name="race"), "url": "https://ci.example.com/runs/race"}
    results = race(people["pipeline_granted"], [(f"{CREDIT}/versions/1.1.0/ci-evidence", body)] * CLIENTS)
    assert {status for status, _ in results} == {201}
    assert CiEvidence.objects.filter(run_id="ci-race").count() == CLIENTS


def test_concurrent_webhook_subscriptions_never_fail(world, people):
    body = {"url": "https://hooks.example.com/ledger", "secret": "s" * 32, "events": ["alert.opened"]}
    results = race(people["officer_1"], [("/api/v1/webhooks", body)] * CLIENTS)
    assert {status for status, _ in results} == {201}
    assert Webhook.objects.filter(url="https://hooks.example.com/ledger").count() == CLIENTS


def test_an_integrity_error_that_reaches_the_api_is_a_conflict_not_a_500():
    from django.db import IntegrityError

    from api.errors import exception_handler

    response = exception_handler(IntegrityError("duplicate key value"), {})
    assert (response.status_code, response.data["code"]) == (409, "conflict")
