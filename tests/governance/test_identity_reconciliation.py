"""Role memberships and officer grants reconcile with their leaves: a role conjured in the
database, or an edited officer grant, is named by `verify_ledger`."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connection

from governance import reconciliation
from governance.models import RoleGrant
from governance.roles import Role
from governance.services.identity import officers
from ledger import services as ledger_services
from ledger.models import Entry
from tests.governance.world import make_user
from tests.identity import logged


def mismatches(kind: str) -> list[str]:
    ledger_services.tree_integrate_all()
    return [m.line() for m in reconciliation.reconcile(kinds=[kind]).mismatches]


def test_memberships_and_grants_written_through_the_services_reconcile(olga, oscar):
    make_user("ada", Role.ADMIN, Role.AUDITOR)
    User.objects.get(username="ada").groups.remove(Group.objects.get(name=Role.AUDITOR))
    assert mismatches("role membership") == []
    assert mismatches("role grant") == []


def test_an_officer_role_inserted_behind_the_ledgers_back_is_named(olga):
    mallory = make_user("mallory", Role.AUDITOR)
    officer = Group.objects.get(name=Role.COMPLIANCE_OFFICER)
    User.groups.through.objects.bulk_create([User.groups.through(user=mallory, group=officer)])
    (line,) = mismatches("role membership")
    assert line.startswith("auth_user_groups: compliance_officer role of mallory: role: stored ")
    assert "no ledger entry records it" in line


def test_a_role_deleted_behind_the_ledgers_back_is_named(olga):
    User.groups.through.objects.filter(user=olga).delete()  # a queryset delete sends no m2m signal
    (line,) = mismatches("role membership")
    granted = logged("role.granted", user="olga")[-1]
    assert line.startswith("auth_user_groups: compliance_officer role of olga: role: stored ")
    assert f"contradicts ledger seq {granted['seq']}" in line


def test_an_edited_officer_grant_is_named(olga, oscar):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE governance_rolegrant SET decided_by_id = %s WHERE grantee_id = %s", [oscar.pk, olga.pk])
    (line,) = mismatches("role grant")
    assert "compliance_officer grant" in line and 'for olga: confirmed_by: stored "oscar"' in line


@pytest.fixture
def grants(olga, oscar):
    """A bootstrapped grant, two confirmed by two people, one open and one rejected proposal."""
    ada = make_user("ada", Role.ADMIN)
    officers.officer_propose(actor=ada, grantee=make_user("pat", Role.AUDITOR), reason="covers audits")
    quinn = officers.officer_propose(actor=ada, grantee=make_user("quinn", Role.AUDITOR), reason="second line")
    officers.officer_reject(actor=olga, grant=quinn, reason="not yet")
    ledger_services.tree_integrate_all()
    return {grant.grantee.username: grant for grant in RoleGrant.objects.select_related("grantee")}


def _seq(key: str) -> int:
    return Entry.objects.get(idempotency_key=key).seq


# (grantee, assignment, params by user, expected: (field, the leaf it contradicts) for each mismatch)
GRANT_EDITS = [
    ("olga", "decided_by_id = %s", ["pat"], {("confirmed_by", "grant_key")}),
    ("olga", "state = 'proposed'", [], {("state", "grant_key")}),
    ("oscar", "proposed_by_id = %s", ["ada"], {("proposed_by", "proposal_key"), ("proposed_by", "grant_key")}),
    ("pat", "reason = 'edited'", [], {("reason", "proposal_key")}),
    ("quinn", "state = 'proposed'", [], {("state", "rejection")}),
    (
        "quinn",
        "proposal_key = %s",
        ["role.proposed:elsewhere"],
        {("proposal_key", "rejection"), ("proposed entry", None)},
    ),
    (
        "compliance-head",
        "bootstrap = %s, proposed_by_id = %s",
        [False, "ada"],
        {("bootstrap", "grant_key"), ("proposed entry", None)},
    ),
]


@pytest.mark.parametrize(("grantee", "assignment", "params", "expected"), GRANT_EDITS)
def test_each_edited_grant_field_is_named_with_its_leaf(grants, grantee, assignment, params, expected):
    grant = grants[grantee]
    values = [User.objects.get(username=p).pk if p in grants or p == "ada" else p for p in params]
    keys = {
        "grant_key": grant.grant_key,
        "proposal_key": grant.proposal_key,
        "rejection": f"role.proposal_rejected:{grant.pk}",
    }
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE governance_rolegrant SET {assignment} WHERE id = %s", [*values, grant.pk])  # noqa: S608
    found = reconciliation.reconcile(kinds=["role grant"]).mismatches
    record = f"compliance_officer grant {grant.pk} for {grantee}"
    assert {(m.table, m.record) for m in found} == {("governance_rolegrant", record)}
    assert {(m.field, m.seq) for m in found} == {(f, None if k is None else _seq(keys[k])) for f, k in expected}


def test_verify_ledger_names_an_edited_grant(grants, capsys):
    grant = grants["olga"]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE governance_rolegrant SET state = 'rejected' WHERE id = %s", [grant.pk])
    with pytest.raises(SystemExit) as exited:
        call_command("verify_ledger")
    out = capsys.readouterr().out
    assert exited.value.code == 1
    assert (
        f'governance_rolegrant: compliance_officer grant {grant.pk} for olga: state: stored "rejected" '
        f'contradicts ledger seq {_seq(grant.grant_key)}, which says "confirmed"'
    ) in out.splitlines()
