"""Monitoring: drift statistics from bins, observations, the evaluation job, alerts from open to
resolved, silence and orphaned models, and the demo story's drift alert behind its rollback."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import close_old_connections, connection
from django.utils import timezone

from config.celery import app
from governance import drift, reconciliation
from governance import tasks as governance_tasks
from governance.demo import FULL_CARD
from governance.errors import Conflict, Forbidden, InvalidInput, NotVisible
from governance.models import Alert, Deployment, ModelVersion, Observation, RegisteredModel
from governance.roles import Role
from governance.selectors import gates as gate_selectors
from governance.services import alerts, deployments, monitoring, policies, registry
from governance.services.access import access_grant
from ledger import services as ledger_services
from tests.governance import readiness
from tests.governance.conftest import PASSWORD, make_user
from tests.workers import running_worker

REFERENCE = [50, 50]
SHIFTED = [25, 75]  # PSI 0.274653, KS 0.25: over the fixtures' bounds of 0.25 and 0.20
STEADY = [49, 51]


@pytest.fixture
def clock():
    with readiness.frozen(readiness.Clock()) as c:
        yield c


@pytest.fixture
def serving(clock, version, pipeline, olga, oscar):
    """1.0.0 serving production for two hours."""
    readiness.approve(version, olga, oscar, password=PASSWORD)
    deployment = deployments.deployment_start(actor=pipeline, version=version, environment="production")
    clock.advance(hours=2)
    return deployment


@pytest.fixture
def in_process_tasks():
    """Run Celery tasks in-process in this test, whatever broker is configured."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager


def observe(pipeline, model, clock, live=SHIFTED, feature="income", **extra):
    measures = {"bins": {"reference": REFERENCE, "live": live}} if live is not None else {}
    item = readiness.window("1.0.0", clock.now, kind="feature_drift", feature=feature, **measures, **extra)
    return monitoring.observation_post_batch(actor=pipeline, model=model, items=[item]).observations[0]


# --- PSI and KS ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("reference", "live", "psi", "ks"),
    [
        # p = (.5, .5), q = (.25, .75): PSI = (-.25)·ln(.5) + (.25)·ln(1.5) = .173287 + .101366
        ([50, 50], [25, 75], "0.274653", "0.250000"),
        # An empty reference bin counts as 0.0001: PSI = (-.1)·ln(.9) + (.0999)·ln(1000) = .010536 + .690085
        ([100, 0], [90, 10], "0.700621", "0.100000"),
        # p = (1/3, 2/3), q = (2/3, 1/3): PSI = (2/3)·ln 2; KS = |1/3 - 2/3|
        ([1, 2], [2, 1], "0.462098", "0.333333"),
        ([10, 20, 30, 40], [1, 2, 3, 4], "0.000000", "0.000000"),
    ],
)
def test_psi_and_ks_from_bins_match_hand_computed_values(reference, live, psi, ks):
    assert (drift.psi(reference, live), drift.ks(reference, live)) == (psi, ks)


@pytest.mark.parametrize(
    ("reference", "live", "message"),
    [
        ([1, 2, 3], [1, 2], "same number of bins"),
        ([1, -2], [1, 2], "non-negative integers"),
        ([0, 0], [1, 2], "all zero"),
        ([5], [5], "2 to 1000 counts"),
        ([1.5, 2], [1, 2], "non-negative integers"),
    ],
)
def test_malformed_bins_are_refused(reference, live, message):
    with pytest.raises(drift.BinsError, match=message):
        drift.psi(reference, live)


# --- Observations -------------------------------------------------------------------------------
def test_drift_posted_as_bins_is_computed_on_the_server_and_logged_without_floats(serving, pipeline, model, clock):
    observation = observe(pipeline, model, clock)
    assert (observation.psi, observation.ks) == ("0.274653", "0.250000")
    assert observation.deployment == serving and observation.evaluated_at is None
    data = readiness.leaf(observation.ledger_key)["data"]
    assert data["psi"] == "0.274653" and data["ks"] == "0.250000"
    assert len(data["bins_sha256"]) == 64 and "bins" not in data
    assert data["environment"] == "production" and data["deployment"] == serving.ledger_key


