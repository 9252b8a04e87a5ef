"""The shared test world: personas (alice owns credit-risk, the pipeline builds it, olga and oscar
sign) and helpers, imported by the conftest here and by API tests that need the same world."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from governance.demo import FULL_CARD
from governance.roles import Role
from governance.services import access as access_services
from governance.services import registry
from tests.governance import readiness
from tests.identity import add_roles

PASSWORD = "correct horse battery staple"


def make_user(username: str, *roles: str, **extra) -> User:
    superuser, active = extra.pop("is_superuser", False), extra.pop("is_active", True)
    user = User.objects.create_user(username, password=PASSWORD, first_name=username.title(), **extra)
    add_roles(user, *roles, superuser=superuser, active=active)
    return user


@pytest.fixture
def alice(db) -> User:
    return make_user("alice", Role.MODEL_OWNER)


@pytest.fixture
def pipeline(db) -> User:
    return make_user("pipeline", Role.PIPELINE)


@pytest.fixture
def olga(db) -> User:
    return make_user("olga", Role.COMPLIANCE_OFFICER)


@pytest.fixture
def oscar(db) -> User:
    return make_user("oscar", Role.COMPLIANCE_OFFICER)


@pytest.fixture
def model(alice, pipeline, olga):
    model = registry.model_register(
        actor=alice,
        slug="credit-risk",
        name="Credit risk",
        intended_purpose="Score applications.",
        regulated_use="credit",
        risk_tier="high",
        owner=alice,
        runbook="https://wiki/runbook",
    )
    access_services.access_grant(actor=olga, model=model, grantee=pipeline, actions=["register", "log"])
    readiness.declare_policies(model, alice)  # thresholds, monitoring and retraining: production gates
    return model


@pytest.fixture
def datasets(pipeline):
    rows = []
    for n, name in enumerate(("train", "validation", "test")):
        dataset, _ = registry.dataset_register(
            actor=pipeline, name=name, uri=f"s3://d/{name}", sha256=f"{n + 1:x}" * 64, size_bytes=1000
        )
        rows.append(dataset)
    return rows


def register_version(
    pipeline, model, datasets, number: str = "1.0.0", parent: str | None = None, card: bool = True, ci: bool = True
):
    version = registry.version_register(
        actor=pipeline,
        model=model,
        version=number,
        parent=parent,
        artifact_sha256="a" * 64,
        artifact_uri="s3://m",
        datasets=[
            {"sha256": d.sha256, "role": role}
            for d, role in zip(datasets, ("training", "validation", "test"), strict=True)
        ],
        metrics=[{"name": "auc", "value": "0.87"}],
        **readiness.reproducible(number),
    )
    if ci:
        readiness.post_ci(version, pipeline)
    if card:
        registry.card_revise(actor=pipeline, version=version, content=FULL_CARD)
    return version


@pytest.fixture
def version(pipeline, model, datasets):
    return register_version(pipeline, model, datasets)
