"""The demo world, seeded once per test module, and its reports as extracted text and facts.

Seeding the demo takes seconds, so a module seeds it once inside a transaction that is rolled
back at the end; each test then reads the reports generated from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.storage import storages
from django.db import transaction
from django.test import override_settings

from governance.demo import PASSWORD, seed
from governance.demo.world import _Clock, _observe, _simulated
from governance.models import Observation, Report
from governance.services.reports import report_build, report_generate
from tests.reports.helpers import pdf_text

DEMO_DECISIONS = 300


@dataclass
class Generated:
    """A generated report: its text as pdftotext reads it, its facts, its record and its bytes."""

    text: str
    facts: dict
    report: Report
    pdf: bytes


@dataclass
class Demo:
    tmp: Path
    reports: dict[str, Generated] = field(default_factory=dict)

    def generate(self, kind: str, *, purpose: str = "", requester=None, **subject) -> Generated:
        report = Report.objects.create(
            kind=kind, purpose=purpose, requested_by=requester, requested_at=_now(), **subject
        )
        report = report_generate(report_id=str(report.pk))
        assert report.status == Report.Status.READY, report.failure_reason
        with storages["reports"].open(report.file_name, "rb") as fh:
            pdf = fh.read()
        facts = report_build(report, report.generated_at, development=True).facts
        # Reading order keeps a wrapped cell's words together; layout order keeps a table row on
        # one line. A fact is found when either extraction shows it.
        text = " ".join(pdf_text(pdf, self.tmp).split()) + " | " + " ".join(pdf_text(pdf, self.tmp, "-layout").split())
        return Generated(text, facts, report, pdf)


def _now():
    from django.utils import timezone

    return timezone.now()


def open_drift_alert(model) -> None:
    """Let the income band of the version serving production drift for a day, as the demo's
    2.0.0 did, so that the evaluation job opens a drift alert that nobody has handled yet."""
    serving = model.deployments.get(environment="production", ended_at__isnull=True).version
    last = Observation.objects.filter(version=serving).order_by("-window_end").first().window_end
    clock = _Clock(last)
    with _simulated(clock):
        _observe(User.objects.get(username="demo-pipeline"), model, serving.version, clock, 0, shift=7)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Demo]:
    tmp = tmp_path_factory.mktemp("demo")
    storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp / "reports")},
    }
    from django.conf import settings

    with (
        django_db_blocker.unblock(),
        override_settings(
            DEBUG=True,
            VAR_DIR=tmp,
            STORAGES={**settings.STORAGES, "reports": storage},
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ),
        transaction.atomic(),
    ):
        seed(PASSWORD, decision_count=DEMO_DECISIONS)
        yield Demo(tmp)
        transaction.set_rollback(True)
