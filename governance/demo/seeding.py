"""Seeding: the demo's decisions in batches, and `seed`, which writes the whole demo."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta

from django.db import transaction

from governance.demo.story import story
from governance.demo.world import BATCH, DECISIONS, PASSWORD, people
from governance.models import RegisteredModel
from governance.services import (
    decisions,
)
from ledger import services as ledger_services
from model_ledger_verify import canonical


def decision_items(model: RegisteredModel, count: int = DECISIONS) -> Iterator[list[dict]]:
    """Yield batches of demo decisions, each on the version serving production at its time."""
    spans = list(model.deployments.filter(environment="production").select_related("version").order_by("started_at"))
    first, last = (
        spans[0].started_at,
        (spans[-1].ended_at or spans[-1].started_at + timedelta(days=30)),
    )
    step = (last - first) / (count + 1)
    batch: list[dict] = []
    for n in range(1, count + 1):
        at = first + step * n
        serving = next(d for d in reversed(spans) if d.started_at <= at)
        score = (n * 7919) % 1000
        label = "approve" if score < 700 else "decline"
        overridden = n % 97 == 0
        features = {
            "income_band": str(n % 7),
            "region": ["north", "south", "east", "west"][n % 4],
            "utilisation": f"0.{(n * 31) % 100:02d}",
        }
        batch.append(
            {
                "decision_id": f"demo-{n:05d}",
                "version": serving.version.version,
                "occurred_at": at,
                "subject_ref": f"applicant-{(n * 104729) % 50000:05d}",
                "input_snapshot": features,
                "input_sha256": hashlib.sha256(canonical.dumps(features)).hexdigest(),
                "output_label": label,
                "output_score": f"0.{score:03d}",
                "reasons": [
                    {"code": "R01", "text": "Credit utilisation is high", "contribution": "0.31"},
                    {"code": "R07", "text": "Short credit history", "contribution": "0.12"},
                ],
                "mode": "human_reviewed" if overridden else "automated",
                "reviewer": "underwriter-7" if overridden else "",
                "overridden": overridden,
                "override_reason": "Verified income documents" if overridden else "",
                "final_label": "approve" if overridden else label,
            }
        )
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def seed(password: str = PASSWORD, progress=None, decision_count: int = DECISIONS) -> tuple[int, int]:
    """Create the demo data if missing; return (new decisions, total decisions)."""
    with transaction.atomic():
        users = people(password)
    ledger_services.tree_integrate_all()  # the officers' role grants have their seq before they sign
    with transaction.atomic():
        model = RegisteredModel.objects.filter(slug="credit-risk").first()
        if model is None:
            model = story(users, password)
    created = 0
    for batch in decision_items(model, decision_count):
        created += decisions.decision_log_batch(actor=users["demo-pipeline"], model=model, items=batch).created
        if progress:
            progress(int(batch[-1]["decision_id"].split("-")[1]), decision_count)
    return created, decision_count
