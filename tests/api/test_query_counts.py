"""List endpoints cost a fixed number of queries, however many rows they return (no N+1).

Each list is read with 3 rows (or the few the world already holds) and again with 30; the
number of queries is pinned and must be the same both times. The caller is fetched afresh before each read, so the count includes
reading their roles, as a real request does.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from governance.demo import FULL_CARD
from governance.models import Dataset, Decision, Deployment, ModelVersion, RegisteredModel
from governance.services import decisions, deployments, registry
from tests.api.factories import World, approve, decision_item, links, sha, version

Grow = Callable[[World, dict, int], None]


def more_models(world: World, people: dict, count: int) -> None:
    start = RegisteredModel.objects.count()
    for n in range(start, start + count):
        registry.model_register(
            actor=people["owner"],
            slug=f"model-{n:03d}",
            name=f"Model {n}",
            owner=people["owner"],
            risk_tier="low",
            regulated_use="other",
            intended_purpose="Counting queries.",
        )


def more_versions(world: World, people: dict, count: int) -> None:
    start = ModelVersion.objects.count()
    for n in range(start, start + count):
        version(people["pipeline_granted"], world.model, f"3.{n}.0", links(world.datasets))


def more_decisions(subject_ref: str = "") -> Grow:
    def grow(world: World, people: dict, count: int) -> None:
        start = Decision.objects.count() + 100
        since = world.deployment.started_at
        items = [
            decision_item(n, "1.0.0", since + timedelta(milliseconds=n), subject_ref or f"applicant-{n}")
            for n in range(start, start + count)
        ]
        decisions.decision_log_batch(actor=people["pipeline_granted"], model=world.model, items=items)

    return grow


def more_deployments(world: World, people: dict, count: int) -> None:
    start = Deployment.objects.count()
    for n in range(start, start + count):
        deployments.deployment_start(actor=people["pipeline_granted"], version=world.v100, environment=f"shadow-{n}")


def more_datasets(world: World, people: dict, count: int) -> None:
    start = Dataset.objects.count()
    for n in range(start, start + count):
        registry.dataset_register(
            actor=people["pipeline_granted"],
            name=f"set-{n}",
            uri=f"s3://sets/{n}",
            sha256=sha(f"set-{n}"),
            size_bytes=n,
        )


def more_signatures(world: World, people: dict, count: int) -> None:
    for n in range(count):
        approve(world.v110, people["officer_1" if n % 2 else "officer_2"], meaning="reviewed")


def more_cards(world: World, people: dict, count: int) -> None:
    for n in range(count):
        registry.card_revise(
            actor=people["pipeline_granted"], version=world.v110, content={**FULL_CARD, "factors": f"Revision {n}."}
        )


@dataclass(frozen=True)
class Listing:
    url: Callable[[World], str]
    persona: str
    rows_in_world: int
    grow: Grow
    queries: int


CREDIT = "/api/v1/models/credit-risk"
LISTINGS: dict[str, Listing] = {
    "models": Listing(lambda w: "/api/v1/models", "officer_1", 2, more_models, 3),
    "models (owner)": Listing(lambda w: "/api/v1/models", "owner", 2, more_models, 3),
    "version queue": Listing(lambda w: "/api/v1/versions", "officer_1", 3, more_versions, 4),
    "versions of a model (pipeline)": Listing(lambda w: f"{CREDIT}/versions", "pipeline_granted", 2, more_versions, 5),
    "versions of a model": Listing(lambda w: f"{CREDIT}/versions", "auditor", 2, more_versions, 5),
    "versions trained on a dataset": Listing(
        lambda w: f"/api/v1/datasets/{w.datasets['train']}/versions", "officer_2", 2, more_versions, 5
    ),
    "decisions of a model": Listing(lambda w: f"{CREDIT}/decisions", "auditor", 3, more_decisions(), 4),
    "datasets (pipeline)": Listing(lambda w: "/api/v1/datasets", "pipeline_granted", 3, more_datasets, 3),
    "datasets": Listing(lambda w: "/api/v1/datasets", "auditor", 5, more_datasets, 3),
    "card revisions": Listing(lambda w: f"{CREDIT}/versions/1.1.0/cards", "owner", 1, more_cards, 6),
    "deployments": Listing(lambda w: f"{CREDIT}/deployments", "auditor", 1, more_deployments, 4),
    "approvals": Listing(lambda w: f"{CREDIT}/versions/1.1.0/approvals", "auditor", 0, more_signatures, 6),
    "decisions about a subject": Listing(
        lambda w: "/api/v1/decisions?subject_ref=applicant-1", "officer_1", 2, more_decisions("applicant-1"), 3
    ),
}


def read(listing: Listing, world: World, people: dict, rows: int, counting: AbstractContextManager) -> None:
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=people[listing.persona].pk))
    url = listing.url(world)
    with counting:
        response = client.get(url)
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == rows


def grow_to(listing: Listing, world: World, people: dict, rows: int, held: int) -> None:
    if rows > held:
        listing.grow(world, people, rows - held)


@pytest.mark.parametrize("name", list(LISTINGS))
def test_a_list_costs_the_same_queries_for_3_or_30_rows(name, world, people, django_assert_num_queries):
    listing = LISTINGS[name]
    few = max(3, listing.rows_in_world)
    grow_to(listing, world, people, few, listing.rows_in_world)
    read(listing, world, people, few, django_assert_num_queries(listing.queries))
    grow_to(listing, world, people, 30, few)
    read(listing, world, people, 30, django_assert_num_queries(listing.queries))
