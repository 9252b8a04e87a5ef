"""The console's pages, persona by persona: the API's permission matrix applied to pages.

Anonymous visitors are sent to the sign-in page; pipelines cannot use the console; an owner sees
their own models only (404 for the rest); officers, auditors and admins read everything; only
officers are offered the signature form, within separation of duties, and the approval service
checks it all again when a signature is submitted.
"""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test import Client

from governance.models import Alert, Approval, ModelVersion, Report
from governance.roles import Role
from governance.selectors import approvals as approval_selectors
from governance.services import alerts as alert_services
from governance.services import registry
from ledger import services as ledger_services
from ledger.models import Checkpoint, Entry, Submission
from tests.api.factories import PASSWORD, PERSONAS, World, dataset

pytestmark = pytest.mark.django_db

PIPELINES = ("pipeline_granted", "pipeline_stranger")
READ_ALL = ("officer_1", "officer_2", "auditor", "admin")
HUMANS = ("owner", "other_owner", *READ_ALL)
V110 = "/models/credit-risk/versions/1.1.0"


def expect(ok=(), hidden=(), forbidden=()) -> dict[str, int]:
    """Anonymous → 302 to sign in, pipelines → 403, then 200 / 404 / 403 as listed."""
    table = {"anonymous": 302, **dict.fromkeys(PIPELINES, 403)}
    table.update(dict.fromkeys(ok, 200))
    table.update(dict.fromkeys(hidden, 404))
    table.update(dict.fromkeys(forbidden, 403))
    assert sorted(table) == sorted(PERSONAS), f"row misses {set(PERSONAS) - set(table)}"
    return table


def first_approval(world: World) -> str:
    approval = world.v100.approvals.order_by("signed_at").first()
    return f"/models/credit-risk/versions/1.0.0/approvals/{approval.pk}"


PAGES: dict[str, tuple[str | Callable[[World], str], dict[str, int]]] = {
    "review queue": ("/queue", expect(ok=HUMANS)),
    "models": ("/models", expect(ok=HUMANS)),
    "credit-risk": ("/models/credit-risk", expect(ok=("owner", *READ_ALL), hidden=("other_owner",))),
    "churn-score": ("/models/churn-score", expect(ok=("other_owner", *READ_ALL), hidden=("owner",))),
    "a version": (V110, expect(ok=("owner", *READ_ALL), hidden=("other_owner",))),
    "a version of another's model": (
        "/models/churn-score/versions/0.1.0",
        expect(ok=("other_owner", *READ_ALL), hidden=("owner",)),
    ),
    "an unknown version": ("/models/credit-risk/versions/9.9.9", expect(hidden=HUMANS)),
    "the signature form": (
        f"{V110}/sign",
        expect(ok=("officer_1", "officer_2"), hidden=("other_owner",), forbidden=("owner", "auditor", "admin")),
    ),
    "a signature receipt": (first_approval, expect(ok=("owner", *READ_ALL), hidden=("other_owner",))),
    "decision search": ("/decisions?q=applicant-1", expect(ok=HUMANS)),
    "a decision": ("/models/credit-risk/decisions/d-00001", expect(ok=("owner", *READ_ALL), hidden=("other_owner",))),
    "alerts": ("/alerts", expect(ok=HUMANS)),
    "reports": ("/reports", expect(ok=HUMANS)),
    "ledger": ("/ledger", expect(ok=HUMANS)),
    "verifying offline": ("/ledger/offline", expect(ok=HUMANS)),
    "filtered ledger entries": ("/ledger?type=decision.logged", expect(ok=HUMANS)),
    "two versions compared": (
        "/models/credit-risk/compare?a=1.0.0&b=1.1.0",
        expect(ok=("owner", *READ_ALL), hidden=("other_owner",)),
    ),
    "API tokens": ("/account/tokens", expect(ok=HUMANS)),
}


@pytest.mark.parametrize("page", PAGES)
def test_each_page_answers_each_persona_as_the_matrix_says(page, world, client_for):
    target, expected = PAGES[page]
    url = target(world) if callable(target) else target
    got = {persona: client_for(persona).get(url).status_code for persona in PERSONAS}
    assert got == expected


