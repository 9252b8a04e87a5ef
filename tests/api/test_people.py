"""People and roles through the API: every identity event written as the caller, and the rules
that stop an administrator from making themselves, or a second account, a compliance officer."""

from __future__ import annotations

from django.contrib.auth.models import User
from knox.models import AuthToken

from governance.models import Approval, RoleGrant
from tests.api.factories import PASSWORD
from tests.identity import logged, summary

NEW = "a long and new passphrase"


def test_every_identity_event_is_written_through_the_api_as_the_caller(admin, officer_1, client_for):
    api = client_for(admin)
    created = api.post(
        "/api/v1/users", {"username": "nina", "password": PASSWORD, "roles": ["auditor"]}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["roles"] == ["auditor"]
    nina = User.objects.get(username="nina")
    AuthToken.objects.create(nina)
    assert api.post("/api/v1/users/nina/roles/grant", {"role": "model_owner"}, format="json").status_code == 200
    assert api.post("/api/v1/users/nina/roles/revoke", {"role": "model_owner"}, format="json").status_code == 200
    assert api.post("/api/v1/users/nina/privileges", {"is_staff": True}, format="json").status_code == 200
    assert api.post("/api/v1/users/nina/password", {"new_password": NEW}, format="json").status_code == 204
    assert api.post("/api/v1/users/nina/deactivate").status_code == 200
    assert api.post("/api/v1/users/nina/reactivate").status_code == 200
    proposal = api.post("/api/v1/users/nina/roles/grant", {"role": "compliance_officer"}, format="json")
    assert proposal.status_code == 202 and proposal.json()["state"] == "proposed"
    confirmed = client_for(officer_1).post(f"/api/v1/role-grants/{proposal.json()['id']}/confirm", {}, format="json")
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "confirmed"
    assert summary(user="nina") == [
        ("user.created", "user:admin", "api"),
        ("role.granted", "user:admin", "api"),
        ("token.issued", "system", "system"),
        ("role.granted", "user:admin", "api"),
        ("role.revoked", "user:admin", "api"),
        ("user.privileges_changed", "user:admin", "api"),
        ("password.changed", "user:admin", "api"),
        ("token.revoked", "user:admin", "api"),
        ("user.deactivated", "user:admin", "api"),
        ("user.reactivated", "user:admin", "api"),
        ("role.proposed", "user:admin", "api"),
        ("role.granted", "user:officer-1", "api"),
    ]
    granted = logged("role.granted", user="nina")[-1]["data"]
    assert (granted["role"], granted["proposed_by"], granted["confirmed_by"]) == (
        "compliance_officer",
        "admin",
        "officer-1",
    )


def test_people_are_read_by_admins_and_officers_only(admin, officer_1, auditor, pipeline_granted, client_for):
    for who in (admin, officer_1):
        assert client_for(who).get("/api/v1/users").status_code == 200
    for who in (auditor, pipeline_granted):
        assert client_for(who).get("/api/v1/users").status_code == 404
        assert client_for(who).get("/api/v1/users/admin").status_code == 404
    assert client_for(auditor).get("/api/v1/users/auditor").json()["roles"] == ["auditor"]


def test_only_admins_change_people_and_nobody_grants_themselves_a_role(admin, officer_1, client_for):
    refused = client_for(officer_1).post("/api/v1/users", {"username": "x"}, format="json")
    assert refused.status_code == 403
    own = client_for(admin).post("/api/v1/users/admin/roles/grant", {"role": "auditor"}, format="json")
    assert own.status_code == 403
    assert "Nobody may grant a role to themselves" in own.json()["message"]


def test_the_sock_puppet_pair_cannot_approve_a_high_risk_version(world, admin, officer_1, client_for):
    """An admin creates a second account and tries to make it an officer; then the officer who
    confirmed it signs with it. Neither the promotion nor the pair of signatures stands."""
    api = client_for(admin)
    assert api.post("/api/v1/users", {"username": "puppet", "password": PASSWORD}, format="json").status_code == 201
    proposal = api.post("/api/v1/users/puppet/roles/grant", {"role": "compliance_officer"}, format="json").json()
    # The proposal is not a grant, and the admin cannot confirm it.
    puppet = User.objects.get(username="puppet")
    assert not puppet.groups.filter(name="compliance_officer").exists()
    assert api.post(f"/api/v1/role-grants/{proposal['id']}/confirm", {}, format="json").status_code == 403
    sign = {"meaning": "approved", "reason": "ok", "password": PASSWORD}
    url = f"/api/v1/models/{world.model.slug}/versions/1.1.0/approvals"
    assert client_for(puppet).post(url, sign, format="json").status_code in (403, 404)
    assert api.post(url, sign, format="json").status_code == 403
    # An officer confirms it; the two then sign the same high-risk version.
    client_for(officer_1).post(f"/api/v1/role-grants/{proposal['id']}/confirm", {}, format="json")
    assert client_for(officer_1).post(url, sign, format="json").status_code == 201
    second = client_for(User.objects.get(username="puppet")).post(url, sign, format="json")
    assert second.status_code == 403
    failed = {c["rule"] for c in second.json()["errors"]["sod_checks"] if not c["passed"]}
    assert failed == {"signers_did_not_confirm_each_other"}
    assert "neither approving officer's role may have been confirmed by the other" in second.json()["message"]
    assert Approval.objects.filter(version__version="1.1.0").count() == 1
    assert RoleGrant.objects.get(grantee__username="puppet").decided_by == User.objects.get(username="officer-1")
