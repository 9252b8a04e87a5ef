"""Personas (users in the role groups of governance.roles) and the world they work in.

See tests/api/factories.py for what the world holds.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.cache import cache
from rest_framework.test import APIClient

from governance.roles import Role
from tests.api.factories import PASSWORD, World, build_world


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Write throttles count per user id in the cache; each test starts with none spent."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def groups(db) -> dict[str, Group]:
    """The role groups; auditors, officers and admins also read the ledger (as in the demo)."""
    groups = {role: Group.objects.get_or_create(name=role)[0] for role in Role.values}
    read_ledger = Permission.objects.get(codename="view_entry")
    for role in (Role.AUDITOR, Role.COMPLIANCE_OFFICER, Role.ADMIN):
        groups[role].permissions.add(read_ledger)
    return groups


@pytest.fixture
def make_user(groups) -> Callable[..., User]:
    """Create an active user holding `roles` (group names), with the shared test password."""

    def make(username: str, *roles: str, superuser: bool = False, first_name: str = "") -> User:
        user = User.objects.create_user(
            username,
            password=PASSWORD,
            first_name=first_name,
            is_staff=superuser,
            is_superuser=superuser,
        )
        user.groups.add(*(groups[role] for role in roles))
        return user

    return make


@pytest.fixture
def pipeline_granted(make_user) -> User:
    """A pipeline service account granted register and log on credit-risk (by the world)."""
    return make_user("pipeline-granted", Role.PIPELINE)


@pytest.fixture
def pipeline_stranger(make_user) -> User:
    """A pipeline service account granted nothing."""
    return make_user("pipeline-stranger", Role.PIPELINE)


@pytest.fixture
def owner(make_user) -> User:
    """The model owner of credit-risk and fraud-score."""
    return make_user("owner", Role.MODEL_OWNER, first_name="Olivia")


@pytest.fixture
def other_owner(make_user) -> User:
    """A model owner who owns nothing (yet)."""
    return make_user("other-owner", Role.MODEL_OWNER)


@pytest.fixture
def officer_1(make_user) -> User:
    return make_user("officer-1", Role.COMPLIANCE_OFFICER, first_name="Athena")


@pytest.fixture
def officer_2(make_user) -> User:
    return make_user("officer-2", Role.COMPLIANCE_OFFICER, first_name="Zoë")


@pytest.fixture
def auditor(make_user) -> User:
    return make_user("auditor", Role.AUDITOR)


@pytest.fixture
def admin(make_user) -> User:
    """In the admin group, staff and superuser; not a compliance officer."""
    return make_user("admin", Role.ADMIN, superuser=True)


@pytest.fixture
def people(
    pipeline_granted,
    pipeline_stranger,
    owner,
    other_owner,
    officer_1,
    officer_2,
    auditor,
    admin,
) -> dict[str, User | None]:
    return {
        "anonymous": None,
        "pipeline_granted": pipeline_granted,
        "pipeline_stranger": pipeline_stranger,
        "owner": owner,
        "other_owner": other_owner,
        "officer_1": officer_1,
        "officer_2": officer_2,
        "auditor": auditor,
        "admin": admin,
    }


@pytest.fixture
def client_for(people) -> Callable[[str | User | None], APIClient]:
    """Return an API client signed in as a persona (by name) or a user; "anonymous" is nobody."""

    def make(who: str | User | None) -> APIClient:
        user = people[who] if isinstance(who, str) else who
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def world(people) -> World:
    return build_world(people)