def test_anonymous_visitors_are_sent_to_sign_in_and_back(world):
    for target, _ in PAGES.values():
        url = target(world) if callable(target) else target
        response = Client().get(url)
        assert (response.status_code, response["Location"]) == (302, f"/?next={quote(url, safe='/')}")


# --- Signing in and out ----------------------------------------------------------------------
def test_the_home_page_is_the_sign_in_form(db):
    response = Client().get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html and 'name="password"' in html
    assert 'lang="en"' in html and 'href="#main"' in html


def test_a_person_signs_in_with_username_and_password_and_lands_by_role(people):
    client = Client()
    response = client.post("/", {"username": "officer-1", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").url == "/queue"
    auditor = Client()
    auditor.post("/", {"username": "auditor", "password": PASSWORD})
    assert auditor.get("/").url == "/models"


def test_it_returns_to_the_page_asked_for_after_sign_in(world):
    client = Client()
    response = client.post(f"/?next={V110}", {"username": "auditor", "password": PASSWORD, "next": V110})
    assert response.url == V110


def test_a_wrong_password_does_not_sign_in(people):
    client = Client()
    response = client.post("/", {"username": "officer-1", "password": "nope"})
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert "enter a correct username and password" in response.content.decode()


def test_pipelines_cannot_sign_in_to_the_console(people):
    client = Client()
    response = client.post("/", {"username": "pipeline-granted", "password": PASSWORD})
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert "Pipeline service accounts cannot sign in to the console" in response.content.decode()


def test_a_pipeline_session_from_elsewhere_is_refused(world, client_for):
    response = client_for("pipeline_granted").get("/models/credit-risk")
    assert response.status_code == 403
    assert "API tokens" in response.content.decode()


def test_sign_out_ends_the_session(world, client_for):
    client = client_for("auditor")
    assert client.post("/sign-out").status_code == 302
    assert client.get("/queue").status_code == 302


# --- The review queue --------------------------------------------------------------------------
def queue_of(client: Client, query: str = "") -> list[str]:
    rows = client.get(f"/queue{query}").context["rows"]
    return [f"{row.version.model.slug} {row.version.version}" for row in rows]


def test_the_queue_lists_versions_waiting_for_review_oldest_first(world, client_for):
    assert queue_of(client_for("officer_1")) == ["credit-risk 1.1.0", "fraud-score 0.1.0", "churn-score 0.1.0"]


def test_the_queue_filters_by_model_risk_tier_and_status(world, client_for):
    officer = client_for("officer_1")
    assert queue_of(officer, "?model=fraud-score") == ["fraud-score 0.1.0"]
    assert queue_of(officer, "?risk_tier=high") == ["credit-risk 1.1.0"]
    assert queue_of(officer, "?status=in_review") == []


def test_the_queue_shows_each_version_with_its_gate_summary(world, client_for):
    html = client_for("officer_1").get("/queue").content.decode()
    assert "failing" in html and "Approvals satisfied" in html and "0 of 2" in html


def test_owners_see_only_their_own_models_in_the_queue(world, client_for):
    assert queue_of(client_for("owner")) == ["credit-risk 1.1.0", "fraud-score 0.1.0"]
    assert queue_of(client_for("other_owner")) == ["churn-score 0.1.0"]


# --- Model and version pages -------------------------------------------------------------------
def test_the_model_page_shows_ownership_deployments_timeline_and_a_chart(world, client_for):
    html = client_for("auditor").get("/models/credit-risk").content.decode()
    assert "https://wiki.example.com/runbooks/credit-risk" in html
    assert "1.0.0 deployed to production" in html
    assert "approved by Athena" in html
    assert "<svg" in html and "≥ 0.80" in html


def test_the_version_page_shows_facts_gates_card_diff_and_receipts(world, client_for):
    response = client_for("auditor").get(V110)
    html = response.content.decode()
    assert world.v110.artifact_sha256 in html
    assert 'data-gate="approvals" data-status="fail"' in html
    assert 'data-gate="artifact_hash" data-status="pass"' in html
    assert "Changes since 1.0.0" in html
    receipts = response.context["receipts"]
    assert receipts[0].label == "Version 1.1.0 registered" and receipts[0].seq is not None


def test_officers_are_offered_the_signature_form_with_the_hash_to_sign(world, client_for):
    response = client_for("officer_1").get(V110)
    html = response.content.decode()
    preview = approval_selectors.signature_preview(world.v110)
    assert "Review and sign" in html
    assert f'action="{V110}/sign"' in html
    assert preview["signed_sha256"] in html


@pytest.mark.parametrize("persona", ["owner", "auditor", "admin"])
def test_only_officers_see_an_approve_button(persona, world, client_for):
    html = client_for(persona).get(V110).content.decode()
    assert "Review and sign" not in html
    assert f'action="{V110}/sign"' not in html


@pytest.mark.parametrize("persona", ["owner", "auditor", "admin"])
def test_a_signature_posted_by_a_non_officer_is_refused(persona, world, client_for):
    response = client_for(persona).post(f"{V110}/sign", sign_form(world.v110))
    assert response.status_code == 403
    assert not world.v110.approvals.exists()


def test_an_officer_who_is_also_an_admin_may_not_sign(world, make_user, client_for):
    both = make_user("admin-officer", Role.ADMIN, Role.COMPLIANCE_OFFICER, superuser=True)
    client = client_for(both)
    html = client.get(V110).content.decode()
    assert "Review and sign" not in html
    assert "administrator and compliance officer are exclusive roles" in html
    assert client.post(f"{V110}/sign", sign_form(world.v110, password=PASSWORD)).status_code == 403
    assert not world.v110.approvals.exists()


def test_the_form_is_not_offered_against_separation_of_duties(world, make_user, client_for):
    """An officer who owns a model and registered its version may not sign it."""
    dual = make_user("dual", Role.MODEL_OWNER, Role.COMPLIANCE_OFFICER)
    model = registry.model_register(
        actor=dual,
        slug="dual-model",
        name="Dual",
        intended_purpose="Test.",
        regulated_use="other",
        risk_tier="low",
        owner=dual,
        runbook="https://wiki/dual",
    )
    train = dataset(dual, "dual-train")
    own = registry.version_register(
        actor=dual,
        model=model,
        version="1.0.0",
        artifact_sha256="b" * 64,
        artifact_uri="s3://dual",
        datasets=[{"sha256": train, "role": "training"}],
    )
    registry.card_revise(actor=dual, version=own, content={"model_details": "x"})
    client = client_for(dual)
    html = client.get("/models/dual-model/versions/1.0.0").content.decode()
    assert "Review and sign" not in html
    assert "Nobody may sign a version of a model they have owned at any time" in html
    assert client.get("/models/dual-model/versions/1.0.0/sign").status_code == 403
    response = client.post("/models/dual-model/versions/1.0.0/sign", sign_form(own))
    assert response.status_code == 403
    assert "Separation of duties forbids this signature" in response.content.decode()
    assert not own.approvals.exists()


def test_an_officer_who_approved_is_not_offered_a_second_approval(world, client_for):
    officer_1 = client_for("officer_1")
    assert officer_1.post(f"{V110}/sign", sign_form(world.v110)).status_code == 302
    assert "Review and sign" not in officer_1.get(V110).content.decode()
    assert "Review and sign" in client_for("officer_2").get(V110).content.decode()


# --- Signing -----------------------------------------------------------------------------------
def sign_form(version: ModelVersion, **overrides: str) -> dict[str, str]:
    preview = approval_selectors.signature_preview(version)
    return {
        "meaning": "approved",
        "reason": "Validation report reviewed.",
        "password": PASSWORD,
        "expected_sha256": preview["signed_sha256"],
        "card_revision": str(preview["card_revision"]),
        **overrides,
    }


def test_signing_writes_an_approval_and_shows_its_ledger_receipt(world, client_for):
    client = client_for("officer_1")
    response = client.post(f"{V110}/sign", sign_form(world.v110))
    approval = world.v110.approvals.get()
    assert response.status_code == 302
    assert response.url == f"{V110}/approvals/{approval.pk}"
    assert (approval.signer.username, approval.meaning, approval.authentication) == (
        "officer-1",
        "approved",
        "password re-entered",
    )
    entry = Entry.objects.get(idempotency_key=approval.ledger_key)
    assert Checkpoint.objects.order_by("-size").first().size > entry.seq
    html = client.get(response.url).content.decode()
    assert f"#{entry.seq}" in html
    assert bytes(entry.leaf_hash).hex()[:16] in html
    assert approval.signed_sha256 in html
    world.v110.refresh_from_db()
    assert world.v110.status == ModelVersion.Status.IN_REVIEW


def test_two_officers_approve_a_high_risk_version(world, client_for):
    client_for("officer_1").post(f"{V110}/sign", sign_form(world.v110))
    client_for("officer_2").post(f"{V110}/sign", sign_form(world.v110))
    world.v110.refresh_from_db()
    assert world.v110.status == ModelVersion.Status.APPROVED


def test_a_rejection_is_a_signature_too(world, client_for):
    client_for("officer_1").post(f"{V110}/sign", sign_form(world.v110, meaning="rejected", reason="Card incomplete."))
    world.v110.refresh_from_db()
    assert world.v110.status == ModelVersion.Status.REJECTED


def test_a_wrong_password_shows_an_error_and_writes_nothing(world, client_for):
    before = (Approval.objects.count(), Entry.objects.count(), Submission.objects.count())
    response = client_for("officer_1").post(f"{V110}/sign", sign_form(world.v110, password="wrong"))
    assert response.status_code == 400
    assert "Incorrect password." in response.content.decode()
    assert (Approval.objects.count(), Entry.objects.count(), Submission.objects.count()) == before


def test_a_missing_reason_is_asked_for(world, client_for):
    response = client_for("officer_1").post(f"{V110}/sign", sign_form(world.v110, reason=""))
    assert response.status_code == 400
    assert not Approval.objects.filter(version=world.v110).exists()


def test_it_refuses_to_sign_a_record_that_changed_since_it_was_shown(world, client_for):
    response = client_for("officer_1").post(f"{V110}/sign", sign_form(world.v110, expected_sha256="0" * 64))
    assert response.status_code == 409
    assert "changed since it was shown" in response.content.decode()
    assert not world.v110.approvals.exists()


def test_every_form_is_protected_against_cross_site_requests(world, people):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["officer_1"])
    assert client.post(f"{V110}/sign", sign_form(world.v110)).status_code == 403
    assert not world.v110.approvals.exists()


# --- Verifying a receipt -------------------------------------------------------------------------
def verify(client: Client, seq: int):
    return client.post(f"/ledger/entries/{seq}/verify", HTTP_ACCEPT="application/json")


def test_verify_checks_an_entry_against_the_signed_checkpoint(world, client_for):
    seq = Entry.objects.get(idempotency_key=world.v110.ledger_key).seq
    result = verify(client_for("officer_1"), seq).json()
    assert result["verified"] is True
    assert [step["step"] for step in result["steps"]] == ["leaf", "checkpoint", "inclusion", "record"]
    assert result["checkpoint"].startswith("test.example/ledger\n")
    assert result["differs"] == ""


@pytest.mark.parametrize(
    ("table", "assignment", "record"),
    [
        ("governance_modelversion", "description = 'edited'", "version"),
        ("governance_approval", "reason = 'edited'", "approval"),
        ("governance_decision", "output_label = 'decline'", "decision"),
        ("governance_deployment", "change_ticket = 'CHG-0'", "deployment"),
    ],
)
def test_verify_shows_a_record_that_differs_from_its_entry(world, client_for, table, assignment, record):
    row = {
        "version": world.v100,
        "approval": world.v100.approvals.first(),
        "decision": world.decisions[0],
        "deployment": world.deployment,
    }[record]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {assignment} WHERE id = %s", [row.pk])  # noqa: S608
    seq = ledger_services.entries_wait([row.ledger_key])[row.ledger_key].seq
    result = verify(client_for("auditor"), seq).json()
    assert result["verified"] is False
    assert result["differs"] == f"This record differs from ledger entry #{seq}."
    assert result["steps"][-1]["step"] == "record" and result["steps"][-1]["passed"] is False
    page = client_for("auditor").post(f"/ledger/entries/{seq}/verify").content.decode()
    assert f"this record differs from ledger entry #{seq}" in page
    assert '<span class="badge badge-ok">verified</span>' not in page


def test_verify_without_script_renders_a_page(world, client_for):
    seq = Entry.objects.get(idempotency_key=world.v110.ledger_key).seq
    response = client_for("auditor").post(f"/ledger/entries/{seq}/verify")
    assert response.status_code == 200
    assert "verified" in response.content.decode()


def test_verify_signs_a_checkpoint_when_none_covers_the_entry_yet(world, client_for):
    client_for("officer_1").post(f"{V110}/sign", sign_form(world.v110))
    alert, _ = alert_services.alert_open(
        model=world.model, kind="drift", dedupe_key="fresh", summary="Fresh.", details={}
    )
    entry = ledger_services.entries_wait([alert.ledger_key])[alert.ledger_key]
    assert Checkpoint.objects.order_by("-size").first().size <= entry.seq
    assert verify(client_for("auditor"), entry.seq).json()["verified"] is True


def test_verify_reports_a_proof_that_does_not_lead_to_the_signed_root(world, client_for, monkeypatch):
    from console import receipts

    real = receipts.ledger_selectors.inclusion_proof

    def tampered(index, size, **kwargs):
        proof = real(index, size, **kwargs)
        return [bytes(32), *proof[1:]]

    monkeypatch.setattr(receipts.ledger_selectors, "inclusion_proof", tampered)
    seq = Entry.objects.get(idempotency_key=world.v110.ledger_key).seq
    result = verify(client_for("auditor"), seq).json()
    assert result["verified"] is False
    assert next(step for step in result["steps"] if step["step"] == "inclusion") == {
        "step": "inclusion",
        "passed": False,
        "detail": "The inclusion proof fails: inclusion proof does not lead to the expected root.",
    }


def test_owners_verify_facts_of_their_models_only(world, client_for):
    seq = Entry.objects.get(idempotency_key=world.v110.ledger_key).seq
    assert verify(client_for("owner"), seq).status_code == 200
    assert verify(client_for("other_owner"), seq).status_code == 404
    assert verify(client_for("auditor"), 10**9).status_code == 404


# --- Decisions -----------------------------------------------------------------------------------
def test_decisions_are_found_by_subject_reference_or_decision_id(world, client_for):
    auditor = client_for("auditor")
    by_subject = auditor.get("/decisions", {"q": "applicant-1"}).context["decisions"]
    assert sorted(d.decision_id for d in by_subject) == ["d-00001", "d-00002"]
    by_id = auditor.get("/decisions", {"q": "d-00003"}).context["decisions"]
    assert [d.decision_id for d in by_id] == ["d-00003"]
    assert list(client_for("other_owner").get("/decisions", {"q": "applicant-1"}).context["decisions"]) == []


def test_the_decision_page_explains_and_proves_the_decision(world, client_for):
    response = client_for("auditor").get("/models/credit-risk/decisions/d-00001")
    html = response.content.decode()
    assert "Credit utilisation is high" in html and "applicant-1" in html
    assert "Request decision report" in html
    assert response.context["receipts"][0].seq is not None


# --- Alerts --------------------------------------------------------------------------------------
@pytest.fixture
def alert(world) -> Alert:
    alert, _ = alert_services.alert_open(
        model=world.model, kind="drift", dedupe_key="drift:income", summary="Income band drifts.", details={}
    )
    return alert


def test_owners_and_officers_acknowledge_and_resolve_alerts(alert, client_for):
    owner = client_for("owner")
    assert "Acknowledge" in owner.get("/alerts").content.decode()
    owner.post(f"/alerts/{alert.pk}/acknowledge", {"note": "Looking."})
    alert.refresh_from_db()
    assert (alert.state, alert.acknowledgement_note) == ("acknowledged", "Looking.")
    officer = client_for("officer_1")
    response = officer.post(f"/alerts/{alert.pk}/resolve", {"note": ""}, follow=True)
    assert "Say how the alert was resolved." in response.content.decode()
    officer.post(f"/alerts/{alert.pk}/resolve", {"note": "Rolled back."})
    alert.refresh_from_db()
    assert alert.state == "resolved"


def test_a_note_that_does_not_parse_is_refused_never_dropped_from_the_acknowledgement(alert, client_for):
    owner = client_for("owner")
    for note in ("x" * 10_001, "Looking\x00."):
        response = owner.post(f"/alerts/{alert.pk}/acknowledge", {"note": note}, follow=True)
        assert "The note is not valid" in response.content.decode()
        alert.refresh_from_db()
        assert (alert.state, alert.acknowledgement_note) == ("open", "")


def test_auditors_see_alerts_but_do_not_handle_them(alert, client_for):
    auditor = client_for("auditor")
    html = auditor.get("/alerts").content.decode()
    assert "Income band drifts." in html and ">Acknowledge</button>" not in html and "/acknowledge" not in html
    assert auditor.post(f"/alerts/{alert.pk}/acknowledge").status_code == 403
    assert client_for("other_owner").post(f"/alerts/{alert.pk}/acknowledge").status_code == 404
    alert.refresh_from_db()
    assert alert.state == "open"


# --- Reports ---------------------------------------------------------------------------------------
@pytest.fixture
def development_seal(settings, tmp_path, eager_tasks):
    """Reports sealed with throwaway development credentials, generated in-process."""
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "reports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "reports")},
        },
    }


