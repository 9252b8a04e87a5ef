"""Lists narrowed for pipelines read guardian's tables directly: the same answer as guardian."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm, get_objects_for_user

from governance import access, grants, selectors
from governance.models import RegisteredModel
from governance.roles import Role
from governance.services import registry
from tests.governance.world import make_user


def _guardian(user, codenames) -> set[int]:
    return set(
        get_objects_for_user(
            user, codenames, klass=RegisteredModel, any_perm=True, accept_global_perms=False, with_superuser=False
        ).values_list("pk", flat=True)
    )


def _granted(user, codenames) -> set[int]:
    return set(
        RegisteredModel.objects.filter(pk__in=grants.granted_models(user, codenames)).values_list("pk", flat=True)
    )


def _held(user, codenames) -> set[int]:
    return set(RegisteredModel.objects.filter(grants.GrantHeld("pk", user, codenames)).values_list("pk", flat=True))


@pytest.fixture
def models(alice) -> list[RegisteredModel]:
    return [
        registry.model_register(
            actor=alice,
            slug=f"m-{n}",
            name=f"Model {n}",
            intended_purpose="Score.",
            regulated_use="credit",
            risk_tier="low",
            owner=alice,
            runbook="https://wiki/runbook",
        )
        for n in range(6)
    ]


def test_it_finds_the_models_guardian_finds_for_every_permission_set(models):
    bot, other = make_user("bot", Role.PIPELINE), make_user("other-bot", Role.PIPELINE)
    team, outsiders = Group.objects.create(name="scoring-team"), Group.objects.create(name="outsiders")
    bot.groups.add(team)
    access.grant(bot, ["log"], models[0])
    access.grant(bot, ["register"], models[1])
    assign_perm("read_reports", bot, models[2])  # a right without view, as guardian allows
    access.grant(team, ["view"], models[3])
    access.grant(outsiders, ["view"], models[4])  # a group the bot is not in
    access.grant(other, ["log"], models[5])
    everything = list(access.GRANTABLE.values())
    for codenames in (everything, ["log_decisions"], ["register_version"], ["view_registeredmodel"]):
        assert _granted(bot, codenames) == _guardian(bot, codenames), codenames
        assert _held(bot, codenames) == _guardian(bot, codenames), codenames
    assert _granted(bot, everything) == {m.pk for m in models[:4]}
    assert _granted(other, everything) == {models[5].pk}
    assert _held(other, everything) == {models[5].pk}
    # A pipeline in no group that holds no grant.
    assert _held(make_user("lonely-bot", Role.PIPELINE), everything) == set()


def test_a_pipeline_lists_only_its_granted_models_and_their_versions(models, pipeline):
    bot = make_user("bot", Role.PIPELINE)
    access.grant(bot, ["register"], models[1])
    access.grant(bot, ["view"], models[2])
    assert [m.slug for m in selectors.model_list(bot)] == ["m-1", "m-2"]
    access.revoke(bot, ["view"], models[2])
    assert [m.slug for m in selectors.model_list(bot)] == ["m-1"]
    assert selectors.version_list(bot).count() == 0
    assert access.can(bot, "register", models[1]) and not access.can(bot, "register", models[2])
