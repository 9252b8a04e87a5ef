"""Decision ids have an alphabet (ASCII letters, digits, . _ : -; at most 80): the API refuses
others with 400, and the console still shows any id a decision was logged under before."""

from __future__ import annotations

from datetime import timedelta

import pytest

from governance.models import Decision
from tests.api.factories import as_json, decision_item

pytestmark = pytest.mark.django_db

HOSTILE = ["a/b", "a'b\"c", "<script>x</script>", "ünïcødé-✓", "a" * 81, "a" * 200, "a b", "../x", "a?b#c", "-leading"]
FINE = ["d-1", "4b9c7e2a-5f1d-4d8e-9a4b-2f7c1e0d3b6a", "loan:2026.000123_x", "a" * 80]


def _item(world, decision_id: str) -> dict:
    return {
        **as_json(decision_item(900, "1.0.0", world.deployment.started_at + timedelta(minutes=1))),
        "decision_id": decision_id,
    }


@pytest.mark.parametrize("decision_id", HOSTILE)
def test_the_api_refuses_a_decision_id_outside_the_alphabet(world, decision_id, client_for):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(world.model.owner.__class__.objects.get(username="pipeline-granted"))
    response = client.post(
        "/api/v1/models/credit-risk/decisions", {"decisions": [_item(world, decision_id)]}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "decision_id" in str(response.json()["errors"])


@pytest.mark.parametrize("decision_id", FINE)
def test_the_api_takes_ids_in_the_alphabet(world, decision_id):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(world.model.owner.__class__.objects.get(username="pipeline-granted"))
    response = client.post(
        "/api/v1/models/credit-risk/decisions", {"decisions": [_item(world, decision_id)]}, format="json"
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("decision_id", HOSTILE[:-1])
def test_the_console_lists_and_shows_a_decision_logged_under_a_hostile_id(world, client_for, decision_id):
    decision = world.decisions[0]
    Decision.objects.filter(pk=decision.pk).update(decision_id=decision_id)
    officer = client_for("officer_1")
    listing = officer.get("/decisions", {"q": decision_id})
    assert listing.status_code == 200
    recent = officer.get("/decisions")
    assert recent.status_code == 200
    html = recent.content.decode()
    assert "<script>x</script>" not in html
    links = [line for line in html.split('href="') if line.startswith("/models/credit-risk/decisions/")]
    target = next(link.split('"', 1)[0] for link in links if "/decisions/d-" not in link)
    page = officer.get(target.replace("&amp;", "&").replace("&#x27;", "'").replace("&quot;", '"'))
    assert page.status_code == 200
    assert decision.subject_ref if hasattr(decision, "subject_ref") else True
