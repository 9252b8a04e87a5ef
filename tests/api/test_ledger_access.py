"""Who may read the ledger's entries and proofs, asked afresh on every request, and what a proof
request costs in queries."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken
from knox.settings import CONSTANTS
from rest_framework.test import APIClient

from governance import access
from governance.models import TokenProfile
from governance.services.identity import tokens
from ledger import selectors, services
from tests.ledger.helpers import fill

PROOF = "/api/v1/ledger/proofs/inclusion?seq=3&size=10"


@pytest.fixture
def view_entry(db) -> Permission:
    return Permission.objects.get(content_type__app_label="ledger", codename="view_entry")


@pytest.fixture
def log(db) -> None:
    """Ten entries under a checkpoint."""
    services.tree_integrate_all()
    fill(10 - selectors.tree_size())
    services.checkpoint_sign()


def _client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_it_lets_an_auditor_read_the_ledger_through_their_group(log, view_entry):
    auditors = Group.objects.create(name="auditor")
    auditors.permissions.add(view_entry)
    bob = User.objects.create_user("bob")
    bob.groups.add(auditors)
    assert _client_for(bob).get(PROOF).status_code == 200


def test_it_lets_a_holder_of_the_permission_itself_read_the_ledger(log, view_entry):
    alice = User.objects.create_user("alice")
    alice.user_permissions.add(view_entry)
    assert _client_for(alice).get(PROOF).status_code == 200


def test_it_lets_a_superuser_read_the_ledger(log):
    root = User.objects.create_superuser("root")
    assert _client_for(root).get(PROOF).status_code == 200


def test_it_refuses_a_stranger_and_a_holder_of_another_permission(log):
    charlie = User.objects.create_user("charlie")
    charlie.user_permissions.add(Permission.objects.get(content_type__app_label="ledger", codename="view_checkpoint"))
    assert _client_for(charlie).get(PROOF).status_code == 403


def test_it_refuses_a_deactivated_auditor(log, view_entry):
    dave = User.objects.create_user("dave", is_active=False)
    dave.user_permissions.add(view_entry)
    assert not access.reads_ledger(dave)
    assert _client_for(dave).get(PROOF).status_code == 403


def test_a_revoked_permission_is_refused_on_the_very_next_request(log, view_entry):
    auditors = Group.objects.create(name="auditor")
    auditors.permissions.add(view_entry)
    erin = User.objects.create_user("erin")
    erin.groups.add(auditors)
    client = _client_for(erin)
    assert client.get(PROOF).status_code == 200
    erin.groups.remove(auditors)
    assert client.get(PROOF).status_code == 403
    erin.user_permissions.add(view_entry)
    assert client.get(PROOF).status_code == 200
    erin.user_permissions.remove(view_entry)
    assert client.get(PROOF).status_code == 403


def test_it_decides_as_django_does_for_every_way_of_holding_the_permission(db, view_entry):
    group = Group.objects.create(name="readers")
    group.permissions.add(view_entry)
    people = [
        User.objects.create_user("plain"),
        User.objects.create_superuser("super"),
        User.objects.create_superuser("retired-super", is_active=False),
    ]
    direct, grouped = User.objects.create_user("direct"), User.objects.create_user("grouped")
    direct.user_permissions.add(view_entry)
    grouped.groups.add(group)
    for user in [*people, direct, grouped]:
        fresh = User.objects.get(pk=user.pk)
        assert access.reads_ledger(fresh) == fresh.has_perm("ledger.view_entry"), user.username


def test_a_proof_costs_two_queries_once_the_caller_is_known(log, view_entry):
    alice = User.objects.create_user("alice")
    alice.user_permissions.add(view_entry)
    client = _client_for(alice)
    # The permission; the proof with its checkpoint's note and the witnessed checkpoint.
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PROOF).status_code == 200
    assert len(queries) == 2, [q["sql"] for q in queries]
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/ledger/proofs/consistency?size1=4&size2=10").status_code == 200
    assert len(queries) == 2, [q["sql"] for q in queries]


def test_a_consistency_proof_before_any_checkpoint_is_404_even_with_both_sizes(db, view_entry):
    alice = User.objects.create_user("alice")
    alice.user_permissions.add(view_entry)
    client = _client_for(alice)
    for query in ("size1=1&size2=2", "size1=1&size2=x", "size1=1"):
        response = client.get(f"/api/v1/ledger/proofs/consistency?{query}")
        assert response.status_code == 404, (query, response.content)


def _bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_a_read_with_a_token_writes_its_last_use_once_a_minute_and_no_statement_otherwise(log, view_entry):
    alice = User.objects.create_user("alice")
    alice.user_permissions.add(view_entry)
    instance, token = AuthToken.objects.create(alice)
    client = _bearer(token)
    assert client.get(PROOF).status_code == 200
    first = TokenProfile.objects.get(pk=instance.pk).last_used_at
    assert first is not None
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PROOF).status_code == 200
    assert not [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert TokenProfile.objects.get(pk=instance.pk).last_used_at == first
    TokenProfile.objects.filter(pk=instance.pk).update(last_used_at=first - tokens.TOKEN_USE_RESOLUTION * 2)
    assert client.get(PROOF).status_code == 200
    assert TokenProfile.objects.get(pk=instance.pk).last_used_at > first - tokens.TOKEN_USE_RESOLUTION


def test_an_expired_or_wrong_token_is_refused(log, view_entry):
    alice = User.objects.create_user("alice")
    alice.user_permissions.add(view_entry)
    _, good = AuthToken.objects.create(alice)
    assert _bearer(good[:-1] + ("0" if good[-1] != "0" else "1")).get(PROOF).status_code == 401
    _, expired = AuthToken.objects.create(alice)
    AuthToken.objects.filter(token_key=expired[: CONSTANTS.TOKEN_KEY_LENGTH]).update(
        expiry=timezone.now() - tokens.TOKEN_USE_RESOLUTION
    )
    assert _bearer(expired).get(PROOF).status_code == 401
    assert _bearer(good).get(PROOF).status_code == 200
