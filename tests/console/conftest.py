"""The personas (tests/personas.py) and their world for the console tests: the API tests' world
(tests/api/factories.py) plus churn-score, a model owned by `other_owner`, so that each owner has
a model the other may not see. Readers of all records hold `ledger.view_entry`, as the demo's
groups do."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from ledger import services as ledger_services
from tests.api.factories import World, build_world, dataset, register_model, version
from tests.personas import (  # noqa: F401 — fixtures are found by name
    admin,
    auditor,
    groups,
    make_user,
    officer_1,
    officer_2,
    other_owner,
    owner,
    people,
    pipeline_granted,
    pipeline_stranger,
)


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