def test_sending_an_observation_again_changes_nothing(serving, pipeline, model, clock):
    first = observe(pipeline, model, clock)
    again = monitoring.observation_post_batch(
        actor=pipeline,
        model=model,
        items=[
            readiness.window(
                "1.0.0",
                clock.now,
                kind="feature_drift",
                feature="income",
                bins={"reference": REFERENCE, "live": SHIFTED},
            )
        ],
    )
    assert again.created == 0 and again.observations == [first]
    assert Observation.objects.count() == 1


def test_an_observation_is_never_edited(serving, pipeline, model, clock):
    observe(pipeline, model, clock)
    with pytest.raises(Conflict) as refused:
        observe(pipeline, model, clock, live=STEADY)
    assert refused.value.errors == {"0": ["Already observed with different values; observations are never edited."]}


def test_an_observation_of_a_window_the_version_did_not_serve_is_refused(serving, pipeline, model, clock):
    before = readiness.window("1.0.0", serving.started_at - timedelta(minutes=1), kind="volume", count=10)
    staging = {**readiness.window("1.0.0", clock.now, kind="volume", count=10), "environment": "staging"}
    with pytest.raises(Conflict) as refused:
        monitoring.observation_post_batch(actor=pipeline, model=model, items=[before, staging])
    assert set(refused.value.errors) == {"0", "1"}
    assert not Observation.objects.exists()


@pytest.mark.parametrize(
    ("measures", "field"),
    [
        ({"kind": "feature_drift", "feature": "income"}, "0"),
        ({"kind": "feature_drift", "feature": "income", "psi": 0.3}, "0.psi"),
        (
            {
                "kind": "feature_drift",
                "feature": "income",
                "psi": "0.3",
                "bins": {"reference": [1, 1], "live": [1, 1]},
            },
            "0",
        ),
        ({"kind": "feature_drift", "psi": "0.3"}, "0.feature"),
        ({"kind": "performance", "metric": "auc"}, "0"),
        ({"kind": "volume", "count": -1}, "0.count"),
        ({"kind": "feature_drift", "feature": "x", "bins": {"reference": [1], "live": [1]}}, "0.bins"),
    ],
)
def test_a_malformed_observation_is_refused_by_field(serving, pipeline, model, clock, measures, field):
    with pytest.raises(InvalidInput) as refused:
        monitoring.observation_post_batch(
            actor=pipeline, model=model, items=[readiness.window("1.0.0", clock.now, **measures)]
        )
    assert field in refused.value.errors


def test_only_pipelines_granted_log_post_observations(serving, alice, model, clock):
    stranger = make_user("stranger-pipeline", Role.PIPELINE)
    with pytest.raises(Forbidden):
        observe(alice, model, clock)
    with pytest.raises(NotVisible):
        observe(stranger, model, clock)


def test_each_judgement_is_a_ledger_entry_that_the_stored_judgement_must_match(serving, pipeline, model, clock):
    observation = observe(pipeline, model, clock)
    clock.advance(minutes=5)
    [alert] = monitoring.monitoring_evaluate().alerts_opened
    observation.refresh_from_db()
    judged = readiness.leaf(f"monitoring.evaluated:{observation.pk}")
    assert (judged["actor"], judged["data"]) == (
        "system",
        {
            "observation": observation.ledger_key,
            "evaluated_at": observation.evaluated_at.isoformat().replace("+00:00", "Z"),
            "breached": True,
            "judged_against": "psi > 0.25 or ks > 0.20",
            "alert": alert.ledger_key,
        },
    )
    assert reconciliation.reconcile(kinds=["observation"]).mismatches == []

    Observation.objects.filter(pk=observation.pk).update(breached=False)
    [mismatch] = reconciliation.reconcile(kinds=["observation"]).mismatches
    assert (mismatch.field, mismatch.stored, mismatch.ledger, mismatch.seq) == ("breached", False, True, judged["seq"])

    # A judgement forged onto an observation that was never judged has no entry to show for it.
    clock.advance(minutes=60)
    later = observe(pipeline, model, clock)
    ledger_services.tree_integrate_all()
    Observation.objects.filter(pk=observation.pk).update(breached=True)
    Observation.objects.filter(pk=later.pk).update(evaluated_at=clock.now, breached=False, judged_against="x")
    found = reconciliation.reconcile(kinds=["observation"]).mismatches
    assert len(found) == 1, [m.line() for m in found]
    forged = found[0]
    assert (forged.field, forged.seq, forged.stored) == (
        "monitoring.evaluated entry",
        None,
        f"monitoring.evaluated:{later.pk}",
    )


