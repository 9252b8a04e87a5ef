"""Personas and their world for the console tests: the API tests' world (tests/api/factories.py)
plus churn-score, a model owned by `other_owner`, so that each owner has a model the other may
not see. Readers of all records hold `ledger.view_entry`, as the demo's groups do."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client

from governance.roles import Role
from ledger import services as ledger_services
from tests.api.factories import PASSWORD, World, build_world, dataset, register_model, version


@pytest.fixture
def groups(db) -> dict[str, Group]:
    groups = {role: Group.objects.get_or_create(name=role)[0] for role in Role.values}
    view_entry = Permission.objects.get(codename="view_entry")
    for role in (Role.COMPLIANCE_OFFICER, Role.AUDITOR, Role.ADMIN):
        groups[role].permissions.add(view_entry)
    return groups


@pytest.fixture
def make_user(groups) -> Callable[..., User]:
    def make(username: str, *roles: str, superuser: bool = False, first_name: str = "") -> User:
        user = User.objects.create_user(
            username, password=PASSWORD, first_name=first_name, is_staff=superuser, is_superuser=superuser
        )
        user.groups.add(*(groups[role] for role in roles))
        return user

    return make


@pytest.fixture
def people(make_user) -> dict[str, User | None]:
    return {
        "anonymous": None,
        "pipeline_granted": make_user("pipeline-granted", Role.PIPELINE),
        "pipeline_stranger": make_user("pipeline-stranger", Role.PIPELINE),
        "owner": make_user("owner", Role.MODEL_OWNER, first_name="Olivia"),
        "other_owner": make_user("other-owner", Role.MODEL_OWNER),
        "officer_1": make_user("officer-1", Role.COMPLIANCE_OFFICER, first_name="Athena"),
        "officer_2": make_user("officer-2", Role.COMPLIANCE_OFFICER, first_name="Zoë"),
        "auditor": make_user("auditor", Role.AUDITOR),
        "admin": make_user("admin", Role.ADMIN, superuser=True),
    }


@pytest.fixture
def world(people) -> World:
    world = build_world(people)
    churn = register_model(people["other_owner"], "churn-score", "low")
    train = dataset(people["other_owner"], "churn-train")
    version(people["other_owner"], churn, "0.1.0", [{"sha256": train, "role": "training"}])
    ledger_services.tree_integrate_all()
    ledger_services.checkpoint_sign()
    return world


@pytest.fixture
def client_for(people) -> Callable[[str | User | None], Client]:
    """A browser session signed in as a persona (by name) or a user; "anonymous" is nobody."""

    def make(who: str | User | None) -> Client:
        user = people[who] if isinstance(who, str) else who
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make
