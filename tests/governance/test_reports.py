"""Sealed reports end to end: requested through the API, generated, downloaded, verified."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.db import close_old_connections
from django.utils import timezone
from rest_framework.test import APIClient

from config.celery import app
from config.storage import storages
from governance.models import Report
from governance.reports.credentials import sealing_credentials
from governance.roles import Role
from governance.services import approvals, decisions, deployments
from ledger import services as ledger_services
from ledger.models import Entry, SigningKey
from model_ledger_verify.report import ReportVerificationError, verify_report
from tests.governance.conftest import PASSWORD, make_user
from tests.objectstore import s3  # noqa: F401 — a fixture, found by name
from tests.workers import running_worker


@pytest.fixture(autouse=True)
def development_seal(settings, tmp_path):
    """Reports sealed with throwaway development credentials in a temporary folder."""
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "reports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "reports")},
        },
    }


@pytest.fixture
def auditor(db):
    return make_user("audrey", Role.AUDITOR)


@pytest.fixture
def approved(version, olga, oscar, pipeline):
    for officer in (olga, oscar):
        approvals.approval_sign(signer=officer, version=version, password=PASSWORD, meaning="approved", reason="ok")
    deployments.deployment_start(actor=pipeline, version=version, environment="staging")
    return version


@pytest.fixture(autouse=True)
def _commit_hooks(request, django_capture_on_commit_callbacks):
    """In tests wrapped in a transaction, run on-commit work (report generation) at once."""
    if request.node.get_closest_marker("redis"):
        yield
        return
    global _hooks
    _hooks = django_capture_on_commit_callbacks
    request.getfixturevalue("eager_tasks")
    yield


_hooks = None


class _Client(APIClient):
    """An API client whose requests run their on-commit work, as a committed request would."""

    def generic(self, *args, **kwargs):
        with _hooks(execute=True):
            return super().generic(*args, **kwargs)


def _client(user) -> APIClient:
    client = _Client()
    client.force_authenticate(user)
    return client


def _keys() -> list[str]:
    return list(SigningKey.objects.values_list("verifier_key", flat=True))


def test_an_auditor_requests_downloads_and_verifies_a_dossier(approved, auditor):
    client = _client(auditor)
    response = client.post(
        "/api/v1/reports", {"kind": "version", "model": "credit-risk", "version": "1.0.0"}, format="json"
    )
    assert response.status_code == 202
    status_url = response["Location"]
    body = client.get(status_url).json()
    assert body["status"] == "ready", body  # tasks run in-process without a broker
    download = client.get(body["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    pdf = download.content
    result = verify_report(pdf, trust_roots_pem=[sealing_credentials().trust_root_pem], ledger_keys=_keys())
    assert result.report_id == body["id"]
    assert result.development is True
    assert result.ledger_entries >= 8  # model, version, datasets, card, approvals, status changes, deployment


def test_a_report_in_a_bucket_is_served_from_it_and_kept_nowhere_else(approved, auditor, s3, settings, monkeypatch):
    s3.client.create_bucket(Bucket="ledger-reports")
    for name, value in {"REPORT_S3_BUCKET": "ledger-reports", "REPORT_S3_PREFIX": "sealed"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("REPORT_S3_ENDPOINT_URL", s3.endpoint)
    monkeypatch.setenv("REPORT_S3_ADDRESSING_STYLE", "path")
    settings.STORAGES = storages(settings.VAR_DIR)
    client = _client(auditor)
    posted = client.post(
        "/api/v1/reports", {"kind": "version", "model": "credit-risk", "version": "1.0.0"}, format="json"
    ).json()
    body = client.get(posted["status_url"]).json()
    assert body["status"] == "ready", body
    pdf = client.get(body["download_url"]).content
    key = f"sealed/version/{body['id']}.pdf"
    assert s3.keys("ledger-reports") == [key]
    stored = s3.client.get_object(Bucket="ledger-reports", Key=key)
    assert (stored["Body"].read(), stored["ContentType"]) == (pdf, "application/pdf")
    assert pdf.startswith(b"%PDF-") and not list(settings.VAR_DIR.rglob("*.pdf"))

    # An object changed in the bucket is not served.
    s3.client.put_object(Bucket="ledger-reports", Key=key, Body=pdf.replace(b"%PDF-", b"%PDF~", 1))
    refused = client.get(body["download_url"])
    assert refused.status_code == 409
    assert refused.json()["message"] == "The stored report does not match its recorded hash; it will not be served."


def test_each_generation_and_download_is_a_ledger_event(approved, auditor):
    client = _client(auditor)
    report_id = client.post(
        "/api/v1/reports", {"kind": "version", "model": "credit-risk", "version": "1.0.0"}, format="json"
    ).json()["id"]
    client.get(f"/api/v1/reports/{report_id}/download")
    client.get(f"/api/v1/reports/{report_id}/download")
    ledger_services.tree_integrate_all()
    types = [json.loads(bytes(e.leaf))["type"] for e in Entry.objects.all()]
    assert types.count("report.generated") == 1
    assert types.count("report.downloaded") == 2


def test_one_changed_byte_anywhere_fails_verification(approved, auditor):
    report = _generate(auditor, approved)
    pdf = _pdf(report)
    roots = [sealing_credentials().trust_root_pem]
    for position in (100, len(pdf) // 2, len(pdf) - 300):
        tampered = bytearray(pdf)
        tampered[position] ^= 0x01
        with pytest.raises(ReportVerificationError):
            verify_report(bytes(tampered), trust_roots_pem=roots, ledger_keys=_keys())


def test_a_pipeline_may_not_read_reports(approved, pipeline, auditor):
    report = _generate(auditor, approved)
    client = _client(pipeline)
    assert (
        client.post(
            "/api/v1/reports", {"kind": "version", "model": "credit-risk", "version": "1.0.0"}, format="json"
        ).status_code
        == 403
    )
    assert client.get(f"/api/v1/reports/{report.pk}").status_code == 404
    assert client.get("/api/v1/reports").json()["count"] == 0


def test_the_owner_reads_reports_of_their_own_model(approved, alice, auditor):
    report = _generate(auditor, approved)
    assert _client(alice).get(f"/api/v1/reports/{report.pk}/download").status_code == 200


def test_a_decision_report_carries_the_decision_proof(approved, pipeline, auditor):
    from tests.governance.test_operations import item

    decisions.decision_log_batch(actor=pipeline, model=approved.model, items=[item(1, "1.0.0", timezone.now())])
    response = _client(auditor).post(
        "/api/v1/reports", {"kind": "decision", "model": "credit-risk", "decision_id": "d-1"}, format="json"
    )
    report = Report.objects.get(pk=response.json()["id"])
    assert report.status == "ready", report.failure_reason
    result = verify_report(_pdf(report), trust_roots_pem=[sealing_credentials().trust_root_pem], ledger_keys=_keys())
    assert result.subject == "model:credit-risk/decision:d-1"


def test_a_failed_generation_is_recorded_and_can_be_retried(approved, auditor, settings):
    settings.DEBUG = False  # no certificate configured and not in development: sealing is refused
    client = _client(auditor)
    posted = client.post(
        "/api/v1/reports", {"kind": "version", "model": "credit-risk", "version": "1.0.0"}, format="json"
    ).json()
    body = client.get(posted["status_url"]).json()
    assert body["status"] == "failed"
    assert "REPORT_SIGNING_P12_FILE" in body["failure_reason"]
    settings.DEBUG = True
    retried = client.post(f"/api/v1/reports/{body['id']}/retry")
    assert retried.status_code == 202
    assert client.get(f"/api/v1/reports/{body['id']}").json()["status"] == "ready"


def _generate(user, version) -> Report:
    from governance.services.reports import report_request

    with _hooks(execute=True):
        report = report_request(actor=user, kind="version", version=version)
    report.refresh_from_db()
    assert report.status == "ready", report.failure_reason
    return report


def _pdf(report: Report) -> bytes:
    from django.core.files.storage import storages

    with storages["reports"].open(report.file_name, "rb") as fh:
        return fh.read()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_on_redis_generates_the_report(tmp_path, settings):
    from governance.demo import FULL_CARD
    from governance.services import registry
    from governance.services.access import access_grant

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        owner = make_user("w-owner", Role.MODEL_OWNER)
        officer = make_user("w-officer", Role.COMPLIANCE_OFFICER)
        pipe = make_user("w-pipe", Role.PIPELINE)
        auditor = make_user("w-auditor", Role.AUDITOR)
        model = registry.model_register(
            actor=owner, slug="m", name="M", intended_purpose="x", regulated_use="other", risk_tier="low", owner=owner
        )
        access_grant(actor=officer, model=model, grantee=pipe, actions=["register"])
        dataset, _ = registry.dataset_register(actor=pipe, name="d", uri="s3://d", sha256="e" * 64, size_bytes=1)
        version = registry.version_register(
            actor=pipe,
            model=model,
            version="1.0.0",
            artifact_sha256="f" * 64,
            artifact_uri="s3://m",
            datasets=[{"sha256": dataset.sha256, "role": "training"}],
        )
        registry.card_revise(actor=pipe, version=version, content=FULL_CARD)
        with running_worker(shutdown_timeout=60):
            from governance.services.reports import report_request

            report = report_request(actor=auditor, kind="version", version=version)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                close_old_connections()
                report.refresh_from_db()
                if report.status != "pending":
                    break
                time.sleep(0.2)
        assert report.status == "ready", report.failure_reason
    finally:
        app.conf.task_always_eager = eager


def _edit(statement: str, params: list) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_a_report_over_an_edited_decision_is_refused_and_alerts_officers(approved, pipeline, auditor):
    from governance.models import Alert, Decision
    from tests.governance.test_operations import item

    decisions.decision_log_batch(actor=pipeline, model=approved.model, items=[item(1, "1.0.0", timezone.now())])
    ledger_services.tree_integrate_all()
    decision = Decision.objects.get(decision_id="d-1")
    _edit("UPDATE governance_decision SET output_label = 'decline' WHERE id = %s", [decision.pk])
    client = _client(auditor)
    posted = client.post(
        "/api/v1/reports", {"kind": "decision", "model": "credit-risk", "decision_id": "d-1"}, format="json"
    ).json()
    body = client.get(posted["status_url"]).json()
    seq = Entry.objects.get(idempotency_key=decision.ledger_key).seq
    assert body["status"] == "failed"
    assert body["failure_reason"] == (
        "Refused: a record differs from the ledger: governance_decision: decision d-1 of credit-risk: "
        f'output_label: stored "decline" contradicts ledger seq {seq}, which says "approve"'
    )
    alert = Alert.objects.get(kind=Alert.Kind.INTEGRITY)
    assert alert.details["report_id"] == posted["id"]
    assert "output_label" in alert.summary or "output_label" in alert.details["problem"]


def test_generate_report_refuses_a_version_whose_approval_was_edited(approved, capsys, tmp_path):
    from django.core.management import CommandError, call_command

    ledger_services.tree_integrate_all()
    approval = approved.approvals.order_by("signed_at").first()
    _edit("UPDATE governance_approval SET signer_name = 'Someone Else' WHERE id = %s", [approval.pk])
    with pytest.raises(CommandError, match=r"governance_approval: approval \d+ by olga of credit-risk 1.0.0: "):
        call_command("generate_report", "version", "credit-risk", "1.0.0", "--out", str(tmp_path / "r.pdf"))
    assert not (tmp_path / "r.pdf").exists()


def _text(report: Report, tmp_path, *args: str) -> str:
    from tests.reports.helpers import pdf_text

    return " ".join(pdf_text(_pdf(report), tmp_path, *args).split())


def test_the_dossier_shows_each_signature_with_its_reason(version, olga, oscar, auditor, tmp_path):
    for officer, reason in ((olga, "validation report VR-17 reviewed"), (oscar, "risk accepted per RC-4")):
        approvals.approval_sign(signer=officer, version=version, password=PASSWORD, meaning="approved", reason=reason)
    text = _text(_generate(auditor, version), tmp_path)
    assert "Approvals and signatures" in text
    for reason in ("validation report VR-17 reviewed", "risk accepted per RC-4"):
        assert reason in text, text


def test_the_decision_report_prints_the_inputs_as_a_table(approved, pipeline, auditor, tmp_path):
    from governance.services.reports import report_request
    from tests.governance.test_operations import item

    decisions.decision_log_batch(actor=pipeline, model=approved.model, items=[item(7341, "1.0.0", timezone.now())])
    decision = approved.model.decisions.get(decision_id="d-7341")
    with _hooks(execute=True):
        report = report_request(actor=auditor, kind="decision", decision=decision)
    report.refresh_from_db()
    assert report.status == "ready", report.failure_reason
    text = _text(report, tmp_path, "-layout")  # layout order keeps each table row on one line
    for heading in ("Feature", "Value or redacted hash", "Source"):
        assert heading in text, text
    assert "income 7341 input snapshot, as logged with the decision" in text, text
    assert "{'income'" not in text


def test_a_generated_report_reconciles_with_its_entry_and_an_edited_request_is_named(version, olga):
    from governance import reconciliation
    from ledger import services as ledger_services

    report = _generate(olga, version)
    ledger_services.tree_integrate_all()
    assert reconciliation.reconcile(kinds=["report"]).mismatches == []
    Report.objects.filter(pk=report.pk).update(requested_at=report.requested_at - timedelta(days=1))
    [mismatch] = reconciliation.reconcile(kinds=["report"]).mismatches
    assert (mismatch.field, mismatch.record) == ("requested_at", f"report {report.pk} (version of credit-risk)")
