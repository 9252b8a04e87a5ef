"""Managing models from the console: register, access, thresholds and policies, review, deploy.
Pages and links are offered by the access table; every form is checked again by its service."""

from __future__ import annotations

import pytest

from governance import access
from governance.models import Deployment, ModelVersion, RegisteredModel

V110 = "/models/credit-risk/versions/1.1.0"
V100 = "/models/credit-risk/versions/1.0.0"


def test_an_owner_registers_a_model_from_the_console(world, client_for):
    client = client_for("owner")
    assert "Register a model" in client.get("/models").content.decode()
    response = client.post(
        "/models/new",
        {
            "slug": "card-fraud",
            "name": "Card fraud",
            "intended_purpose": "Flag card payments for review.",
            "regulated_use": "other",
            "risk_tier": "high",
            "owner": "owner",
            "runbook": "https://wiki.example.com/card-fraud",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/models/card-fraud"
    assert RegisteredModel.objects.get(slug="card-fraud").owner.username == "owner"


def test_a_refused_registration_is_shown_on_the_form(world, client_for):
    response = client_for("owner").post(
        "/models/new",
        {"slug": "x", "name": "X", "intended_purpose": "x", "regulated_use": "other", "risk_tier": "low",
         "owner": "auditor"},
    )  # fmt: skip
    assert response.status_code == 200
    assert not RegisteredModel.objects.filter(slug="x").exists()
    assert "errorlist" in response.content.decode()


@pytest.mark.parametrize("persona", ["auditor", "pipeline_granted"])
def test_those_who_may_not_register_models_get_no_link_and_a_403(persona, world, client_for):
    client = client_for(persona)
    if persona == "auditor":
        assert "Register a model" not in client.get("/models").content.decode()
    assert client.get("/models/new").status_code == 403


def test_an_officer_grants_and_revokes_access(world, client_for, people):
    client = client_for("officer_1")
    assert 'href="/models/credit-risk/access"' in client.get("/models/credit-risk").content.decode()
    response = client.post(
        "/models/credit-risk/access", {"verb": "grant", "principal": "pipeline-stranger", "actions": ["view", "log"]}
    )
    assert response.status_code == 302
    assert access.can(people["pipeline_stranger"], "log", world.model)
    page = client.get("/models/credit-risk/access").content.decode()
    assert "pipeline-stranger" in page
    client.post("/models/credit-risk/access", {"verb": "revoke", "principal": "pipeline-stranger", "actions": ["log"]})
    assert not access.can(people["pipeline_stranger"], "log", world.model)


@pytest.mark.parametrize(("persona", "status"), [("owner", 403), ("auditor", 403), ("other_owner", 404)])
def test_only_officers_and_admins_manage_access(persona, status, world, client_for):
    client = client_for(persona)
    assert client.get("/models/credit-risk/access").status_code == status
    post = client.post("/models/credit-risk/access", {"verb": "grant", "principal": "auditor", "actions": ["view"]})
    assert post.status_code == status


def test_the_owner_sets_thresholds_and_policies(world, client_for):
    client = client_for("owner")
    page = client.get("/models/credit-risk/policies").content.decode()
    assert "auc min 0.80" in page
    response = client.post(
        "/models/credit-risk/policies",
        {
            "thresholds": "auc min 0.82\nlog_loss max 0.4",
            "expected_interval_minutes": "30",
            "psi_threshold": "0.2",
            "ks_threshold": "0.1",
            "drift_windows": "2",
            "max_age_days": "180",
        },
    )
    assert response.status_code == 302
    thresholds = world.model.thresholds.filter(superseded_at__isnull=True).order_by("metric")
    assert [(t.metric, t.operator, t.value) for t in thresholds] == [
        ("auc", "min", "0.82"),
        ("log_loss", "max", "0.4"),
    ]
    assert world.model.monitoring_policies.get(superseded_at__isnull=True).psi_threshold == "0.2"


def test_a_malformed_threshold_line_is_refused_and_nothing_changes(world, client_for):
    before = world.model.thresholds.count()
    response = client_for("owner").post(
        "/models/credit-risk/policies",
        {"thresholds": "auc at least 0.8", "expected_interval_minutes": "30", "psi_threshold": "0.2",
         "ks_threshold": "0.1"},
    )  # fmt: skip
    assert response.status_code == 200 and "Line 1: write METRIC min|max VALUE" in response.content.decode()
    assert world.model.thresholds.count() == before


def test_the_auditor_may_not_set_policies(world, client_for):
    assert client_for("auditor").get("/models/credit-risk/policies").status_code == 403


def test_a_pipeline_version_is_sent_to_review_by_the_owner(world, client_for):
    client = client_for("owner")
    assert "Send to review" in client.get(V110).content.decode()
    client.post(f"{V110}/review")
    assert ModelVersion.objects.get(pk=world.v110.pk).status == "in_review"
    assert client_for("auditor").post(f"{V110}/review").status_code == 403


def test_the_deploy_page_shows_the_gates_before_the_button_and_the_service_decides(world, client_for):
    client = client_for("owner")
    assert "Deploy or roll back" not in client.get(V110).content.decode()  # not approved
    page = client.get(f"{V110}/deploy").content.decode()
    assert page.index('data-testid="gates"') < page.index('data-testid="deploy-form"')
    assert 'data-gate="approvals" data-status="fail"' in page and "disabled" in page
    # Posting anyway is refused by the service: nothing deployed.
    response = client.post(f"{V110}/deploy", {"environment": "production"})
    assert response.status_code == 200 and "only approved versions are deployed" in response.content.decode()
    assert not Deployment.objects.filter(version=world.v110).exists()


def test_an_approved_version_is_deployed_to_staging_from_the_console(world, client_for):
    client = client_for("owner")
    assert "Deploy or roll back" in client.get(V100).content.decode()
    response = client.post(f"{V100}/deploy", {"environment": "staging", "change_ticket": "CHG-9"})
    assert response.status_code == 302
    assert Deployment.objects.get(version=world.v100, environment="staging").change_ticket == "CHG-9"


# --- Navigation --------------------------------------------------------------------------------
@pytest.mark.parametrize(("persona", "shown"), [("officer_1", True), ("auditor", False), ("owner", False)])
def test_the_review_queue_is_in_the_navigation_only_for_those_who_sign(persona, shown, world, client_for):
    html = client_for(persona).get("/models").content.decode()
    assert ('href="/queue"' in html) is shown


def test_auditors_are_offered_no_way_to_handle_alerts(world, client_for):
    from governance.services import alerts

    alerts.alert_open(
        model=world.model, version=world.v100, kind="drift", dedupe_key="d-1", summary="drift on income", details={}
    )
    assert "/acknowledge" in client_for("owner").get("/alerts").content.decode()
    html = client_for("auditor").get("/alerts").content.decode()
    assert "drift on income" in html and "/acknowledge" not in html and "/resolve" not in html


# --- The signature dialog --------------------------------------------------------------------------
def test_the_signature_dialog_chooses_no_meaning_and_says_what_is_attested_and_how_far_approval_is(world, client_for):
    html = client_for("officer_1").get(f"{V110}/sign").content.decode()
    assert "checked" not in html.split('name="meaning"')[1].split("</div>")[0]
    assert "I have reviewed credit-risk 1.1.0, its model card (revision 1) and the datasets named below" in html
    assert "approval 1 of 2 needed" in html and "freezes the model card" in html
    assert "train" in html and "validation" in html


def test_a_signature_without_a_meaning_is_refused_on_the_form(world, client_for):
    from governance.selectors import approvals

    preview = approvals.signature_preview(world.v110)
    response = client_for("officer_1").post(
        f"{V110}/sign",
        {"reason": "ok", "password": "x", "expected_sha256": preview["signed_sha256"], "card_revision": 1},
    )
    assert response.status_code == 400 and not world.v110.approvals.exists()
