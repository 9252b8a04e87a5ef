"""Requesting, generating and downloading sealed audit reports.

Generation is data (builder) → bytes (renderer) → evidence (ledger proofs) → seal (pyHanko), run
by a Celery task enqueued on commit; it is safe to run twice and a failed one can be retried.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import logging
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone

from governance import access, events, receipts
from governance.errors import Conflict, InvalidInput, RecordDiffersFromLedger
from governance.models import Alert, Decision, ModelVersion, Report
from governance.models.reports import VERSION_KINDS
from governance.reconciliation.reports import report_check
from governance.records import rfc3339
from governance.reports import builder, disclosure, renderer, sealing, twin
from governance.reports.content import ReportContent
from governance.reports.credentials import seal_statement, sealing_credentials, tsa_roots
from governance.reports.tasks import report_generate_task
from governance.results import Written
from ledger import selectors as ledger_selectors
from ledger import services as ledger_services
from ledger import witnessing
from ledger.models import Entry
from model_ledger_verify.evidence import EVIDENCE_FORMAT

logger = logging.getLogger(__name__)


@transaction.atomic
def report_request(
    *,
    actor: AbstractBaseUser,
    kind: str,
    version: ModelVersion | None = None,
    decision: Decision | None = None,
    purpose: str = "",
    redaction: str = "",
) -> Report:
    """Queue a report about a version or a decision; generation starts after commit.

    A decision report is an edition for its audience (`redaction`): `authority` and `subject`
    show the inputs and need the read_inputs right; `internal` (pseudonymised) is the default
    for those without it.
    """
    if kind not in Report.Kind.values:
        raise InvalidInput("Unknown report kind.", errors={"kind": [f"One of {', '.join(Report.Kind.values)}."]})
    version_kind = kind in VERSION_KINDS
    subject = version if version_kind else decision
    if subject is None:
        needed = "version" if version_kind else "decision"
        raise InvalidInput(f"A {kind} report needs its {needed}.", errors={needed: ["Required."]})
    access.require(actor, "reports", subject)
    redaction = _redaction(actor, kind, redaction)
    report = Report.objects.create(
        kind=kind,
        model=subject.model,
        version=version if version_kind else decision.version,
        decision=decision,
        purpose=purpose,
        redaction=redaction,
        requested_by=actor,
        requested_at=timezone.now(),
    )
    report_generate_task.delay_on_commit(str(report.pk))
    return report


def _redaction(actor: AbstractBaseUser | None, kind: str, redaction: str) -> str:
    """Return the edition to generate; raise InvalidInput or Forbidden for one not allowed."""
    reads_inputs = actor is None or access.can(actor, "read_inputs")
    if kind in VERSION_KINDS:
        if redaction not in ("", Report.Redaction.AUTHORITY):
            raise InvalidInput("Redaction applies to decision reports only.", errors={"redaction": ["Omit it."]})
        return Report.Redaction.AUTHORITY
    if not redaction:
        return Report.Redaction.AUTHORITY if reads_inputs else Report.Redaction.INTERNAL
    if redaction not in Report.Redaction.values:
        raise InvalidInput(
            "Unknown redaction level.", errors={"redaction": [f"One of {', '.join(Report.Redaction.values)}."]}
        )
    if redaction != Report.Redaction.INTERNAL and not reads_inputs:
        access.require(actor, "read_inputs")
    return redaction


def _evidence(keys: list[str], facts: list[dict]) -> tuple[dict, dict[int, list[bytes]]]:
    """Return the manifest's ledger member for `keys` and the inclusion proofs, by seq, of
    those entries and of the ones `facts` (evidence.json) cite, against its checkpoint.
    """
    entries = ledger_services.entries_wait(keys)
    seqs = [entry.seq for entry in entries.values()] + [fact["seq"] for fact in facts]
    # The one checkpoint policy (governance.receipts), preferring a witnessed checkpoint.
    checkpoint = receipts.checkpoint_covering(max(seqs), witnessed=True)
    # Every proof the report carries, from one read of the tiles that hold their nodes.
    proofs = ledger_selectors.inclusion_proofs(seqs, checkpoint.size)
    cited = []
    for key in keys:
        entry = entries[key]
        proof = proofs[entry.seq]
        cited.append({"seq": entry.seq, "leaf_hash": bytes(entry.leaf_hash).hex(), "proof": [p.hex() for p in proof]})
    # The note carries the witnesses' cosignatures; `witnessed_checkpoint` names the latest
    # checkpoint meeting LEDGER_WITNESS_POLICY (this one, unless the witnesses have not cosigned it
    # yet) with the consistency proof that links the two.
    note = witnessing.cosigned_note(checkpoint)
    ledger = {"origin": settings.LEDGER_ORIGIN, "checkpoint": note, "entries": cited}
    ledger["witnessed_checkpoint"] = witnessing.witnessed_for(checkpoint.size)
    return ledger, proofs


def _check_records(report: Report) -> list[dict]:
    """Return the facts the report's records state in their leaves (`report_check`).

    Raise RecordDiffersFromLedger, naming record, field and seq, when a record the report
    would show differs from the ledger entry that recorded it.
    """
    # Every record must have its leaf to be checked: sequence what is still queued (most often
    # nothing, and then no transaction is opened nor the tree's lock taken).
    if not ledger_services.queue_is_empty():
        ledger_services.tree_integrate_all()
    mismatch, facts = report_check(report)
    if mismatch is not None:
        raise RecordDiffersFromLedger(f"Refused: a record differs from the ledger: {mismatch.line()}")
    return facts


def _integrity_alert(report: Report, error: RecordDiffersFromLedger) -> None:
    from governance.services.alerts import alert_open

    with transaction.atomic():
        alert_open(
            model=report.model,
            kind=Alert.Kind.INTEGRITY,
            dedupe_key=f"integrity:{report.model.slug}:{error.message}"[:300],
            summary=f"A {report.kind} report was refused: a record differs from the ledger.",
            details={"report_id": str(report.pk), "problem": error.message},
            version=report.version,
        )


def _evidence_file(
    ledger: dict,
    facts: list[dict],
    entries: dict[int, Entry],
    proofs: dict[int, list[bytes]],
    withheld: frozenset[int] = frozenset(),
) -> bytes:
    """Return evidence.json (docs/ledger-format.md): each fact with its leaf's exact bytes and
    inclusion proof against the manifest's checkpoint (`entries` and `proofs` by seq). A
    `withheld` entry carries its hash and proof only, and the facts it states are left out."""
    seqs = sorted({fact["seq"] for fact in facts})
    leaves, hidden = [], []
    for seq in seqs:
        entry = entries[seq]
        proof = [p.hex() for p in proofs[seq]]
        if seq in withheld:
            hidden.append({"seq": seq, "leaf_hash": bytes(entry.leaf_hash).hex(), "proof": proof})
        else:
            leaves.append({"seq": seq, "leaf": base64.b64encode(bytes(entry.leaf)).decode(), "proof": proof})
    evidence = {
        "format": EVIDENCE_FORMAT,
        "origin": ledger["origin"],
        "checkpoint": ledger["checkpoint"],
        "leaves": leaves,
        "facts": [fact for fact in facts if fact["seq"] not in withheld],
    }
    if hidden:
        evidence["withheld"] = hidden
    return sealing.canonical_json(evidence)


def _disclosure(report: Report, content: ReportContent, entries: dict[int, Entry]) -> disclosure.Disclosure:
    """Return what the report's edition withholds or names (governance.reports.disclosure)."""
    leaves = {seq: bytes(entry.leaf) for seq, entry in entries.items()}
    return disclosure.disclosure_plan(report, content, leaves)