# --- Breach, alert, acknowledgement, resolution -------------------------------------------------
def test_a_breach_opens_an_alert_that_is_acknowledged_then_resolved_with_who_and_when(
    serving, pipeline, model, clock, alice, olga
):
    observation = observe(pipeline, model, clock)
    opened_at = clock.advance(minutes=5)
    result = monitoring.monitoring_evaluate()
    assert result.observations == 1
    [alert] = result.alerts_opened
    observation.refresh_from_db()
    assert observation.breached is True and observation.alert == alert
    assert observation.judged_against == "psi > 0.25 or ks > 0.20"
    assert (alert.kind, alert.state, alert.opened_at) == ("drift", "open", opened_at)
    assert alert.summary == "credit-risk 1.0.0: input drift on income (PSI 0.274653 > 0.25; KS 0.250000 > 0.20)."
    opened = readiness.leaf(alert.ledger_key)
    assert (opened["type"], opened["actor"], opened["data"]["details"]["psi"]) == (
        "alert.opened",
        "system",
        "0.274653",
    )

    acknowledged_at = clock.advance(minutes=20)
    alerts.alert_acknowledge(actor=alice, alert=alert, note="Looking into the income feed.")
    resolved_at = clock.advance(hours=3)
    alerts.alert_resolve(actor=olga, alert=alert, note="Upstream feed fixed; drift gone.")
    alert.refresh_from_db()
    assert (alert.acknowledged_by, alert.acknowledged_at) == (alice, acknowledged_at)
    assert (alert.resolved_by, alert.resolved_at, alert.state) == (olga, resolved_at, "resolved")
    assert readiness.leaf(f"alert.acknowledged:{alert.pk}")["data"]["acknowledged_by"] == "alice"
    resolved = readiness.leaf(f"alert.resolved:{alert.pk}")
    assert resolved["actor"] == "user:olga" and resolved["data"]["note"] == "Upstream feed fixed; drift gone."


def test_a_repeated_breach_is_suppressed_while_its_alert_is_unresolved(serving, pipeline, model, clock, alice):
    first = observe(pipeline, model, clock)
    monitoring.monitoring_evaluate()
    clock.advance(hours=1)
    second = observe(pipeline, model, clock)
    assert monitoring.monitoring_evaluate().alerts_opened == []
    first.refresh_from_db()
    second.refresh_from_db()
    assert Alert.objects.count() == 1 and first.alert == second.alert
    alert = first.alert
    alerts.alert_acknowledge(actor=alice, alert=alert)
    assert monitoring.monitoring_evaluate().alerts_opened == []  # acknowledged is still unresolved
    alerts.alert_resolve(actor=alice, alert=alert, note="Feed fixed.")
    clock.advance(hours=1)
    observe(pipeline, model, clock)
    [again] = monitoring.monitoring_evaluate().alerts_opened
    assert again != alert and again.dedupe_key == alert.dedupe_key


def test_each_observation_is_judged_once(serving, pipeline, model, clock):
    observe(pipeline, model, clock, live=STEADY)
    assert monitoring.monitoring_evaluate().observations == 1
    assert monitoring.monitoring_evaluate().observations == 0
    assert Observation.objects.get().breached is False


