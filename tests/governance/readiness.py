"""Helpers for the gate and monitoring tests, and what fixtures need to clear the gates.

`declare_policies` sets the model's metric thresholds, monitoring and retraining policies (as
its owner or a compliance officer); `reproducible` is the pipeline evidence to register a version
with; `post_ci` posts a passing CI test report (as a pipeline granted `register`). `Clock` and
`frozen` stand in for the clock, the one thing these tests mock.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from unittest import mock

from governance.services import approvals, ci_evidence, policies
from ledger import services as ledger_services
from ledger.models import Entry

THRESHOLDS = [{"metric": "auc", "operator": "min", "value": "0.80"}]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def declare_policies(model, actor, thresholds=None) -> None:
    policies.thresholds_set(actor=actor, model=model, thresholds=THRESHOLDS if thresholds is None else thresholds)
    policies.monitoring_policy_set(
        actor=actor, model=model, expected_interval_minutes=60, psi_threshold="0.25", ks_threshold="0.20"
    )
    policies.retraining_policy_set(actor=actor, model=model, drift_windows=3, max_age_days=365)


def reproducible(number: str) -> dict[str, str]:
    return {
        "code_commit": sha(f"commit-{number}")[:40],
        "pipeline_run_id": f"run-{number}",
        "environment_lock_sha256": sha(f"lock-{number}"),
    }


def post_ci(version, actor, passed: bool = True):
    return ci_evidence.ci_evidence_post(
        actor=actor,
        version=version,
        run_id=f"ci-{version.version}",
        report=junit_report(name=version.version, failures=0 if passed else 2),
        url=f"https://ci.example/{version.version}",
    )


def approve(version, *officers, password: str) -> None:
    for officer in officers:
        approvals.approval_sign(signer=officer, version=version, password=password, meaning="approved", reason="ok")


class Clock:
    """The only mock in these tests: `timezone.now`, moved forward by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@contextlib.contextmanager
def frozen(clock: Clock) -> Iterator[Clock]:
    with mock.patch("django.utils.timezone.now", clock):
        yield clock


def leaf(key: str) -> dict:
    """Return the ledger leaf of the event with idempotency key `key`, integrating the queue."""
    ledger_services.tree_integrate_all()
    return json.loads(bytes(Entry.objects.get(idempotency_key=key).leaf))


def window(version: str, end: datetime, **measures) -> dict:
    """An observation of `version` in production over the hour before `end`."""
    return {"version": version, "window_start": end - timedelta(hours=1), "window_end": end, **measures}


def junit_report(tests: int = 12, failures: int = 0, errors: int = 0, skipped: int = 0, name: str = "suite") -> bytes:
    """A JUnit XML report with these counts, as CI would write it."""
    cases = [f'<testcase classname="{name}" name="t{n}"/>' for n in range(tests - failures - errors - skipped)]
    cases += [f'<testcase name="f{n}"><failure message="assert"/></testcase>' for n in range(failures)]
    cases += [f'<testcase name="e{n}"><error message="boom"/></testcase>' for n in range(errors)]
    cases += [f'<testcase name="s{n}"><skipped/></testcase>' for n in range(skipped)]
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name="{name}" tests="{tests}" '
        f'failures="{failures}" errors="{errors}" skipped="{skipped}">{"".join(cases)}</testsuite></testsuites>\n'
    ).encode()
