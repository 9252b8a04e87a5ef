"""The People and account pages: every identity change made in the console is a ledger event
naming the signed-in person, and the pages refuse what the rules forbid."""

from __future__ import annotations

from django.contrib.auth.models import User
from knox.models import AuthToken

from governance.models import RoleGrant
from governance.services.identity.events import token_id
from tests.api.factories import PASSWORD
from tests.identity import summary

NEW = "a long and new passphrase"


def test_every_identity_event_is_written_through_the_console(people, client_for):
    admin = client_for("admin")
    response = admin.post("/people/new", {"username": "nina", "password": PASSWORD, "roles": "auditor"})
    assert response.status_code == 302
    nina = User.objects.get(username="nina")
    for action, data in (
        ("grant", {"role": "model_owner"}),
        ("revoke", {"role": "model_owner"}),
        ("deactivate", {}),
        ("reactivate", {}),
        ("grant", {"role": "compliance_officer", "reason": "new reviewer"}),
    ):
        assert admin.post(f"/people/nina/{action}", data).status_code == 302
    grant = RoleGrant.objects.get(grantee=nina)
    assert client_for("officer_1").post(f"/people/proposals/{grant.pk}/confirm").status_code == 302
    assert admin.post("/people/nina/privileges", {"is_staff": "on"}).status_code == 302
    own = client_for(nina)
    issued = own.post("/account/tokens", {"name": "notebook", "days": "30"}, follow=True).content.decode()
    assert "shown once" in issued
    instance = AuthToken.objects.get(user=nina)
    assert own.post(f"/account/tokens/{token_id(instance.digest)}/revoke").status_code == 302
    assert own.post("/account", {"current_password": PASSWORD, "new_password": NEW}).status_code == 302
    nina.refresh_from_db()
    assert nina.check_password(NEW)
    assert summary(user="nina") == [
        ("user.created", "user:admin", "console"),
        ("role.granted", "user:admin", "console"),
        ("role.granted", "user:admin", "console"),
        ("role.revoked", "user:admin", "console"),
        ("user.deactivated", "user:admin", "console"),
        ("user.reactivated", "user:admin", "console"),
        ("role.proposed", "user:admin", "console"),
        ("role.granted", "user:officer-1", "console"),
        ("user.privileges_changed", "user:admin", "console"),
        ("token.issued", "user:nina", "console"),
        ("token.revoked", "user:nina", "console"),
        ("password.changed", "user:nina", "console"),
    ]


def test_the_people_page_is_for_admins_and_officers(people, client_for):
    assert client_for("admin").get("/people").status_code == 200
    page = client_for("officer_1").get("/people").content.decode()
    assert "Open compliance officer proposals" in page and "Add a person" not in page
    for who in ("auditor", "owner"):
        assert client_for(who).get("/people").status_code == 404


def test_the_console_refuses_a_self_grant_and_says_why(people, client_for):
    response = client_for("admin").post("/people/admin/grant", {"role": "auditor"}, follow=True)
    assert "Nobody may grant a role to themselves" in response.content.decode()
    assert not people["admin"].groups.filter(name="auditor").exists()


def test_a_wrong_current_password_changes_nothing(people, client_for):
    response = client_for("auditor").post("/account", {"current_password": "nope", "new_password": NEW}, follow=True)
    assert "Re-enter your current password" in response.content.decode()
    assert summary("password.changed") == []
