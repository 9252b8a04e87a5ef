"""The service tests' world: credit-risk with its datasets and a version, built around the personas
of tests/personas.py (alice owns it, the pipeline builds it, olga and oscar sign); imported by the
conftest here and by API tests that need the same world."""

from __future__ import annotations

import pytest

from governance.demo import FULL_CARD
from governance.services import access as access_services
from governance.services import registry
from tests.governance import readiness
from tests.personas import PASSWORD, alice, olga, oscar, pipeline
from tests.personas import new_user as make_user

__all__ = [
    "PASSWORD",
    "alice",
    "datasets",
    "make_user",
    "model",
    "olga",
    "oscar",
    "pipeline",
    "register_version",
    "version",
]


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