def test_a_report_is_requested_generated_and_downloaded(
    world, client_for, development_seal, django_capture_on_commit_callbacks
):
    auditor = client_for("auditor")
    with django_capture_on_commit_callbacks(execute=True):
        response = auditor.post("/reports", {"kind": "version", "subject": "credit-risk 1.0.0", "purpose": "Audit"})
    assert response.status_code == 302
    report = Report.objects.get()
    assert (report.status, report.requested_by.username, report.purpose) == ("ready", "auditor", "Audit")
    html = auditor.get("/reports").content.decode()
    assert f"/reports/{report.pk}/download" in html
    download = auditor.get(f"/reports/{report.pk}/download")
    assert download["Content-Type"] == "application/pdf"
    assert download.content.startswith(b"%PDF")
    assert (
        Submission.objects.filter(type="report.downloaded").exists()
        or Entry.objects.filter(idempotency_key=download["X-Ledger-Key"]).exists()
    )
    assert client_for("other_owner").get(f"/reports/{report.pk}/download").status_code == 404


def test_a_decision_report_is_requested_from_the_decision_page(
    world, client_for, development_seal, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client_for("owner").post("/reports", {"kind": "decision", "model": "credit-risk", "decision_id": "d-00001"})
    report = Report.objects.get()
    assert (report.kind, report.decision.decision_id) == ("decision", "d-00001")


def test_a_decision_report_edition_and_an_annex_iv_report_are_requested_from_the_console(
    world, client_for, development_seal, django_capture_on_commit_callbacks
):
    decision_page = client_for("auditor").get("/models/credit-risk/decisions/d-00001").content.decode()
    assert 'data-testid="report-redaction"' in decision_page
    assert 'value="annex-iv"' in client_for("auditor").get("/reports").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client_for("auditor").post(
            "/reports", {"kind": "decision", "model": "credit-risk", "decision_id": "d-00001", "redaction": "subject"}
        )
        client_for("auditor").post("/reports", {"kind": "annex-iv", "subject": "credit-risk 1.0.0"})
        refused = client_for("owner").post(
            "/reports", {"kind": "decision", "model": "credit-risk", "decision_id": "d-00001", "redaction": "subject"}
        )
    assert refused.status_code == 302
    kinds = sorted(Report.objects.values_list("kind", "redaction", "status"))
    assert kinds == [("annex-iv", "authority", "ready"), ("decision", "subject", "ready")]


def test_owners_request_and_see_reports_of_their_models_only(world, client_for):
    assert (
        client_for("other_owner").post("/reports", {"kind": "version", "subject": "credit-risk 1.0.0"}).status_code
        == 404
    )
    versions = client_for("owner").get("/reports").context["versions"]
    assert {v.model.slug for v in versions} == {"credit-risk", "fraud-score"}


# --- The ledger ------------------------------------------------------------------------------------
def test_the_ledger_page_shows_the_checkpoint_and_recent_entries_to_readers(world, client_for):
    response = client_for("auditor").get("/ledger")
    latest = Checkpoint.objects.order_by("-size").first()
    assert response.context["checkpoint"] == latest
    assert latest.note in response.content.decode()
    entries = response.context["entries"]
    assert len(entries) == min(50, Entry.objects.count())  # one page, newest first
    assert entries[0]["seq"] == Entry.objects.order_by("-seq").first().seq


def test_the_ledger_lists_no_entries_to_those_without_ledger_access(world, client_for):
    response = client_for("owner").get("/ledger")
    assert response.context["entries"] == []
    assert "Entries are listed for auditors" in response.content.decode()


# --- Accessibility basics --------------------------------------------------------------------------
class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, str]] = []
        self.labels: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag in {"input", "select", "textarea"} and values.get("type") not in {"hidden", "submit", "radio"}:
            self.inputs.append(values)
        if tag == "label" and values.get("for"):
            self.labels.add(values["for"])


