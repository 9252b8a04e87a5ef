"""The gates, monitoring, alerts, retraining and webhook endpoints: what they answer, to whom."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from governance.models import Alert, Deployment, Observation, Webhook
from governance.roles import Role
from governance.services import deployments, monitoring, retraining
from tests.governance import readiness
from tests.governance.conftest import PASSWORD, make_user, register_version
from tests.governance.world import alice, datasets, model, olga, oscar, pipeline, version  # noqa: F401 — fixtures

CREDIT = "/api/v1/models/credit-risk"
V100 = f"{CREDIT}/versions/1.0.0"
SECRET = "a-shared-secret-for-the-receiver"


def rfc3339(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def people(alice, pipeline, olga, oscar) -> dict[str, User | None]:
    return {
        "anonymous": None,
        "pipeline": pipeline,
        "stranger_pipeline": make_user("stranger-pipeline", Role.PIPELINE),
        "owner": alice,
        "other_owner": make_user("otto", Role.MODEL_OWNER),
        "officer": olga,
        "auditor": make_user("audrey", Role.AUDITOR),
        "admin": make_user("ada", Role.ADMIN),
    }


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def serving(version, pipeline, olga, oscar) -> Deployment:
    """1.0.0 clears every gate and serves production."""
    readiness.approve(version, olga, oscar, password=PASSWORD)
    return deployments.deployment_start(actor=pipeline, version=version, environment="production")


def drift_item(end=None, psi="0.40", feature="income") -> dict:
    end = end or timezone.now()
    return {
        "version": "1.0.0",
        "window_start": rfc3339(end - timedelta(hours=1)),
        "window_end": rfc3339(end),
        "kind": "feature_drift",
        "feature": feature,
        "psi": psi,
        "ks": "0.05",
    }


@pytest.fixture
def alert(serving, pipeline, model) -> Alert:
    """An open drift alert on 1.0.0."""
    item = {**drift_item(), "window_start": timezone.now() - timedelta(hours=1), "window_end": timezone.now()}
    monitoring.observation_post_batch(actor=pipeline, model=model, items=[item])
    [opened] = monitoring.monitoring_evaluate().alerts_opened
    return opened


# --- Gates and deployments -----------------------------------------------------------------------
def test_a_blocked_deployment_answers_409_listing_each_failing_gate(pipeline, model, datasets, olga, oscar):
    version = register_version(pipeline, model, datasets, ci=False)
    readiness.approve(version, olga, oscar, password=PASSWORD)
    response = client_for(pipeline).post(
        f"{CREDIT}/deployments", {"version": "1.0.0", "environment": "production"}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["message"]) == ("conflict", "Deployment blocked by failing gates: ci_evidence.")
    failing = [gate for gate in body["errors"]["gates"] if not gate["passed"]]
    assert [(g["gate"], g["status"], g["reason"]) for g in failing] == [
        ("ci_evidence", "fail", "No CI test report was posted for the version.")
    ]
    assert not Deployment.objects.exists()


def test_the_same_version_deploys_to_staging_with_its_gates_recorded(pipeline, model, datasets, olga, oscar):
    version = register_version(pipeline, model, datasets, ci=False)
    readiness.approve(version, olga, oscar, password=PASSWORD)
    response = client_for(pipeline).post(
        f"{CREDIT}/deployments", {"version": "1.0.0", "environment": "staging"}, format="json"
    )
    assert response.status_code == 201
    assert {g["gate"]: g["status"] for g in response.json()["gates"]}["ci_evidence"] == "fail"
    assert response.json()["receipt"]["seq"] >= 0


def test_the_gates_of_a_version_list_each_with_reason_and_evidence(version, pipeline, olga, oscar, people):
    auditor = client_for(people["auditor"])
    before = auditor.get(f"{V100}/gates").json()
    assert (before["passed"], before["production"], before["failing"]) == (False, True, ["model_card", "approvals"])
    assert before["gates"][0] == {
        "gate": "reproducible_pipeline",
        "title": "Reproducible pipeline",
        "required": True,
        "status": "pass",
        "passed": True,
        "reason": "Code commit, pipeline run and environment lock hash are recorded.",
        "evidence": before["gates"][0]["evidence"],
    }
    readiness.approve(version, olga, oscar, password=PASSWORD)
    after = auditor.get(f"{V100}/gates").json()
    assert after["passed"] is True and after["failing"] == []
    staging = auditor.get(f"{V100}/gates", {"environment": "staging"}).json()
    assert (staging["environment"], staging["production"]) == ("staging", False)


def test_ci_evidence_is_posted_by_the_pipeline_with_a_receipt(version, pipeline):
    report = readiness.junit_report(tests=30, failures=2, skipped=1).decode()
    body = {"run_id": "ci-77", "report": report, "url": "https://ci/77"}
    response = client_for(pipeline).post(f"{V100}/ci-evidence", body, format="json")
    assert response.status_code == 201
    assert {k: response.json()[k] for k in ("passed", "tests", "failures", "errors", "skipped")} == {
        "passed": False,
        "tests": 30,
        "failures": 2,
        "errors": 0,
        "skipped": 1,
    }
    assert response.json()["test_report_sha256"] == hashlib.sha256(report.encode()).hexdigest()
    assert response.json()["receipt"]["idempotency_key"] == response.json()["ledger_key"]
    listed = client_for(pipeline).get(f"{V100}/ci-evidence").json()
    assert [row["run_id"] for row in listed["results"]] == ["ci-77", "ci-1.0.0"]
    gate = client_for(pipeline).get(f"{V100}/gates").json()["gates"][-1]
    assert (gate["gate"], gate["passed"]) == ("ci_evidence", False)


def test_an_unparseable_ci_report_is_refused_with_400(version, pipeline):
    body = {"run_id": "ci-78", "report": "all green!"}
    response = client_for(pipeline).post(f"{V100}/ci-evidence", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["report"][0].startswith("Not a JUnit XML report: The report is not well-formed")


# --- Status --------------------------------------------------------------------------------------
def test_the_status_shows_deployments_gates_alerts_observation_retraining_and_validation(alert, model, people):
    model.next_validation_due = (timezone.now() + timedelta(days=90)).date()
    model.save(update_fields=["next_validation_due"])
    retraining.retraining_request_open(model=model, rule="drift", details={"windows": []})
    body = client_for(people["auditor"]).get(f"{CREDIT}/status").json()
    [serving] = body["serving"]
    assert (serving["environment"], serving["version"], serving["production"]) == ("production", "1.0.0", True)
    assert (serving["gates_passed"], serving["failing_gates"]) == (True, [])
    assert serving["last_observation"]["feature"] == "income"
    assert [a["id"] for a in body["open_alerts"]] == [alert.pk]
    assert body["last_observation"]["psi"] == "0.40"
    assert body["retraining_request"]["rule"] == "drift"
    assert body["next_validation_due"] == model.next_validation_due.isoformat()
    assert (body["owner"], body["owner_active"], body["runbook"]) == ("alice", True, "https://wiki/runbook")


# --- Observations --------------------------------------------------------------------------------
def test_one_observation_is_posted_with_a_receipt_and_resending_it_changes_nothing(serving, pipeline):
    item = drift_item()
    item.pop("psi"), item.pop("ks")
    item["bins"] = {"reference": [50, 50], "live": [25, 75]}
    client = client_for(pipeline)
    first = client.post(f"{CREDIT}/observations", item, format="json")
    assert first.status_code == 201
    assert (first.json()["psi"], first.json()["ks"]) == ("0.274653", "0.250000")
    again = client.post(f"{CREDIT}/observations", item, format="json")
    assert again.status_code == 200
    assert again.json()["receipt"] == first.json()["receipt"]


def test_a_batch_of_observations_is_all_or_nothing(serving, pipeline):
    end = timezone.now()
    client = client_for(pipeline)
    good = [drift_item(end, feature="income"), {**drift_item(end, feature="age"), "psi": "0.01"}]
    bad = [*good, {**drift_item(end, feature="region"), "psi": 0.3}]
    refused = client.post(f"{CREDIT}/observations", {"observations": bad}, format="json")
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["2"]
    assert not Observation.objects.exists()
    response = client.post(f"{CREDIT}/observations", {"observations": good}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["created"] == 2
    assert [o["feature"] for o in body["observations"]] == ["income", "age"]
    assert all(o["receipt"]["seq"] >= 0 for o in body["observations"])


def test_an_observation_for_a_version_not_serving_then_is_a_conflict(serving, pipeline):
    item = drift_item(serving.started_at - timedelta(hours=2))
    response = client_for(pipeline).post(f"{CREDIT}/observations", item, format="json")
    assert response.status_code == 409
    assert response.json()["errors"] == {"0": ["1.0.0 did not serve production during this window."]}


# --- Alerts --------------------------------------------------------------------------------------
def test_an_alert_is_acknowledged_and_resolved_through_the_api(alert, alice, olga):
    ack = client_for(alice).post(f"{CREDIT}/alerts/{alert.pk}/acknowledge", {"note": "On it."}, format="json")
    assert ack.status_code == 200
    assert (ack.json()["state"], ack.json()["acknowledged_by"]) == ("acknowledged", "alice")
    assert ack.json()["receipt"]["idempotency_key"] == f"alert.acknowledged:{alert.pk}"
    missing_note = client_for(olga).post(f"{CREDIT}/alerts/{alert.pk}/resolve", {}, format="json")
    assert missing_note.status_code == 400
    done = client_for(olga).post(f"{CREDIT}/alerts/{alert.pk}/resolve", {"note": "Feed fixed."}, format="json")
    assert done.status_code == 200
    assert (done.json()["state"], done.json()["resolved_by"], done.json()["resolution_note"]) == (
        "resolved",
        "olga",
        "Feed fixed.",
    )
    again = client_for(olga).post(f"{CREDIT}/alerts/{alert.pk}/resolve", {"note": "x"}, format="json")
    assert again.status_code == 409


def test_the_alert_queue_filters_by_state(alert, olga, alice):
    client = client_for(olga)
    assert [a["id"] for a in client.get("/api/v1/alerts", {"state": "open"}).json()["results"]] == [alert.pk]
    client_for(alice).post(f"{CREDIT}/alerts/{alert.pk}/acknowledge", {}, format="json")
    assert client.get("/api/v1/alerts", {"state": "open"}).json()["count"] == 0
    assert client.get(f"{CREDIT}/alerts", {"state": "acknowledged"}).json()["count"] == 1


def test_the_alert_list_answers_in_a_pinned_number_of_queries(alert, olga, django_assert_num_queries):
    officer = User.objects.get(pk=olga.pk)  # fresh: no roles cached from the fixtures
    client = client_for(officer)
    # roles, the model, count, the page of alerts with their versions, deployments and people
    with django_assert_num_queries(4):
        assert client.get(f"{CREDIT}/alerts").status_code == 200


# --- Thresholds, policies, retraining ------------------------------------------------------------
def test_the_owner_replaces_the_thresholds_and_everyone_reading_sees_them(model, alice, people):
    body = {
        "thresholds": [
            {"metric": "auc", "operator": "min", "value": "0.85"},
            {"metric": "ks", "operator": "min", "value": "0.4"},
        ]
    }
    response = client_for(alice).put(f"{CREDIT}/thresholds", body, format="json")
    assert response.status_code == 200 and response.json()["receipt"]["seq"] >= 0
    listed = client_for(people["auditor"]).get(f"{CREDIT}/thresholds").json()["thresholds"]
    assert [(t["metric"], t["value"], t["set_by"]) for t in listed] == [
        ("auc", "0.85", "alice"),
        ("ks", "0.4", "alice"),
    ]
    float_value = client_for(alice).put(
        f"{CREDIT}/thresholds", {"thresholds": [{"metric": "auc", "operator": "min", "value": 0.9}]}, format="json"
    )
    assert float_value.status_code == 400


def test_the_policies_are_set_and_read(model, olga, people):
    client = client_for(olga)
    monitoring_policy = {
        "expected_interval_minutes": 30,
        "psi_threshold": "0.2",
        "ks_threshold": "0.1",
        "min_volume": 10,
    }
    assert client.put(f"{CREDIT}/monitoring-policy", monitoring_policy, format="json").status_code == 200
    retraining_policy = {"drift_windows": 2, "accuracy_metric": "auc", "accuracy_floor": "0.8"}
    assert client.put(f"{CREDIT}/retraining-policy", retraining_policy, format="json").status_code == 200
    reader = client_for(people["pipeline"])
    assert reader.get(f"{CREDIT}/monitoring-policy").json()["expected_interval_minutes"] == 30
    policy = reader.get(f"{CREDIT}/retraining-policy").json()
    assert (policy["drift_windows"], policy["accuracy_floor"], policy["max_age_days"]) == (2, "0.8", None)
    no_rules = client.put(f"{CREDIT}/retraining-policy", {}, format="json")
    assert no_rules.status_code == 400


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "monitoring-policy",
            {"expected_interval_minutes": 30, "psi_threshold": "0.2", "ks_threshold": "0.1", "min_volume": 2**63},
            "min_volume",
        ),
        ("retraining-policy", {"drift_windows": 2**31}, "drift_windows"),
        ("retraining-policy", {"max_age_days": 2**31}, "max_age_days"),
    ],
)
def test_a_number_beyond_what_the_policy_can_hold_is_refused_and_changes_nothing(model, olga, path, body, field):
    client = client_for(olga)
    before = client.get(f"{CREDIT}/{path}").status_code
    answer = client.put(f"{CREDIT}/{path}", body, format="json")
    assert answer.status_code == 400
    assert field in answer.json()["errors"]
    assert client.get(f"{CREDIT}/{path}").status_code == before


def test_a_version_registered_for_a_retraining_request_closes_it(serving, model, pipeline, datasets):
    request, _ = retraining.retraining_request_open(model=model, rule="age", details={})
    body = {
        "version": "1.1.0",
        "parent": "1.0.0",
        "artifact_sha256": "e" * 64,
        "artifact_uri": "s3://m/1.1.0",
        "datasets": [{"sha256": datasets[0].sha256, "role": "training"}],
        "retraining_request": request.pk,
    }
    response = client_for(pipeline).post(f"{CREDIT}/versions", body, format="json")
    assert response.status_code == 201
    listed = client_for(pipeline).get(f"{CREDIT}/retraining-requests").json()["results"]
    assert [(r["state"], r["closed_by_version"]) for r in listed] == [("closed", "1.1.0")]
    again = client_for(pipeline).post(f"{CREDIT}/versions", {**body, "version": "1.2.0"}, format="json")
    assert again.status_code == 409 and "retraining_request" in again.json()["errors"]


# --- Webhooks ------------------------------------------------------------------------------------
def test_an_officer_manages_webhooks_and_the_secret_is_never_returned(model, olga, alert):
    client = client_for(olga)
    created = client.post(
        "/api/v1/webhooks",
        {
            "url": "https://hooks.example/ledger",
            "secret": SECRET,
            "events": ["alert.resolved"],
            "model": "credit-risk",
        },
        format="json",
    )
    assert created.status_code == 201
    webhook = created.json()
    assert "secret" not in webhook and SECRET not in created.content.decode()
    assert (webhook["model"], webhook["events"]) == ("credit-risk", ["alert.resolved"])
    changed = client.patch(f"/api/v1/webhooks/{webhook['id']}", {"events": ["alert.opened"]}, format="json")
    assert changed.status_code == 200 and changed.json()["events"] == ["alert.opened"]
    assert SECRET not in client.get("/api/v1/webhooks").content.decode()
    assert client.get(f"/api/v1/webhooks/{webhook['id']}/deliveries").json()["count"] == 0
    deleted = client.delete(f"/api/v1/webhooks/{webhook['id']}")
    assert deleted.status_code == 200 and deleted.json()["active"] is False
    assert client.get("/api/v1/webhooks").json()["count"] == 0
    assert Webhook.objects.get().deleted_at is not None
    assert client.get(f"/api/v1/webhooks/{webhook['id']}").status_code == 404


def test_the_delivery_log_lists_every_channel(alert, olga, alice):
    olga.email = "olga@example.com"
    olga.save(update_fields=["email"])
    client_for(alice).post(f"{CREDIT}/alerts/{alert.pk}/acknowledge", {}, format="json")
    from governance.services import alerts

    alerts.alert_open(model=alert.model, kind="volume", dedupe_key="volume:x", summary="Thin window.", details={})
    body = client_for(olga).get("/api/v1/deliveries", {"channel": "email"}).json()
    assert [(d["event"], d["recipients"], d["state"]) for d in body["results"]] == [
        ("alert.opened", "olga@example.com", "pending")
    ]


# --- Who may do what -----------------------------------------------------------------------------
READERS = ("pipeline", "owner", "officer", "auditor", "admin")
HIDDEN = ("stranger_pipeline", "other_owner")


def expected(ok=(), forbidden=(), hidden=HIDDEN, ok_status=200) -> dict[str, int]:
    table = {"anonymous": 401, **dict.fromkeys(ok, ok_status), **dict.fromkeys(forbidden, 403)}
    table.update(dict.fromkeys(hidden, 404))
    return table


READS = [
    f"{V100}/gates",
    f"{V100}/ci-evidence",
    f"{CREDIT}/status",
    f"{CREDIT}/thresholds",
    f"{CREDIT}/monitoring-policy",
    f"{CREDIT}/retraining-policy",
    f"{CREDIT}/observations",
    f"{CREDIT}/alerts",
    f"{CREDIT}/alerts/{{alert}}",
    f"{CREDIT}/retraining-requests",
]


def test_every_read_answers_readers_hides_from_strangers_and_asks_for_credentials(alert, people):
    table = expected(ok=READERS)
    for url in READS:
        for persona, status in table.items():
            response = client_for(people[persona]).get(url.format(alert=alert.pk))
            assert response.status_code == status, (url, persona, response.content)


@pytest.mark.parametrize(
    ("persona", "status"),
    expected(ok=("officer", "admin"), forbidden=("pipeline", "owner", "auditor", *HIDDEN), hidden=()).items(),
)
def test_only_officers_and_admins_see_webhooks_and_deliveries(people, persona, status):
    client = client_for(people[persona])
    assert client.get("/api/v1/webhooks").status_code == status
    assert client.get("/api/v1/deliveries").status_code == status


WRITES = {
    "thresholds": (
        "put",
        f"{CREDIT}/thresholds",
        {"thresholds": [{"metric": "auc", "operator": "min", "value": "0.8"}]},
        expected(ok=("owner", "officer"), forbidden=("pipeline", "auditor", "admin")),
    ),
    "observation": (
        "post",
        f"{CREDIT}/observations",
        None,
        expected(ok=("pipeline",), forbidden=("owner", "officer", "auditor", "admin"), ok_status=201),
    ),
    "acknowledge": (
        "post",
        f"{CREDIT}/alerts/{{alert}}/acknowledge",
        {},
        expected(ok=("owner", "officer"), forbidden=("pipeline", "auditor", "admin")),
    ),
    "ci-evidence": (
        "post",
        f"{V100}/ci-evidence",
        {"run_id": "ci-9", "report": '<testsuite tests="1"><testcase name="t"/></testsuite>'},
        expected(ok=("pipeline", "owner"), forbidden=("officer", "auditor", "admin"), ok_status=201),
    ),
    "webhook": (
        "post",
        "/api/v1/webhooks",
        {"url": "https://hooks.example/x", "secret": SECRET, "events": ["alert.opened"]},
        expected(
            ok=("officer", "admin"), forbidden=("pipeline", "owner", "auditor", *HIDDEN), hidden=(), ok_status=201
        ),
    ),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_each_write_is_allowed_forbidden_or_hidden_by_role(alert, people, write):
    method, url, body, table = WRITES[write]
    for persona, status in table.items():
        # Each persona writes to the same world, rolled back after: a fresh world per cell, cheaply.
        with transaction.atomic():
            payload = drift_item(feature="fresh") if body is None else body
            response = getattr(client_for(people[persona]), method)(url.format(alert=alert.pk), payload, format="json")
            assert response.status_code == status, (persona, response.content)
            if status < 300:
                assert response.json()["receipt"]["seq"] >= 0
            transaction.set_rollback(True)


def test_the_retraining_requests_list_is_paginated(serving, model, pipeline, datasets, people):
    for n in range(3):
        request, _ = retraining.retraining_request_open(model=model, rule="age", details={"n": n})
        register_version(pipeline, model, datasets, number=f"1.{n + 1}.0", card=False, ci=False)
        retraining.retraining_close_for_version(
            actor=pipeline, version=model.versions.get(version=f"1.{n + 1}.0"), request_id=request.pk
        )
    page = client_for(people["auditor"]).get(f"{CREDIT}/retraining-requests", {"page_size": 2}).json()
    assert (page["count"], len(page["results"])) == (3, 2)