def _requester(report: Report) -> str:
    user = report.requested_by
    if user is None:
        return ""
    return f"{user.get_full_name() or user.get_username()} ({user.get_username()})"


def report_build(report: Report, generated_at: datetime, *, development: bool) -> builder.Built:
    """Return the report's content, cited ledger keys and facts (plain data), as of `generated_at`."""
    version_builders = {Report.Kind.ANNEX_IV: builder.annex_iv_report, Report.Kind.VERSION: builder.version_dossier}
    if report.kind in version_builders:
        return version_builders[report.kind](
            report.version,
            report_id=str(report.pk),
            generated_at=generated_at,
            development=development,
            purpose=report.purpose,
            requester=_requester(report),
        )
    include_snapshot = report.requested_by is None or access.can(report.requested_by, "read_inputs")
    return builder.decision_report(
        report.decision,
        report_id=str(report.pk),
        generated_at=generated_at,
        development=development,
        include_snapshot=include_snapshot,
        redaction=report.redaction,
        purpose=report.purpose,
        requester=_requester(report),
    )


def render_and_seal(report: Report, generated_at: datetime) -> tuple[bytes, dict]:
    """Return (sealed PDF, manifest) for `report`, generated as of `generated_at`.

    Raise RecordDiffersFromLedger before building anything when a record it shows differs
    from its ledger entry.
    """
    facts = _check_records(report)
    credentials = sealing_credentials()
    built = report_build(report, generated_at, development=credentials.development)
    # The first page states the PAdES level the seal will have.
    statement = seal_statement(development=credentials.development, tsa_url=settings.REPORT_TSA_URL)
    shown = dataclasses.replace(built.content, title_rows=(*built.content.title_rows, ("Seal", statement)))
    entries = ledger_selectors.entries_at(fact["seq"] for fact in facts)
    # The attachments disclose no more than the pages: leaves withheld, or the people they name shown.
    plan = _disclosure(report, shown, entries)
    shown = disclosure.disclosed(shown, plan)
    content = renderer.render(shown)
    report_json = twin.twin_json(shown, built.facts)
    ledger, proofs = _evidence(built.ledger_keys, facts)
    evidence = _evidence_file(ledger, facts, entries, proofs, plan.withheld)
    manifest = sealing.build_manifest(
        content,
        report_id=str(report.pk),
        kind=report.kind,
        subject=report.subject,
        generated_at=generated_at,
        credentials=credentials,
        ledger=ledger,
        evidence_sha256=hashlib.sha256(evidence).hexdigest(),
        twin_sha256=hashlib.sha256(report_json).hexdigest(),
    )
    sealed = sealing.seal(
        sealing.attach_manifest(content, manifest, evidence=evidence, twin=report_json),
        credentials,
        tsa_url=settings.REPORT_TSA_URL,
        tsa_roots_pem=tsa_roots(),
        reason=f"Evidence of {report.subject} in {settings.LEDGER_ORIGIN}",
        location=settings.LEDGER_ORIGIN,
    )
    return sealed, manifest