def test_every_input_has_a_label(world, client_for, alert):
    officer = client_for("officer_1")
    for url in ("/", "/queue", V110, f"{V110}/sign", "/decisions", "/reports", "/alerts"):
        parser = _Form()
        parser.feed((Client() if url == "/" else officer).get(url).content.decode())
        unlabelled = [i for i in parser.inputs if i.get("id") not in parser.labels and not i.get("aria-label")]
        assert parser.inputs and unlabelled == [], url


def test_pages_carry_a_language_a_skip_link_and_no_outside_resources(world, client_for):
    html = client_for("officer_1").get(V110).content.decode()
    assert '<html lang="en">' in html
    assert '<a class="skip-link" href="#main">' in html and '<main id="main"' in html
    head = html.split("<body>")[0]
    assert "http://" not in head and "https://" not in head  # scripts and styles come from /static/


def test_a_dataset_known_only_by_a_reference_hash_is_marked_on_the_version_page_and_in_the_dossier(world, people):
    from datetime import UTC, datetime

    from django.test import Client

    from governance.models import Dataset
    from governance.reports.builder import version_dossier

    Dataset.objects.filter(name="test").update(hash_kind="reference")  # as an MLflow import of s3:// data records it
    client = Client()
    client.force_login(people["auditor"])
    html = client.get(V110).content.decode()
    assert html.count(">reference only</span>") == 1
    built = version_dossier(world.v110, report_id="r-1", generated_at=datetime.now(UTC), development=True)
    [data] = [section for section in built.content.sections if section.heading == "3. Data"]
    cells = [cell for row in data.blocks[0].rows for cell in row]
    assert sum("(reference only: content never read)" in cell for cell in cells) == 1


@pytest.mark.parametrize("url", ["/reports", "/models/credit-risk/versions/1.1.0/sign"])
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_pages_that_take_a_form_refuse_other_methods(url, method, world, client_for):
    response = getattr(client_for("officer_1"), method)(url)
    assert response.status_code == 405
    assert sorted(response["Allow"].split(", ")) == ["GET", "POST"]
