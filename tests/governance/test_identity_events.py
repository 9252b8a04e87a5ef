"""Identity changes are ledger events whichever path made them: the ORM in a shell, a management
command, Django admin, the API and the console; and the API tokens they make stale are revoked."""

from __future__ import annotations

import sys

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from knox.models import AuthToken

from governance.roles import Role
from tests.identity import logged, summary
from tests.personas import PASSWORD

NEW_PASSWORD = "another long passphrase 42"


@pytest.fixture
def as_program(monkeypatch):
    """Run as `manage.py <name>` would: the process marker comes from the command line."""

    def run(*argv: str) -> None:
        monkeypatch.setattr(sys, "argv", ["manage.py", *argv])

    return run


@pytest.fixture
def root(db) -> User:
    return User.objects.create_user("root", password=PASSWORD, is_staff=True, is_superuser=True)


SHELL_SCRIPT = """
from django.contrib.auth.models import Group, User
from knox.models import AuthToken
g = Group.objects.get_or_create(name="auditor")[0]
u = User.objects.create_user("mallory", password="x-long-password-1")
u.groups.add(g)
AuthToken.objects.create(u)
u.is_superuser = True
u.is_staff = True
u.save()
u.set_password("y-long-password-2")
u.save()
g.user_set.remove(u)
u.is_active = False
u.save()
u.is_active = True
u.save()
"""


def test_it_logs_every_identity_change_made_with_the_orm_in_a_shell(db, as_program):
    as_program("shell")
    call_command("shell", command=SHELL_SCRIPT)
    events = logged(user="mallory")
    assert [e["type"] for e in events] == [
        "user.created",
        "role.granted",
        "token.issued",
        "user.privileges_changed",
        "password.changed",
        "token.revoked",  # a password change revokes the tokens it protected
        "role.revoked",
        "user.deactivated",
        "user.reactivated",
    ]
    assert {e["actor"] for e in events} == {"shell"}
    assert {e["data"]["via"] for e in events} == {"shell"}
    assert all(e["data"]["os_user"] for e in events)
    privileges = events[3]["data"]
    assert privileges["before"] == {"is_staff": False, "is_superuser": False}
    assert privileges["after"] == {"is_staff": True, "is_superuser": True}
    assert events[5]["data"]["reason"] == "password changed"


def test_a_password_event_carries_no_secret_and_no_hash(db):
    user = User.objects.create_user("pat", password=PASSWORD)
    user.set_password(NEW_PASSWORD)
    user.save()
    (event,) = logged("password.changed")
    text = repr(event)
    assert NEW_PASSWORD not in text and user.password not in text and "md5$" not in text
    assert event["data"] == {"user": "pat", "usable": True, "via": "system", "os_user": event["data"]["os_user"]}


