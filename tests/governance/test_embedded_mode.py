"""The embedded mode (`make run`): a real Celery worker with embedded beat on the SQLite broker runs
the periodic jobs, so a breaching observation opens its alert within a minute; `run_periodic` runs
the same jobs by hand."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import close_old_connections, connection
from django.utils import timezone

from config.celery import PERIODIC_JOBS
from governance.models import Alert, Observation
from governance.services import deployments, monitoring
from tests.governance import readiness
from tests.governance.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def serving_for_two_hours(version, pipeline, olga, oscar):
    with readiness.frozen(readiness.Clock(timezone.now().replace(microsecond=0) - timedelta(hours=2))):
        readiness.approve(version, olga, oscar, password=PASSWORD)
        return deployments.deployment_start(actor=pipeline, version=version, environment="production")


@pytest.fixture
def embedded_worker(tmp_path, signing_key_file):
    """`make run`'s worker: embedded beat, the SQLAlchemy transport on a SQLite file, default intervals."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": f"sqla+sqlite:///{tmp_path / 'celery-broker.sqlite3'}",
        "VAR_DIR": str(tmp_path),
        "LEDGER_SIGNING_KEY_FILE": str(signing_key_file),
        "LEDGER_ORIGIN": "test.example/ledger",
    }
    for name in ("MONITORING_EVALUATE_INTERVAL", "CELERY_TASK_ALWAYS_EAGER"):
        env.pop(name, None)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--beat", "--pool", "solo", "--loglevel", "INFO"],
        cwd=ROOT,
        env=env,
        stdout=open(tmp_path / "worker.log", "wb"),  # noqa: SIM115 — closed with the process
        stderr=subprocess.STDOUT,
    )
    yield worker
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
    print((tmp_path / "worker.log").read_text(errors="replace")[-4000:])


@pytest.mark.django_db(transaction=True)
def test_a_breaching_observation_opens_its_alert_within_a_minute(
    serving_for_two_hours, pipeline, model, embedded_worker
):
    now = timezone.now()
    item = readiness.window(
        "1.0.0", now, kind="feature_drift", feature="income", psi="0.384", ks="0.244"
    )  # over the bounds of 0.25 and 0.20
    monitoring.observation_post_batch(actor=pipeline, model=model, items=[item])
    posted = time.monotonic()
    alert = None
    while time.monotonic() - posted < 60 and alert is None and embedded_worker.poll() is None:
        time.sleep(1)
        close_old_connections()
        alert = Alert.objects.filter(model=model, kind="drift").first()
    assert embedded_worker.poll() is None, "the worker stopped"
    assert alert is not None, "no drift alert opened within 60 seconds"
    assert alert.summary.startswith("credit-risk 1.0.0: input drift on income")
    assert Observation.objects.get(model=model).evaluated_at is not None


@pytest.mark.django_db(transaction=True)
def test_run_periodic_once_judges_observations_by_hand(serving_for_two_hours, pipeline, model, capsys):
    item = readiness.window("1.0.0", timezone.now(), kind="prediction_drift", psi="0.31", ks="0.05")
    monitoring.observation_post_batch(actor=pipeline, model=model, items=[item])
    call_command("run_periodic", "monitoring", "--once")
    assert capsys.readouterr().out.startswith("monitoring: 1 (")
    assert list(Alert.objects.filter(model=model).values_list("kind", flat=True)) == ["drift"]


def test_run_periodic_refuses_an_unknown_job():
    with pytest.raises(CommandError, match="Unknown job nightly; choose from integrate, checkpoint"):
        call_command("run_periodic", "nightly", "--once")


def test_every_periodic_job_is_on_beats_schedule():
    from config.celery import app

    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert scheduled == {job.task for job in PERIODIC_JOBS.values() if job.enabled}
