"""Role memberships and officer grants reconcile with their leaves: a role conjured in the
database, or an edited officer grant, is named by `verify_ledger`."""

from __future__ import annotations

from django.contrib.auth.models import Group, User
from django.db import connection

from governance import reconciliation
from governance.roles import Role
from ledger import services as ledger_services
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
