"""The personas of the API and console tests, in one place: users in the role groups of
governance.roles, each with the shared test password. The API's and the console's conftest
import these fixtures and add their own client and world.

The governance service tests' small cast, alice (owns credit-risk), pipeline (builds it), olga
and oscar (sign), lives here too; tests/governance/world.py builds their model around them.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group, Permission, User

from governance.roles import Role
from tests.identity import add_roles

__all__ = [
    "PASSWORD",
    "admin",
    "alice",
    "auditor",
    "groups",
    "make_user",
    "new_user",
    "officer_1",
    "officer_2",
    "olga",
    "oscar",
    "other_owner",
    "owner",
    "people",
    "pipeline",
    "pipeline_granted",
    "pipeline_stranger",
]

PASSWORD = "correct-horse-battery-staple"
"""Every persona's password."""


def new_user(username: str, *roles: str, superuser: bool = False, active: bool = True, **extra) -> User:
    """Create a user holding `roles` (group names) with the shared password; officers through
    the two-person path."""
    superuser = extra.pop("is_superuser", superuser)
    active = extra.pop("is_active", active)
    extra.setdefault("first_name", username.title())
    user = User.objects.create_user(username, password=PASSWORD, **extra)
    add_roles(user, *roles, superuser=superuser, active=active)
    return user


@pytest.fixture
def alice(db) -> User:
    return new_user("alice", Role.MODEL_OWNER)


@pytest.fixture
def pipeline(db) -> User:
    return new_user("pipeline", Role.PIPELINE)


@pytest.fixture
def olga(db) -> User:
    return new_user("olga", Role.COMPLIANCE_OFFICER)


@pytest.fixture
def oscar(db) -> User:
    return new_user("oscar", Role.COMPLIANCE_OFFICER)


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
        return new_user(username, *roles, superuser=superuser, first_name=first_name)

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
