"""The authorization table: one `require` for every service, and the documented matrix."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from governance import access
from governance.errors import Forbidden, NotVisible
from governance.roles import Role
from tests.governance.world import make_user

SECURITY_DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def test_the_documented_role_matrix_is_the_one_the_code_enforces():
    text = SECURITY_DOC.read_text(encoding="utf-8")
    assert access.matrix_markdown() in text, (
        "Run `python manage.py access_matrix --write` and commit docs/security.md."
    )


def test_the_matrix_command_prints_the_table(capsys):
    call_command("access_matrix")
    assert capsys.readouterr().out.strip() == access.matrix_markdown()


def test_every_action_names_who_holds_it():
    for action in access.RULES:
        assert access.denial(action).startswith("Only ")
        assert f"`{action}`" in access.denial(action)


def test_it_hides_a_model_from_a_pipeline_without_a_grant(model):
    stranger = make_user("stranger", Role.PIPELINE)
    with pytest.raises(NotVisible, match="No such model"):
        access.require(stranger, "register", model)


def test_it_names_the_missing_right_to_a_caller_who_may_see_the_model(model, olga):
    logger = make_user("logger", Role.PIPELINE)
    access.grant(logger, ["log"], model)
    access.require(logger, "log", model)
    with pytest.raises(Forbidden, match=r"lack the `register` right on credit-risk"):
        access.require(logger, "register", model)


def test_a_right_no_model_gives_is_refused_before_the_model_is_looked_at(model):
    stranger = make_user("stranger", Role.PIPELINE)
    with pytest.raises(Forbidden, match="`webhooks`"):
        access.require(stranger, "webhooks", model)


def test_an_owner_oversees_only_the_models_they_own(model, alice):
    other = make_user("other", Role.MODEL_OWNER)
    assert access.can(alice, "oversee", model)
    assert not access.can(other, "oversee", model)
    assert access.offers(alice, model) >= {"view", "register", "oversee", "transfer", "reports"}
    assert access.offers(other, model) == frozenset()


def test_an_unknown_action_is_a_programming_error(model, alice):
    with pytest.raises(ValueError, match="Unknown action"):
        access.require(alice, "fly", model)


def test_offers_each_answers_what_offers_answers_per_model_in_a_query_per_action(
    model, alice, olga, django_assert_max_num_queries
):
    from governance.services import registry

    bob = make_user("bob", Role.MODEL_OWNER)
    other = registry.model_register(
        actor=bob,
        slug="other-model",
        name="Other",
        intended_purpose="Score other things.",
        regulated_use="credit",
        risk_tier="high",
        owner=bob,
    )
    logger = make_user("logger", Role.PIPELINE)
    access.grant(logger, ["log"], model)
    auditor = make_user("audrey", Role.AUDITOR)
    models = [model, other]
    per_action = sum(1 for rule in access.RULES.values() if rule.per_model)
    for user in (alice, olga, logger, auditor, make_user("stranger", Role.PIPELINE)):
        expected = {m.pk: access.offers(user, m) for m in models}
        with django_assert_max_num_queries(per_action + 2):
            assert access.offers_each(user, models) == expected, user.username
    assert access.offers_each(logger, models)[other.pk] == frozenset()
    assert "log" in access.offers_each(logger, models)[model.pk]
