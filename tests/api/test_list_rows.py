"""Lists rendered from `.values()` rows answer byte for byte what the serializers answered.

Each list is read twice, as each persona: through api.rows, and with the view's rows plan taken
away, so the page is built from model instances and rendered by the output serializer as
before. Nulls, dates, JSON fields, datasets and none, parents and none, non-ASCII text and the
paging fields (count, next, previous) all appear in the world below.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from api.views import registry as registry_views
from governance.models import ModelVersion
from governance.services import registry
from tests.api.factories import World, links, register_model, version, version_body

PERSONAS = ["pipeline_granted", "pipeline_stranger", "owner", "auditor", "officer_1"]


@pytest.fixture
def varied(world: World, people) -> World:
    """The world, with a model and versions whose fields take their odd values."""
    owner, pipeline = people["owner"], people["pipeline_granted"]
    registry.model_update_validation(
        actor=people["officer_1"],
        model=world.model,
        validated_at=date(2026, 1, 31),
        next_validation_due=date(2027, 1, 31),
        valid_until=None,
    )
    odd = register_model(owner, "modele-credit", "low")
    odd.name, odd.description = "Modèle de crédit — 信用 ✓", "Ligne\u2028séparée, «guillemets», emoji 🧮"
    odd.save(update_fields=["name", "description"])
    body = {
        **version_body("2.0.0", [{"sha256": world.datasets["fraud-train"], "role": "training"}]),
        "description": "Réentraîné sur données 2026 — ünïcödé",
        "hyperparameters": {"tête": "profonde", "n": "3"},
        "metrics": [],
        "environment_lock_sha256": "",
        "code_repository": "",
    }
    registry.version_register(actor=owner, model=odd, **body)
    # A version without datasets (as rows imported before lineage was required are).
    ModelVersion.objects.create(
        model=odd,
        version="0.9.0",
        artifact_sha256="b" * 64,
        artifact_uri="s3://models/0.9.0",
        registered_by=owner,
        registered_at=timezone.now(),
        ledger_key="test:version:odd:0.9.0",
    )
    version(pipeline, world.model, "1.2.0", links(world.datasets)[:1], parent="1.1.0")
    # Distinct registration times keep the queue's order (by registered_at alone) one order.
    start = timezone.now() - timedelta(days=1)
    for offset, row in enumerate(ModelVersion.objects.order_by("pk")):
        ModelVersion.objects.filter(pk=row.pk).update(registered_at=start + timedelta(minutes=offset))
    return world


def _urls(world: World) -> list[str]:
    train = world.datasets["train"]
    return [
        "/api/v1/models",
        "/api/v1/models?page_size=2",
        "/api/v1/models?page=2&page_size=2",
        "/api/v1/models?risk_tier=low",
        "/api/v1/versions",
        "/api/v1/versions?status=approved",
        "/api/v1/versions?page=2&page_size=2",
        "/api/v1/versions?model=credit-risk&page_size=3",
        "/api/v1/models/credit-risk/versions",
        "/api/v1/models/credit-risk/versions?page=2&page_size=1",
        "/api/v1/models/modele-credit/versions",
        f"/api/v1/datasets/{train}/versions",
        "/api/v1/models?format=csv",
        "/api/v1/versions?format=csv&page_size=2",
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_answers_every_list_as_the_serializers_did(varied, persona, client_for, monkeypatch):
    client = client_for(persona)
    fast = {url: client.get(url) for url in _urls(varied)}
    monkeypatch.setattr(registry_views, "MODEL_ROWS", None)
    monkeypatch.setattr(registry_views, "VERSION_ROWS", None)
    for url, response in fast.items():
        before = client.get(url)
        assert response.status_code == before.status_code, url
        assert response.content == before.content, url
        assert response.get("X-Total-Count") == before.get("X-Total-Count"), url
        assert response.get("Link") == before.get("Link"), url


def test_the_world_holds_the_odd_values(varied, client_for):
    results = client_for("auditor").get("/api/v1/versions").json()["results"]
    odd = next(row for row in results if row["version"] == "2.0.0")
    assert odd["parent"] is None and odd["environment_lock_sha256"] == "" and odd["metrics"] == []
    assert "ünïcödé" in odd["description"] and odd["hyperparameters"]["tête"] == "profonde"
    assert next(row for row in results if row["version"] == "0.9.0")["datasets"] == []
    child = next(row for row in results if row["version"] == "1.2.0")
    assert child["parent"] == "1.1.0" and len(child["datasets"]) == 1
    models = client_for("auditor").get("/api/v1/models").json()["results"]
    credit = next(row for row in models if row["slug"] == "credit-risk")
    assert credit["validated_at"] == "2026-01-31" and credit["valid_until"] is None
