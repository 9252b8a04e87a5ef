"""The personas (tests/personas.py), an API client for each, and the world they work in.

See tests/api/factories.py for what the world holds.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.api.factories import World, build_world
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


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Write throttles count per user id in the cache; each test starts with none spent."""
    cache.clear()
    yield
    cache.clear()


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
