"""The API's e-signature counts wrong passwords as failed sign-ins: the tenth within fifteen
minutes locks the signer out, in the JSON error shape, until the time it names."""

from __future__ import annotations

import json

import pytest

from governance.models import Approval
from ledger.models import Entry, Submission
from tests.api.factories import PASSWORD

pytestmark = pytest.mark.django_db
APPROVALS = "/api/v1/models/credit-risk/versions/1.1.0/approvals"


def lockout_events() -> list[str]:
    """The subjects of `signin.locked_out` events, queued or in the log."""
    queued = Submission.objects.filter(type="signin.locked_out").values_list("subject", flat=True)
    leaves = Entry.objects.filter(idempotency_key__startswith="signin.locked_out:").values_list("leaf", flat=True)
    return [*queued, *(json.loads(bytes(leaf))["subject"] for leaf in leaves)]


def _sign(client, password: str):
    return client.post(APPROVALS, {"meaning": "approved", "reason": "Reviewed.", "password": password}, format="json")


def test_the_tenth_wrong_signature_password_locks_the_signer_out(world, client_for):
    officer = client_for("officer_1")
    for _ in range(9):
        assert _sign(officer, "wrong").json()["code"] == "reauthentication_failed"
    locked = _sign(officer, "wrong")
    assert locked.status_code == 429
    body = locked.json()
    assert (body["code"], body["errors"]) == ("locked_out", {})
    assert "Try again after" in body["message"] and "UTC" in body["message"]
    again = _sign(officer, PASSWORD)
    assert (again.status_code, again.json()["code"]) == (429, "locked_out")
    assert not Approval.objects.filter(version=world.v110).exists()
    assert lockout_events() == ["user:officer-1"]


def test_a_right_password_after_a_few_failures_still_signs(world, client_for):
    officer = client_for("officer_1")
    for _ in range(3):
        _sign(officer, "wrong")
    assert _sign(officer, PASSWORD).status_code == 201