def test_it_judges_observations_in_chunks_with_queries_independent_of_their_number(
    serving, pipeline, model, clock, django_assert_max_num_queries
):
    items = [
        readiness.window(
            "1.0.0", clock.now, kind="feature_drift", feature=f"f{n}", bins={"reference": REFERENCE, "live": STEADY}
        )
        for n in range(120)
    ]
    items[7]["bins"]["live"] = SHIFTED  # one breach: its alert opens as it always did
    monitoring.observation_post_batch(actor=pipeline, model=model, items=items)
    clock.advance(minutes=5)
    # Three chunks of 50, 50 and 20: a few queries each, whatever the chunk holds (on SQLite the
    # ledger queues each event by a statement of its own).
    with django_assert_max_num_queries(40 if connection.vendor == "postgresql" else 40 + 120):
        result = monitoring.monitoring_evaluate(batch_size=50)
    assert result.observations == 120
    [alert] = result.alerts_opened
    assert alert.dedupe_key.endswith(":feature_drift:f7")
    assert not Observation.objects.filter(evaluated_at__isnull=True).exists()
    breached = Observation.objects.get(breached=True)
    assert breached.alert == alert
    assert monitoring.monitoring_evaluate().observations == 0
    assert readiness.leaf(f"monitoring.evaluated:{breached.pk}")["data"] == {
        "observation": breached.ledger_key,
        "evaluated_at": breached.evaluated_at.isoformat().replace("+00:00", "Z"),
        "breached": True,
        "judged_against": "psi > 0.25 or ks > 0.20",
        "alert": alert.ledger_key,
    }
    assert reconciliation.reconcile(kinds=["observation"]).mismatches == []


def test_an_alert_is_resolved_after_acknowledgement_and_with_a_note(serving, pipeline, model, clock, alice):
    observe(pipeline, model, clock)
    [alert] = monitoring.monitoring_evaluate().alerts_opened
    with pytest.raises(Conflict, match="Acknowledge the alert before resolving it"):
        alerts.alert_resolve(actor=alice, alert=alert, note="done")
    alerts.alert_acknowledge(actor=alice, alert=alert)
    with pytest.raises(Conflict, match="only open alerts"):
        alerts.alert_acknowledge(actor=alice, alert=alert)
    with pytest.raises(InvalidInput):
        alerts.alert_resolve(actor=alice, alert=alert, note=" ")


def test_only_the_owner_and_officers_handle_alerts(serving, pipeline, model, clock):
    observe(pipeline, model, clock)
    [alert] = monitoring.monitoring_evaluate().alerts_opened
    auditor = make_user("audrey", Role.AUDITOR)
    other_owner = make_user("otto", Role.MODEL_OWNER)
    for user in (pipeline, auditor):
        with pytest.raises(Forbidden):
            alerts.alert_acknowledge(actor=user, alert=alert)
    with pytest.raises(NotVisible):
        alerts.alert_acknowledge(actor=other_owner, alert=alert)


def test_a_live_metric_under_its_threshold_opens_an_accuracy_alert(serving, pipeline, model, clock):
    item = readiness.window("1.0.0", clock.now, kind="performance", metric="auc", value="0.79")
    monitoring.observation_post_batch(actor=pipeline, model=model, items=[item])
    [alert] = monitoring.monitoring_evaluate().alerts_opened
    assert alert.kind == "accuracy"
    assert alert.summary == "credit-risk 1.0.0: live auc 0.79 breaks auc ≥ 0.80."


def test_a_thin_window_opens_a_volume_alert(serving, pipeline, model, clock, alice):
    policies.monitoring_policy_set(
        actor=alice,
        model=model,
        expected_interval_minutes=60,
        psi_threshold="0.25",
        ks_threshold="0.20",
        min_volume=100,
    )
    items = [readiness.window("1.0.0", clock.now, kind="volume", count=99)]
    monitoring.observation_post_batch(actor=pipeline, model=model, items=items)
    [alert] = monitoring.monitoring_evaluate().alerts_opened
    assert (alert.kind, alert.details["count"]) == ("volume", 99)


