"""CI evidence: a CI run's JUnit test report, parsed on the server, for the `ci_evidence` gate."""

from __future__ import annotations

import hashlib
import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from governance import access, events
from governance.junit import JUnitError, junit_counts
from governance.models import CiEvidence, ModelVersion
from governance.records import rfc3339
from governance.services.concurrency import retried_on_duplicate
from governance.validation import Errors


@retried_on_duplicate
@transaction.atomic
def ci_evidence_post(
    *,
    actor: AbstractBaseUser,
    version: ModelVersion,
    run_id: str,
    report: bytes,
    url: str = "",
    test_report_sha256: str = "",
) -> CiEvidence:
    """Record a CI run's JUnit XML `report` for `version` and log `ci.evidence_posted`.

    The report is parsed here (governance/junit.py): the run passed only when it ran tests and
    none failed or errored. A report that cannot be parsed is refused; `test_report_sha256`, when
    given, must be the report's SHA-256. Pipelines granted `register` (and the model's owner) post
    it; the latest posting counts.
    """
    model = version.model
    access.require(actor, "register", version)
    errors = Errors()
    errors.text(run_id, "run_id", limit=200)
    errors.url(url, "url", limit=1000)
    digest = hashlib.sha256(report).hexdigest()
    errors.check(test_report_sha256 in ("", digest), "test_report_sha256", "Is not the SHA-256 of the report sent.")
    try:
        counts = junit_counts(report)
    except JUnitError as exc:
        errors.add("report", f"Not a JUnit XML report: {exc}")
        counts = None
    errors.raise_if_any()
    assert counts is not None
    evidence = CiEvidence.objects.create(
        version=version,
        run_id=run_id,
        url=url,
        test_report_sha256=digest,
        passed=counts.passed,
        tests=counts.tests,
        failures=counts.failures,
        errors=counts.errors,
        skipped=counts.skipped,
        posted_by=actor,
        posted_at=timezone.now(),
        ledger_key=f"ci.evidence_posted:{uuid.uuid4()}",
    )
    events.record(
        type="ci.evidence_posted",
        actor=actor,
        subject=f"model:{model.slug}",
        key=evidence.ledger_key,
        data={
            "model": model.slug,
            "version": version.version,
            "run_id": run_id,
            "url": url,
            "test_report_sha256": digest,
            "passed": counts.passed,
            "tests": counts.tests,
            "failures": counts.failures,
            "errors": counts.errors,
            "skipped": counts.skipped,
            "posted_at": rfc3339(evidence.posted_at),
        },
    )
    return evidence