def report_generate(*, report_id: str) -> Report:
    """Generate and store a pending or failed report; a ready one is returned untouched.

    On failure the report is marked failed with the reason, and the error is logged.
    """
    with transaction.atomic():
        report = (
            Report.objects.select_for_update(of=("self",))
            .select_related("model", "version", "decision")
            .get(pk=report_id)
        )
        if report.status == Report.Status.READY:
            return report
        report.attempts += 1
        report.save(update_fields=["attempts"])
    generated_at = timezone.now()
    try:
        sealed, manifest = render_and_seal(report, generated_at)
    except RecordDiffersFromLedger as exc:
        Report.objects.filter(pk=report.pk).update(status=Report.Status.FAILED, failure_reason=exc.message[:2000])
        _integrity_alert(report, exc)
        report.refresh_from_db()
        return report
    except Exception as exc:
        logger.exception("Report %s failed", report.pk)
        Report.objects.filter(pk=report.pk).update(status=Report.Status.FAILED, failure_reason=str(exc)[:2000])
        report.refresh_from_db()
        return report
    name = storages["reports"].save(f"{report.kind}/{report.pk}.pdf", ContentFile(sealed))
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        report.status, report.failure_reason, report.generated_at = Report.Status.READY, "", generated_at
        report.file_name, report.file_sha256 = name, hashlib.sha256(sealed).hexdigest()
        report.content_sha256, report.content_length = manifest["content_sha256"], manifest["content_length"]
        report.certificate_sha256, report.development = manifest["certificate_sha256"], manifest["development"]
        report.checkpoint_size = int(manifest["ledger"]["checkpoint"].split("\n")[1])
        report.ledger_entries = len(manifest["ledger"]["entries"])
        report.save(
            update_fields=[
                "status",
                "failure_reason",
                "generated_at",
                "file_name",
                "file_sha256",
                "content_sha256",
                "content_length",
                "certificate_sha256",
                "development",
                "checkpoint_size",
                "ledger_entries",
            ]
        )
        events.record(
            type="report.generated",
            actor=report.requested_by,
            subject=f"model:{report.model.slug}",
            key=f"report.generated:{report.pk}",
            data={
                "report_id": str(report.pk),
                "kind": report.kind,
                "subject": report.subject,
                "purpose": report.purpose,
                "redaction": report.redaction,
                "requested_at": rfc3339(report.requested_at),
                "generated_at": rfc3339(generated_at),
                "file_sha256": report.file_sha256,
                "content_sha256": report.content_sha256,
                "certificate_sha256": report.certificate_sha256,
                "checkpoint_size": report.checkpoint_size,
                "ledger_entries": report.ledger_entries,
                "development": report.development,
            },
        )
    return report


@transaction.atomic
def report_retry(*, actor: AbstractBaseUser, report: Report) -> Report:
    """Queue a failed report again."""
    access.require(actor, "reports", report)
    if report.status != Report.Status.FAILED:
        raise Conflict(f"Only failed reports are retried; this one is {report.status}.")
    Report.objects.filter(pk=report.pk).update(status=Report.Status.PENDING, failure_reason="")
    report_generate_task.delay_on_commit(str(report.pk))
    report.refresh_from_db()
    return report


@transaction.atomic
def report_download(*, actor: AbstractBaseUser, report: Report) -> Written[bytes]:
    """Return the PDF bytes with the ledger key of the download event; log who fetched what, when."""
    access.require(actor, "reports", report)
    if report.kind == Report.Kind.DECISION and report.redaction != Report.Redaction.INTERNAL:
        # The authority and subject editions show the decision's inputs: whoever downloads
        # one needs the right to read them, not only whoever requested it.
        access.require(actor, "read_inputs")
    if report.status != Report.Status.READY:
        raise Conflict(f"The report is {report.status}, not ready.")
    with storages["reports"].open(report.file_name, "rb") as fh:
        data = fh.read()
    if hashlib.sha256(data).hexdigest() != report.file_sha256:
        raise Conflict("The stored report does not match its recorded hash; it will not be served.")
    key = events.record(
        type="report.downloaded",
        actor=actor,
        subject=f"model:{report.model.slug}",
        key=f"report.downloaded:{report.pk}:{timezone.now().timestamp()}:{actor.pk}",
        data={"report_id": str(report.pk), "file_sha256": report.file_sha256, "at": rfc3339(timezone.now())},
    )
    return Written(data, key)