def test_prediction_drift_posted_as_statistics_opens_a_drift_alert(serving, pipeline, model, clock):
    item = readiness.window("1.0.0", clock.now, kind="prediction_drift", psi="0.31", ks="0.05")
    monitoring.observation_post_batch(actor=pipeline, model=model, items=[item])
    [alert] = monitoring.monitoring_evaluate().alerts_opened
    assert alert.summary == "credit-risk 1.0.0: prediction drift (PSI 0.31 > 0.25)."


# --- Silence ------------------------------------------------------------------------------------
def test_a_production_deployment_unobserved_for_its_interval_is_unmonitored(serving, pipeline, model, clock):
    observe(pipeline, model, clock, live=STEADY)
    posted = clock.now
    assert monitoring.monitoring_evaluate().alerts_opened == []
    clock.advance(minutes=60)  # the fixtures expect an observation every 60 minutes
    assert monitoring.monitoring_evaluate().alerts_opened == []
    clock.advance(minutes=1)
    [alert] = monitoring.monitoring_evaluate().alerts_opened
    assert (alert.kind, alert.deployment) == ("unmonitored", serving)
    assert alert.details["last_observation_at"] == posted.isoformat().replace("+00:00", "Z")
    clock.advance(hours=5)
    assert monitoring.monitoring_evaluate().alerts_opened == []


def test_a_deployment_never_observed_is_unmonitored_an_interval_after_it_started(serving, clock):
    # The fixture has served for two hours without an observation.
    [alert] = monitoring.monitoring_evaluate().alerts_opened
    assert alert.details["last_observation_at"] is None


def test_a_staging_deployment_is_not_watched_for_silence(clock, version, pipeline, olga, oscar):
    readiness.approve(version, olga, oscar, password=PASSWORD)
    deployments.deployment_start(actor=pipeline, version=version, environment="staging")
    clock.advance(days=2)
    assert monitoring.monitoring_evaluate().alerts_opened == []


# --- Ownership ----------------------------------------------------------------------------------
def test_a_deactivated_owner_orphans_the_model_and_compliance_is_told_once(
    model, alice, olga, in_process_tasks, django_capture_on_commit_callbacks
):
    olga.email, alice.email = "olga@example.com", "alice@example.com"
    olga.save(update_fields=["email"])
    alice.is_active = False
    alice.save(update_fields=["email", "is_active"])
    with django_capture_on_commit_callbacks(execute=True):
        [alert] = alerts.ownership_check()
    assert (alert.kind, alert.model, alert.details["reason"]) == ("orphaned", model, "was deactivated")
    assert [m.to for m in mail.outbox] == [["olga@example.com"]]
    assert "credit-risk has no active owner: alice was deactivated." in mail.outbox[0].subject
    assert alerts.ownership_check() == []


def test_an_owner_who_leaves_the_model_owner_role_orphans_the_model(model, alice):
    alice.groups.clear()
    [alert] = alerts.ownership_check()
    assert alert.details["reason"] == "no longer holds the model-owner role"


def test_an_owned_model_is_not_orphaned(model):
    assert alerts.ownership_check() == []


# --- Policies -----------------------------------------------------------------------------------
def test_only_the_owner_and_officers_set_monitoring_policy(model, pipeline, olga):
    with pytest.raises(Forbidden):
        policies.monitoring_policy_set(
            actor=pipeline, model=model, expected_interval_minutes=5, psi_threshold="0.2", ks_threshold="0.1"
        )
    policy = policies.monitoring_policy_set(
        actor=olga, model=model, expected_interval_minutes=5, psi_threshold="0.2", ks_threshold="0.1"
    )
    assert readiness.leaf(policy.ledger_key)["data"]["psi_threshold"] == "0.2"
    assert model.monitoring_policies.filter(superseded_at__isnull=True).get() == policy
    assert model.monitoring_policies.count() == 2  # the earlier policy stays on record