def test_signing_in_logs_no_password_change(client, db):
    User.objects.create_user("pat", password=PASSWORD)
    response = client.post("/", {"username": "pat", "password": PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" in client.session
    assert logged("password.changed") == []


def test_it_logs_djangos_own_commands_as_the_command(db, as_program, monkeypatch):
    as_program("createsuperuser")
    call_command("createsuperuser", interactive=False, username="boss", email="boss@example.com")
    as_program("changepassword")
    from django.contrib.auth.management.commands import changepassword

    monkeypatch.setattr(changepassword.Command, "_get_pass", lambda self, prompt="": NEW_PASSWORD)
    call_command("changepassword", "boss")
    assert summary(user="boss") == [
        ("user.created", "command:createsuperuser", "command"),
        ("password.changed", "command:changepassword", "command"),
    ]
    created = logged("user.created")[0]["data"]
    assert created["is_superuser"] is True and created["usable_password"] is False


def test_issue_token_and_revoke_tokens_are_logged_as_commands(db, capsys):
    user = User.objects.create_user("pipe")
    user.groups.add(Group.objects.get_or_create(name=Role.PIPELINE)[0])
    call_command("issue_token", "pipe")
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert AuthToken.objects.filter(user=user).count() == 1
    call_command("revoke_tokens", "pipe")
    assert "Revoked 1 token(s) of pipe" in capsys.readouterr().out
    assert not AuthToken.objects.filter(user=user).exists()
    issued, revoked = logged("token.issued", "token.revoked")
    assert (issued["actor"], revoked["actor"]) == ("command:issue_token", "command:revoke_tokens")
    assert issued["data"]["token_id"] == revoked["data"]["token_id"]
    assert token not in repr(issued) and token[:15] not in repr(issued)


def test_it_logs_changes_made_in_django_admin_as_the_signed_in_administrator(client, root):
    auditor = Group.objects.get_or_create(name=Role.AUDITOR)[0]
    client.force_login(root)
    response = client.post(
        "/admin/auth/user/add/",
        {"username": "ada", "password1": PASSWORD, "password2": PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content
    ada = User.objects.get(username="ada")
    form = {
        "username": "ada",
        "first_name": "Ada",
        "last_name": "",
        "email": "",
        "is_active": "",  # deactivate
        "is_staff": "on",
        "groups": [auditor.pk],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
    }
    response = client.post(f"/admin/auth/user/{ada.pk}/change/", form)
    assert response.status_code == 302, response.content
    response = client.post(
        f"/admin/auth/user/{ada.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content
    response = client.post(
        "/admin/knox/authtoken/add/", {"user": ada.pk, "expiry_0": "2099-01-01", "expiry_1": "00:00"}
    )
    assert response.status_code == 302, response.content
    response = client.post(f"/admin/auth/user/{ada.pk}/change/", {**form, "is_active": "on", "groups": []})
    assert response.status_code == 302, response.content
    assert summary(user="ada") == [
        ("user.created", "user:root", "admin"),
        ("user.deactivated", "user:root", "admin"),
        ("user.privileges_changed", "user:root", "admin"),
        ("role.granted", "user:root", "admin"),
        ("password.changed", "user:root", "admin"),
        ("token.issued", "user:root", "admin"),
        ("user.reactivated", "user:root", "admin"),
        ("role.revoked", "user:root", "admin"),
        ("token.revoked", "user:root", "admin"),  # the last role went, and with it the token
    ]


def test_revoking_a_token_in_django_admin_is_logged(client, root):
    pipe = User.objects.create_user("pipe")
    instance, _ = AuthToken.objects.create(pipe)
    client.force_login(root)
    response = client.post(f"/admin/knox/authtoken/{instance.digest}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert summary("token.revoked") == [("token.revoked", "user:root", "admin")]


def test_nobody_grants_themselves_a_role_in_django_admin(client, root):
    officer = Group.objects.get_or_create(name=Role.AUDITOR)[0]
    client.force_login(root)
    form = {
        "username": "root",
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "groups": [officer.pk],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    response = client.post(f"/admin/auth/user/{root.pk}/change/", form)
    assert response.status_code == 200
    assert "Nobody may grant a role to themselves" in response.content.decode()
    assert not root.groups.exists()
    assert logged("role.granted") == []


def test_deactivating_a_user_or_removing_their_last_role_revokes_their_tokens(db):
    auditor, pipeline = (Group.objects.get_or_create(name=r)[0] for r in (Role.AUDITOR, Role.PIPELINE))
    pipe = User.objects.create_user("pipe")
    pipe.groups.add(auditor, pipeline)
    AuthToken.objects.create(pipe)
    pipe.groups.remove(auditor)
    assert AuthToken.objects.filter(user=pipe).exists()  # one role left
    pipe.groups.remove(pipeline)
    assert not AuthToken.objects.filter(user=pipe).exists()
    AuthToken.objects.create(pipe)
    pipe.is_active = False
    pipe.save()
    assert not AuthToken.objects.filter(user=pipe).exists()
    reasons = [e["data"]["reason"] for e in logged("token.revoked")]
    assert reasons == ["last role removed", "user deactivated"]


def test_change_user_logs_each_change_as_the_command(db):
    User.objects.create_user("pat")
    call_command("change_user", "pat", "--grant", Role.AUDITOR, "--staff", "yes")
    call_command("change_user", "pat", "--deactivate")
    call_command("change_user", "pat", "--reactivate", "--revoke", Role.AUDITOR)
    assert summary(user="pat")[1:] == [
        ("user.privileges_changed", "command:change_user", "command"),
        ("role.granted", "command:change_user", "command"),
        ("user.deactivated", "command:change_user", "command"),
        ("user.reactivated", "command:change_user", "command"),
        ("role.revoked", "command:change_user", "command"),
    ]
