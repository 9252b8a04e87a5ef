"""The compliance officer role takes two people, cannot be held with the admin role, and the
bootstrap of a new installation is a logged command."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.db import transaction

from governance import selectors
from governance.errors import Conflict, Forbidden, SeparationOfDuties
from governance.models import RoleGrant
from governance.roles import Role
from governance.services import approvals
from governance.services.identity import officers
from tests.governance.conftest import PASSWORD, make_user
from tests.identity import logged, summary


def officer_group() -> Group:
    return Group.objects.get_or_create(name=Role.COMPLIANCE_OFFICER)[0]


def test_the_first_officer_is_bootstrapped_by_a_logged_command(db, capsys):
    make_user("grace")
    call_command("bootstrap_officer", "grace")
    assert "grace is the first compliance officer" in capsys.readouterr().out
    (event,) = logged("role.granted")
    assert event["actor"] == "command:bootstrap_officer"
    assert event["data"]["bootstrap"] is True and event["data"]["role"] == Role.COMPLIANCE_OFFICER
    make_user("heidi")
    with pytest.raises(CommandError, match="already has a compliance officer"):
        call_command("bootstrap_officer", "heidi")


def test_an_admin_proposes_and_an_other_officer_confirms_by_command(olga, capsys):
    make_user("ada", Role.ADMIN)
    make_user("nina")
    call_command("propose_officer", "nina", "--by", "ada", "--reason", "new reviewer")
    assert not officers.is_officer(User.objects.get(username="nina"))
    with pytest.raises(CommandError, match="you lack the `confirm_officer` right"):
        call_command("confirm_officer", "nina", "--by", "ada")
    call_command("confirm_officer", "nina", "--by", "olga")
    assert officers.is_officer(User.objects.get(username="nina"))
    assert summary("role.proposed", "role.granted", user="nina") == [
        ("role.proposed", "user:ada", "command"),
        ("role.granted", "user:olga", "command"),
    ]


def test_the_officer_group_cannot_be_added_directly_on_any_path(db, olga, client):
    nina = make_user("nina")
    # Each refusal aborts the ORM's own transaction, as it would at a shell prompt.
    with pytest.raises(Forbidden, match="takes two people"), transaction.atomic():
        nina.groups.add(officer_group())
    with pytest.raises(Forbidden, match="takes two people"), transaction.atomic():
        officer_group().user_set.add(nina)
    with pytest.raises(CommandError, match="takes two people"):
        call_command("change_user", "nina", "--grant", Role.COMPLIANCE_OFFICER)
    assert not officers.is_officer(nina)


def test_an_admin_cannot_be_proposed_and_nobody_proposes_themselves(olga):
    ada = make_user("ada", Role.ADMIN)
    root = make_user("root", is_superuser=True)
    with pytest.raises(Forbidden, match="themselves"):
        officers.officer_propose(actor=ada, grantee=ada)
    for admin in (ada, root):
        with pytest.raises(Conflict, match="exclusive"):
            officers.officer_propose(actor=make_user(f"other-admin-{admin.pk}", Role.ADMIN), grantee=admin)


def test_a_proposal_is_rejected_or_confirmed_once(olga):
    ada = make_user("ada", Role.ADMIN)
    nina = make_user("nina")
    grant = officers.officer_propose(actor=ada, grantee=nina)
    with pytest.raises(Conflict, match="open proposal"):
        officers.officer_propose(actor=ada, grantee=nina)
    officers.officer_reject(actor=olga, grant=grant, reason="not trained yet")
    with pytest.raises(Conflict, match="already rejected"):
        officers.officer_confirm(actor=olga, grant=grant)
    assert not officers.is_officer(nina)
    assert [e["type"] for e in logged("role.proposed", "role.proposal_rejected", user="nina")] == [
        "role.proposed",
        "role.proposal_rejected",
    ]


def test_the_admin_self_promotion_in_django_admin_is_refused(version, client):
    """demo-admin adds themselves to compliance_officer in /admin/ and tries to sign."""
    root = make_user("demo-admin", Role.ADMIN, is_superuser=True, is_staff=True)
    client.force_login(root)
    form = {
        "username": "demo-admin",
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "groups": [officer_group().pk, Group.objects.get(name=Role.ADMIN).pk],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    response = client.post(f"/admin/auth/user/{root.pk}/change/", form)
    assert response.status_code == 200
    assert "Nobody may grant a role to themselves" in response.content.decode()
    assert not root.groups.filter(name=Role.COMPLIANCE_OFFICER).exists()
    with pytest.raises(Forbidden, match="Only compliance officers"):
        approvals.approval_sign(signer=root, version=version, password=PASSWORD, meaning="approved", reason="x")
    assert [e["data"]["role"] for e in logged("role.granted", user="demo-admin")] == [Role.ADMIN]


def test_even_a_membership_written_behind_the_signals_back_cannot_sign_as_an_admin(version):
    """Rows written around the ORM's signals (bulk_create) still meet the exclusive-roles rule."""
    root = make_user("demo-admin", Role.ADMIN, is_superuser=True, is_staff=True)
    User.groups.through.objects.bulk_create([User.groups.through(user=root, group=officer_group())])
    root = User.objects.get(pk=root.pk)
    with pytest.raises(SeparationOfDuties, match="administrator and compliance officer are exclusive") as refused:
        approvals.approval_sign(signer=root, version=version, password=PASSWORD, meaning="approved", reason="x")
    failed = {c["rule"] for c in refused.value.errors["sod_checks"] if not c["passed"]}
    assert failed == {"signer_is_not_administrator"}


def test_the_signature_leaf_names_the_seq_of_the_signers_role_grant(version, olga):
    granted = logged("role.granted", user="olga")[-1]
    approval = approvals.approval_sign(signer=olga, version=version, password=PASSWORD, meaning="approved", reason="x")
    leaf = next(e for e in logged("approval.signed") if e["idempotency_key"] == approval.ledger_key)
    assert leaf["data"]["role_grant"]["seq"] == granted["seq"]
    assert leaf["data"]["role_grant"]["proposed_by"] == "registrar"
    assert leaf["data"]["role_grant"]["confirmed_by"] == "compliance-head"


def test_the_dossier_selector_says_who_granted_and_confirmed_each_officer(olga):
    logged()  # sequence the grants
    grant = selectors.officer_grant_of(olga)
    assert (grant["proposed_by"], grant["confirmed_by"], grant["bootstrap"]) == ("registrar", "compliance-head", False)
    assert grant["seq"] == logged("role.granted", user="olga")[-1]["seq"]
    head = selectors.officer_grant_of(User.objects.get(username="compliance-head"))
    assert head["bootstrap"] is True and head["confirmed_by"] is None
    assert RoleGrant.objects.filter(grantee=olga, state="confirmed").count() == 1