def test_thresholds_are_decimal_strings(model, alice):
    with pytest.raises(InvalidInput) as refused:
        policies.thresholds_set(
            actor=alice, model=model, thresholds=[{"metric": "auc", "operator": "min", "value": 0.8}]
        )
    assert "thresholds[0].value" in refused.value.errors


# --- The demo story -----------------------------------------------------------------------------
def test_the_demo_story_shows_the_gates_and_the_drift_alert_behind_the_rollback(db):
    call_command("seed_demo", "--decisions", "40")
    model = RegisteredModel.objects.get(slug="credit-risk")
    versions = {v.version: v for v in ModelVersion.objects.filter(model=model)}
    assert gate_selectors.gates_evaluate(version=versions["1.1.0"]).failing == []
    assert gate_selectors.gates_evaluate(version=versions["2.1.0"]).failing == [
        "model_card",
        "approvals",
        "ci_evidence",
    ]
    alert = Alert.objects.get(model=model, kind="drift")
    assert alert.version == versions["2.0.0"] and alert.state == "resolved"
    rollback = Deployment.objects.get(rollback_of__version=versions["2.0.0"])
    assert rollback.version == versions["1.1.0"]
    assert alert.opened_at < alert.acknowledged_at < rollback.started_at < alert.resolved_at
    assert f"drift alert {alert.pk}" in rollback.rollback_of.end_reason
    request = model.retraining_requests.get()
    assert (request.rule, request.state, request.closed_by_version) == ("drift", "closed", versions["2.1.0"])
    assert request.opened_at < rollback.started_at


# --- A real worker ------------------------------------------------------------------------------
def _wait_for(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        close_old_connections()
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_runs_the_periodic_evaluation_and_opens_the_alert():
    schedule = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert governance_tasks.monitoring_evaluate_task.name in schedule
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        owner = make_user("w-owner", Role.MODEL_OWNER)
        officers = [make_user(f"w-officer-{n}", Role.COMPLIANCE_OFFICER) for n in (1, 2)]
        pipe = make_user("w-pipe", Role.PIPELINE)
        model = registry.model_register(
            actor=owner,
            slug="watched",
            name="Watched",
            intended_purpose="x",
            regulated_use="other",
            risk_tier="high",
            owner=owner,
            runbook="https://wiki/watched",
        )
        access_grant(actor=officers[0], model=model, grantee=pipe, actions=["register", "log"])
        readiness.declare_policies(model, owner)
        sets = [
            registry.dataset_register(actor=pipe, name=role, uri=f"s3://{role}", sha256=f"{n:x}" * 64, size_bytes=1)[0]
            for n, role in ((7, "training"), (8, "validation"), (9, "test"))
        ]
        version = registry.version_register(
            actor=pipe,
            model=model,
            version="1.0.0",
            artifact_sha256="f" * 64,
            artifact_uri="s3://m",
            datasets=[{"sha256": d.sha256, "role": d.name} for d in sets],
            metrics=[{"name": "auc", "value": "0.9"}],
            **readiness.reproducible("1.0.0"),
        )
        readiness.post_ci(version, pipe)
        registry.card_revise(actor=pipe, version=version, content=FULL_CARD)
        readiness.approve(version, *officers, password=PASSWORD)
        deployments.deployment_start(actor=pipe, version=version, environment="production")
        end = timezone.now()
        item = readiness.window("1.0.0", end, kind="feature_drift", feature="income", psi="0.40", ks="0.10")
        monitoring.observation_post_batch(actor=pipe, model=model, items=[item])
        with running_worker():
            governance_tasks.monitoring_evaluate_task.delay()
            assert _wait_for(lambda: Alert.objects.filter(model=model, kind="drift").exists()), "no alert opened"
        assert Observation.objects.get().breached is True
    finally:
        app.conf.task_always_eager = eager
