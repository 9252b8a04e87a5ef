"""The MLflow webhook endpoint: signed deliveries import the version they name; anything unsigned,
wrongly signed or stale is refused and writes nothing.

Deliveries are signed with MLflow's own signing function, so the endpoint is checked against what
an MLflow server really sends, and the versions live in a real MLflow store (SQLite in a
temporary folder); the import runs in-process (`eager_tasks`).
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
from rest_framework.test import APIClient

from governance.demo import FULL_CARD
from governance.models import Deployment, ModelVersion
from governance.services import registry
from governance.services.access import access_grant
from ledger.models import Entry, Submission
from tests.governance import readiness
from tests.governance.conftest import PASSWORD

pytest.importorskip("mlflow", reason="the MLflow client (mlflow-skinny) is not installed")
from mlflow.webhooks.delivery import _generate_hmac_signature as mlflow_signature

from tests.governance.test_mlflow_import import Tracking
from tests.governance.world import alice, olga, oscar, pipeline  # noqa: F401 — fixtures

URL = "/api/v1/integrations/mlflow/webhook"
SECRET = "whsec-shared-with-the-mlflow-server"


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
    access_grant(actor=olga, model=model, grantee=pipeline, actions=["register", "log"])
    return model


@pytest.fixture
def tracking(tmp_path, settings, eager_tasks) -> Tracking:
    """An MLflow server the ledger imports from, as the pipeline, with the shared secret set."""
    tracking = Tracking(tmp_path)
    settings.MLFLOW_TRACKING_URI = tracking.uri
    settings.MLFLOW_IMPORT_USER = "pipeline"
    settings.MLFLOW_WEBHOOK_SECRET = SECRET
    return tracking


def delivery(event: str, data: dict, *, secret: str = SECRET, timestamp: int | None = None) -> tuple[bytes, dict]:
    """The body and headers an MLflow server sends for `event` (see mlflow.webhooks.delivery)."""
    entity, action = event.split(".")
    body = json.dumps({"entity": entity, "action": action, "timestamp": "2026-11-28T00:00:00+00:00", "data": data})
    delivery_id, sent_at = str(uuid.uuid4()), str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "HTTP_X_MLFLOW_DELIVERY_ID": delivery_id,
        "HTTP_X_MLFLOW_TIMESTAMP": sent_at,
        "HTTP_X_MLFLOW_SIGNATURE": mlflow_signature(secret, delivery_id, sent_at, body),
    }
    return body.encode(), headers


def post(body: bytes, headers: dict):
    return APIClient().post(URL, data=body, content_type="application/json", **headers)


def version_created(tracking: Tracking, version) -> dict:
    return {"name": version.name, "version": str(version.version), "source": version.source, "tags": {}}


def ledger_size() -> int:
    return Submission.objects.count() + Entry.objects.count()


def test_a_signed_new_version_delivery_imports_that_version(model, tracking):
    tracking.register("Credit_Risk", tracking.train())
    second = tracking.register("Credit_Risk", tracking.train(weights=b"v2"))

    response = post(*delivery("model_version.created", version_created(tracking, second)))

    assert response.status_code == 202, response.json()
    assert response.json() == {
        "event": "model_version.created",
        "status": "queued",
        "model": "Credit_Risk",
        "version": "2",
    }
    assert list(ModelVersion.objects.filter(model=model).values_list("version", flat=True)) == ["2"]


def test_a_redelivery_imports_nothing_twice(model, tracking):
    version = tracking.register("Credit_Risk", tracking.train())
    post(*delivery("model_version.created", version_created(tracking, version)))
    written = ledger_size()

    response = post(*delivery("model_version.created", version_created(tracking, version)))

    assert response.status_code == 202
    assert ledger_size() == written


def test_a_signed_alias_delivery_records_the_deployment_of_an_approved_version(model, pipeline, olga, oscar, tracking):
    version = tracking.register("Credit_Risk", tracking.train())
    post(*delivery("model_version.created", version_created(tracking, version)))
    imported = ModelVersion.objects.get(model=model, version="1")
    registry.card_revise(actor=pipeline, version=imported, content=FULL_CARD)
    readiness.approve(imported, olga, oscar, password=PASSWORD)
    tracking.alias("Credit_Risk", "staging", 1)

    response = post(
        *delivery("model_version_alias.created", {"name": "Credit_Risk", "alias": "staging", "version": "1"})
    )

    assert response.status_code == 202
    deployment = Deployment.objects.get(model=model, environment="staging", ended_at__isnull=True)
    assert deployment.version == imported


def test_a_delivery_without_a_signature_is_refused_with_401_and_writes_nothing(model, tracking):
    version = tracking.register("Credit_Risk", tracking.train())
    body, headers = delivery("model_version.created", version_created(tracking, version))
    del headers["HTTP_X_MLFLOW_SIGNATURE"]
    written = ledger_size()

    response = post(body, headers)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert set(response.json()) == {"code", "message", "errors"}
    assert "X-MLflow-Signature" in response["WWW-Authenticate"]
    assert ledger_size() == written
    assert not ModelVersion.objects.exists()


def test_a_body_changed_after_signing_is_refused_with_403_and_writes_nothing(model, tracking):
    tracking.register("Credit_Risk", tracking.train())
    second = tracking.register("Credit_Risk", tracking.train(weights=b"v2"))
    body, headers = delivery("model_version.created", version_created(tracking, second))
    written = ledger_size()

    response = post(body.replace(b'"version": "2"', b'"version": "1"'), headers)

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "signature does not match" in response.json()["message"]
    assert ledger_size() == written
    assert not ModelVersion.objects.exists()


def test_a_delivery_signed_with_another_secret_is_refused(model, tracking):
    version = tracking.register("Credit_Risk", tracking.train())

    response = post(*delivery("model_version.created", version_created(tracking, version), secret="guessed"))

    assert response.status_code == 403
    assert not ModelVersion.objects.exists()


def test_a_replayed_delivery_older_than_five_minutes_is_refused(model, tracking):
    version = tracking.register("Credit_Risk", tracking.train())
    stale = int(time.time()) - 600

    response = post(*delivery("model_version.created", version_created(tracking, version), timestamp=stale))

    assert response.status_code == 403
    assert "seconds old" in response.json()["message"]
    assert not ModelVersion.objects.exists()


def test_webhooks_are_refused_while_no_secret_is_configured(model, tracking, settings):
    version = tracking.register("Credit_Risk", tracking.train())
    settings.MLFLOW_WEBHOOK_SECRET = None

    response = post(*delivery("model_version.created", version_created(tracking, version)))

    assert response.status_code == 403
    assert "MLFLOW_WEBHOOK_SECRET" in response.json()["message"]
    assert not ModelVersion.objects.exists()


def test_an_event_the_ledger_does_not_import_is_acknowledged_and_ignored(model, tracking):
    written = ledger_size()

    response = post(*delivery("model_version_alias.deleted", {"name": "Credit_Risk", "alias": "staging"}))

    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert ledger_size() == written


def test_a_signed_delivery_that_names_no_version_is_a_400_in_the_one_error_shape(model, tracking):
    response = post(*delivery("model_version.created", {"name": "Credit_Risk"}))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "data" in response.json()["errors"]


def test_a_signed_body_that_is_not_json_is_a_400(model, tracking):
    delivery_id, sent_at = str(uuid.uuid4()), str(int(time.time()))
    headers = {
        "HTTP_X_MLFLOW_DELIVERY_ID": delivery_id,
        "HTTP_X_MLFLOW_TIMESTAMP": sent_at,
        "HTTP_X_MLFLOW_SIGNATURE": mlflow_signature(SECRET, delivery_id, sent_at, "not json"),
    }

    response = post(b"not json", headers)

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_without_a_tracking_server_the_webhook_answers_503(model, tracking, settings):
    settings.MLFLOW_TRACKING_URI = None

    response = post(*delivery("model_version.created", {"name": "Credit_Risk", "version": "1"}))

    assert response.status_code == 503
    assert response.json()["code"] == "not_configured"


def test_without_an_import_user_the_webhook_answers_503(model, tracking, settings):
    settings.MLFLOW_IMPORT_USER = ""

    response = post(*delivery("model_version.created", {"name": "Credit_Risk", "version": "1"}))

    assert response.status_code == 503
    assert "MLFLOW_IMPORT_USER" in response.json()["message"]
