"""Retraining triggers: each rule fires once, an open request suppresses duplicates, and the
version registered for it closes it."""

from __future__ import annotations

import pytest

from governance.errors import Conflict, Forbidden, InvalidInput
from governance.models import Delivery, RetrainingRequest
from governance.services import deployments, monitoring, notifications, policies, registry, retraining
from tests.governance import readiness
from tests.governance.conftest import PASSWORD, register_version

DRIFTED = {"bins": {"reference": [50, 50], "live": [25, 75]}}
STEADY = {"bins": {"reference": [50, 50], "live": [49, 51]}}


@pytest.fixture
def clock():
    with readiness.frozen(readiness.Clock()) as c:
        yield c


@pytest.fixture
def serving(clock, version, pipeline, olga, oscar):
    readiness.approve(version, olga, oscar, password=PASSWORD)
    deployment = deployments.deployment_start(actor=pipeline, version=version, environment="production")
    clock.advance(hours=1)
    return deployment


def windows(pipeline, model, clock, *measures):
    """Post one hourly window per measure, judging each as the periodic job would."""
    for measure in measures:
        clock.advance(hours=1)
        item = readiness.window("1.0.0", clock.now, kind="feature_drift", feature="income", **measure)
        monitoring.observation_post_batch(actor=pipeline, model=model, items=[item])
        monitoring.monitoring_evaluate()


def test_drift_in_n_consecutive_windows_opens_one_request(serving, pipeline, model, clock):
    windows(pipeline, model, clock, DRIFTED, DRIFTED)
    assert retraining.retraining_evaluate() == []  # two of the policy's three windows
    windows(pipeline, model, clock, DRIFTED)
    [request] = retraining.retraining_evaluate()
    assert (request.rule, request.state, request.version) == ("drift", "open", serving.version)
    assert len(request.details["windows"]) == 3 and request.details["windows"][0]["drifted"] == ["income"]
    leaf = readiness.leaf(request.ledger_key)
    assert (leaf["type"], leaf["actor"], leaf["data"]["rule"]) == ("retraining.requested", "system", "drift")


def test_a_steady_window_breaks_the_run(serving, pipeline, model, clock):
    windows(pipeline, model, clock, DRIFTED, DRIFTED, STEADY, DRIFTED, DRIFTED)
    assert retraining.retraining_evaluate() == []


def test_an_open_request_suppresses_another(serving, pipeline, model, clock):
    windows(pipeline, model, clock, DRIFTED, DRIFTED, DRIFTED)
    [request] = retraining.retraining_evaluate()
    windows(pipeline, model, clock, DRIFTED)
    clock.advance(days=400)  # the age rule would fire too
    assert retraining.retraining_evaluate() == []
    assert retraining.retraining_request_open(model=model, rule="age", details={}) == (request, False)
    assert RetrainingRequest.objects.count() == 1


def test_the_version_registered_for_a_request_closes_it(serving, pipeline, model, datasets, clock):
    windows(pipeline, model, clock, DRIFTED, DRIFTED, DRIFTED)
    [request] = retraining.retraining_evaluate()
    retrained = registry.version_register(
        actor=pipeline,
        model=model,
        version="1.1.0",
        parent="1.0.0",
        artifact_sha256="c" * 64,
        artifact_uri="s3://m11",
        datasets=[{"sha256": datasets[0].sha256, "role": "training"}],
        retraining_request=request.pk,
    )
    request.refresh_from_db()
    assert (request.state, request.closed_by_version, request.closed_at) == ("closed", retrained, clock.now)
    closed = readiness.leaf(request.close_ledger_key)
    assert closed["data"]["version"] == "1.1.0" and closed["data"]["requested"] == request.ledger_key
    # The drift behind it is not new evidence: no second request until fresh windows drift.
    assert retraining.retraining_evaluate() == []
    windows(pipeline, model, clock, DRIFTED, DRIFTED, DRIFTED)
    [again] = retraining.retraining_evaluate()
    assert again != request


