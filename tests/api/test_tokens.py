"""API tokens: issued and revoked through the API, each a ledger event; revocation is immediate."""

from __future__ import annotations

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from governance.services.identity.events import token_id
from model_ledger_verify.client.cli import main
from tests.api.factories import PASSWORD
from tests.identity import logged, summary


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_it_revokes_the_token_a_request_carries(pipeline_granted):
    instance, token = AuthToken.objects.create(pipeline_granted)
    client = bearer(token)
    response = client.post("/api/v1/tokens/revoke", {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"revoked": [token_id(instance.digest)]}
    assert client.get("/api/v1/models").status_code == 401
    assert summary("token.revoked") == [("token.revoked", "user:pipeline-granted", "api")]


def test_a_person_revokes_their_own_token_by_id_but_not_someone_elses(pipeline_granted, auditor, client_for):
    mine, _ = AuthToken.objects.create(auditor)
    theirs, _ = AuthToken.objects.create(pipeline_granted)
    client = client_for(auditor)
    refused = client.post("/api/v1/tokens/revoke", {"token_id": token_id(theirs.digest)}, format="json")
    assert refused.status_code == 404
    assert client.post("/api/v1/tokens/revoke", {"user": "pipeline-granted"}, format="json").status_code == 404
    assert AuthToken.objects.filter(user=pipeline_granted).exists()
    assert client.post("/api/v1/tokens/revoke", {"token_id": token_id(mine.digest)}, format="json").status_code == 200
    assert not AuthToken.objects.filter(user=auditor).exists()


def test_an_administrator_revokes_anyones_tokens(pipeline_granted, admin, client_for):
    first, _ = AuthToken.objects.create(pipeline_granted)
    AuthToken.objects.create(pipeline_granted)
    client = client_for(admin)
    one = client.post("/api/v1/tokens/revoke", {"token_id": token_id(first.digest)}, format="json")
    assert one.status_code == 200
    rest = client.post("/api/v1/tokens/revoke", {"user": "pipeline-granted"}, format="json")
    assert rest.status_code == 200 and len(rest.json()["revoked"]) == 1
    assert not AuthToken.objects.filter(user=pipeline_granted).exists()
    assert [actor for _, actor, _ in summary("token.revoked")] == ["user:admin", "user:admin"]


def test_a_session_without_a_token_must_name_one(auditor, client_for):
    response = client_for(auditor).post("/api/v1/tokens/revoke", {}, format="json")
    assert response.status_code == 400
    assert "token_id" in response.json()["errors"]


def test_people_issue_tokens_for_themselves_and_administrators_for_others(
    pipeline_granted, auditor, admin, client_for
):
    own = client_for(auditor).post("/api/v1/tokens", {"days": 7}, format="json")
    assert own.status_code == 201 and own.json()["user"] == "auditor"
    assert bearer(own.json()["token"]).get("/api/v1/models").status_code == 200
    other = client_for(auditor).post("/api/v1/tokens", {"user": "pipeline-granted"}, format="json")
    assert other.status_code == 404
    issued = client_for(admin).post("/api/v1/tokens", {"user": "pipeline-granted"}, format="json")
    assert issued.status_code == 201
    assert summary("token.issued") == [("token.issued", "user:auditor", "api"), ("token.issued", "user:admin", "api")]
    assert own.json()["token"] not in repr(logged())


def test_a_pipeline_is_refused_a_token_of_its_own_before_the_body_is_read(pipeline_granted):
    _, token = AuthToken.objects.create(pipeline_granted)
    client = bearer(token)
    for body in ({"days": 0}, {"name": 7, "days": "many"}, {"name": "nightly", "days": 7}):
        refused = client.post("/api/v1/tokens", body, format="json")
        assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
        assert "`tokens`" in refused.json()["message"] and refused.json()["errors"] == {}
    assert AuthToken.objects.filter(user=pipeline_granted).count() == 1


def test_changing_a_password_revokes_every_token(pipeline_granted, auditor, client_for):
    AuthToken.objects.create(auditor)
    from governance.services.identity import users

    users.password_change(
        actor=auditor, user=auditor, new_password="a brand new passphrase", current_password=PASSWORD
    )
    assert not AuthToken.objects.filter(user=auditor).exists()
    assert [e["data"]["reason"] for e in logged("token.revoked")] == ["password changed"]


@pytest.mark.django_db(transaction=True)
def test_ledgerctl_logout_revokes_the_token_in_use(live_server, pipeline_granted, capsys):
    _, token = AuthToken.objects.create(pipeline_granted)
    assert main(["logout", "--url", live_server.url, "--token", token]) == 0
    assert "revoked token" in capsys.readouterr().out
    assert not AuthToken.objects.filter(user=pipeline_granted).exists()
    assert main(["logout", "--url", live_server.url, "--token", token]) == 3  # the token is refused now