def test_a_closed_request_cannot_be_answered_twice(serving, pipeline, model, datasets, clock):
    request, _ = retraining.retraining_request_open(model=model, rule="age", details={})
    register = registry.version_register
    common = {
        "actor": pipeline,
        "model": model,
        "artifact_sha256": "c" * 64,
        "artifact_uri": "s3://m",
        "datasets": [{"sha256": datasets[0].sha256, "role": "training"}],
    }
    register(**common, version="1.1.0", retraining_request=request.pk)
    with pytest.raises(Conflict):
        register(**common, version="1.2.0", retraining_request=request.pk)
    with pytest.raises(InvalidInput):
        register(**common, version="1.3.0", retraining_request=request.pk + 1000)
    assert not model.versions.filter(version__in=["1.2.0", "1.3.0"]).exists()


def test_live_accuracy_under_the_floor_opens_a_request(serving, pipeline, model, alice, clock):
    policies.retraining_policy_set(actor=alice, model=model, accuracy_metric="auc", accuracy_floor="0.82")
    clock.advance(hours=1)
    item = readiness.window("1.0.0", clock.now, kind="performance", metric="auc", value="0.81")
    monitoring.observation_post_batch(actor=pipeline, model=model, items=[item])
    [request] = retraining.retraining_evaluate()
    assert request.rule == "accuracy"
    assert {k: request.details[k] for k in ("metric", "value", "floor")} == {
        "metric": "auc",
        "value": "0.81",
        "floor": "0.82",
    }


def test_a_serving_version_past_its_maximum_age_opens_a_request(serving, clock):
    clock.advance(days=364)  # registered just over an hour before: not yet 365 days old
    assert retraining.retraining_evaluate() == []
    clock.advance(days=2)
    [request] = retraining.retraining_evaluate()
    assert (request.rule, request.details["max_age_days"], request.details["age_days"]) == ("age", 365, 366)


def test_new_training_data_opens_a_request(serving, pipeline, model, alice, clock):
    policies.retraining_policy_set(actor=alice, model=model, new_data_uri_prefix="s3://fresh/")
    clock.advance(hours=1)
    assert retraining.retraining_evaluate() == []
    registry.dataset_register(actor=pipeline, name="other", uri="s3://elsewhere/x", sha256="d" * 64, size_bytes=1)
    assert retraining.retraining_evaluate() == []
    registry.dataset_register(actor=pipeline, name="fresh", uri="s3://fresh/2026", sha256="e" * 64, size_bytes=1)
    [request] = retraining.retraining_evaluate()
    assert request.rule == "new_data" and request.details["datasets"][0]["sha256"] == "e" * 64


def test_a_request_notifies_the_pipelines_webhook(serving, pipeline, model, olga, clock):
    webhook = notifications.webhook_create(
        actor=olga,
        url="https://pipeline.example/retrain",
        secret="s" * 32,
        events=["retraining.requested"],
        model=model,
    )
    clock.advance(days=400)
    [request] = retraining.retraining_evaluate()
    delivery = Delivery.objects.get(webhook=webhook)
    assert (delivery.event, delivery.event_key, delivery.state) == (
        "retraining.requested",
        request.ledger_key,
        "pending",
    )


def test_a_policy_turns_on_at_least_one_rule(model, alice):
    with pytest.raises(InvalidInput, match="not valid") as refused:
        policies.retraining_policy_set(actor=alice, model=model)
    assert "non_field_errors" in refused.value.errors
    with pytest.raises(InvalidInput) as refused:
        policies.retraining_policy_set(actor=alice, model=model, accuracy_floor="0.8")
    assert "accuracy_metric" in refused.value.errors


def test_only_the_owner_and_officers_set_the_retraining_policy(model, pipeline, olga):
    with pytest.raises(Forbidden):
        policies.retraining_policy_set(actor=pipeline, model=model, max_age_days=30)
    policy = policies.retraining_policy_set(actor=olga, model=model, max_age_days=30)
    assert readiness.leaf(policy.ledger_key)["data"]["max_age_days"] == 30


def test_a_model_without_a_production_deployment_only_watches_for_new_data(model, pipeline, datasets, clock):
    register_version(pipeline, model, datasets)
    clock.advance(days=1000)
    assert retraining.retraining_evaluate() == []  # nothing serves, so nothing ages or drifts
