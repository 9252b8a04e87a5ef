"""The self-hosted topology, as docker-compose.yml runs it but as plain processes: gunicorn, a Celery
worker and Celery beat, each with its own VAR_DIR, on one PostgreSQL and one Redis, with sealed
reports in an S3 bucket (moto's server on the loopback standing in for MinIO).

Everything after the setup goes over HTTP to gunicorn: a report requested there is sealed by
the worker into the bucket and downloaded from gunicorn; an observation over its drift bound,
posted there, is judged by the worker on beat's schedule, and the alert it opens is
acknowledged and resolved there.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from knox.models import AuthToken

from config.celery import app
from governance.roles import Role
from governance.services import deployments
from ledger.models import SigningKey
from model_ledger_verify.report import verify_report
from tests.governance import readiness
from tests.governance.world import (  # noqa: F401 — fixtures are found by name
    PASSWORD,
    alice,
    datasets,
    make_user,
    model,
    olga,
    oscar,
    pipeline,
    version,
)
from tests.objectstore import s3  # noqa: F401 — a fixture, found by name
from tests.reports.helpers import ec_key, make_authority, write_p12

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "ledger-reports"
CREDIT = "/api/v1/models/credit-risk"
# Seconds each wait may take before the test fails saying what did not happen: generous, for a
# loaded machine (on two busy cores gunicorn answers after about 10 s, the report takes 5 s).
STARTUP_TIMEOUT = 60
WORK_TIMEOUT = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    """The test database (test_<name>), which every service process must share with this one."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Topology:
    """The three service processes, each in its own process group, logging to its own file."""

    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.tmp, self.env = tmp, env
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.processes: dict[str, subprocess.Popen] = {}
        self.var_dirs: list[Path] = []
        self.serving = False

    def start(self, name: str, *args: str) -> None:
        var_dir = self.tmp / name / "var"
        var_dir.mkdir(parents=True)
        self.var_dirs.append(var_dir)
        with open(self.tmp / name / "log", "wb") as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", *args],
                cwd=ROOT,
                env={**self.env, "VAR_DIR": str(var_dir)},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self, name: str) -> str:
        return (self.tmp / name / "log").read_text(errors="replace")

    def logs(self) -> str:
        return "\n".join(f"--- {name} (last 3000 characters)\n{self.log(name)[-3000:]}" for name in self.processes)

    def until(self, what: str, probe: Callable[[], Any], timeout: float = WORK_TIMEOUT) -> Any:
        """Return probe()'s first truthy answer; fail naming `what` after `timeout` seconds or
        as soon as a service process has stopped."""
        deadline = time.monotonic() + timeout
        while True:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    pytest.fail(f"{name} stopped (exit {process.returncode}) waiting for {what}\n{self.logs()}")
            answer = probe()
            if answer:
                return answer
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} within {timeout} s\n{self.logs()}")
            time.sleep(0.25)

    def stop(self) -> None:
        for process in self.processes.values():
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def call(self, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict[str, str], bytes]:
        if not self.serving:
            self.serving = self.until("answer from gunicorn's /health", self.healthy, timeout=STARTUP_TIMEOUT)
        request = urllib.request.Request(  # noqa: S310 — the loopback server this test started
            f"{self.url}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def json(self, method: str, path: str, token: str, body: dict | None = None, expect: int = 200) -> dict:
        status, _, content = self.call(method, path, token, body)
        assert status == expect, f"{method} {path}: {status} {content[:2000]!r}"
        return json.loads(content)

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:  # noqa: S310
                return response.status == 200
        except OSError:
            return False


@pytest.fixture
def seal(tmp_path) -> tuple[Path, Path, bytes]:
    """A report seal in a PKCS #12 file with its passphrase file, and the root it chains to."""
    authority = make_authority()
    key = ec_key()
    passphrase = tmp_path / "seal.pass"
    passphrase.write_bytes(b"a-seal-passphrase\n")
    p12 = write_p12(
        tmp_path / "seal.p12", key, authority.issue("Topology seal", key), [authority.cert], b"a-seal-passphrase"
    )
    return p12, passphrase, authority.pem


@pytest.fixture
def serving(version, pipeline, olga, oscar):
    """credit-risk 1.0.0 approved and serving production for the last two hours."""
    with readiness.frozen(readiness.Clock(timezone.now().replace(microsecond=0) - timedelta(hours=2))):
        readiness.approve(version, olga, oscar, password=PASSWORD)
        return deployments.deployment_start(actor=pipeline, version=version, environment="production")


@pytest.fixture
def topology(transactional_db, tmp_path, s3, seal, signing_key_file) -> Iterator[Topology]:
    s3.client.create_bucket(Bucket=BUCKET)
    p12, passphrase, _ = seal
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("REPORT_", "TILE_", "MONITORING_", "LEDGER_"))},
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": "topology-test-secret-key-not-for-production-0123456789",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "LEDGER_ORIGIN": "test.example/ledger",
        "LEDGER_SIGNING_KEY_FILE": str(signing_key_file),
        "REPORT_SIGNING_P12_FILE": str(p12),
        "REPORT_SIGNING_P12_PASSPHRASE_FILE": str(passphrase),
        "REPORT_S3_BUCKET": BUCKET,
        "REPORT_S3_ENDPOINT_URL": s3.endpoint,
        "REPORT_S3_REGION": "us-east-1",
        "REPORT_S3_ADDRESSING_STYLE": "path",
        # Beat's jobs every second or two, so that a breach is judged at once.
        "MONITORING_EVALUATE_INTERVAL": "2",
        "LEDGER_INTEGRATE_INTERVAL": "1",
        "LEDGER_CHECKPOINT_INTERVAL": "2",
    }
    app.control.purge()  # messages other tests left on this broker
    services = Topology(tmp_path, env)
    try:
        services.start("web", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{services.port}", "--workers", "1")
        services.start("worker", "celery", "-A", "config", "worker", "--pool", "solo", "--without-mingle",
                       "--without-gossip", "--loglevel", "INFO")  # fmt: skip
        services.start("beat", "celery", "-A", "config", "beat", "--loglevel", "INFO")
        # They boot while the test builds its world; the first request waits for gunicorn.
        yield services
    finally:
        services.stop()
        app.control.purge()


def _token(user) -> str:
    return AuthToken.objects.create(user)[1]


def test_a_report_and_a_drift_alert_go_through_web_worker_beat_and_the_bucket(
    topology, s3, seal, serving, pipeline, alice, olga
):
    """One set of processes for both journeys (starting them is most of the test's time); the
    worker seals the report while beat's schedule brings the observation to be judged."""
    tokens = {user.username: _token(user) for user in (pipeline, alice, olga, make_user("audrey", Role.AUDITOR))}

    # A pipeline posts an observation over the model's drift bound (psi 0.25) ...
    end = timezone.now()
    observation = {
        "version": "1.0.0",
        "window_start": (end - timedelta(hours=1)).isoformat(),
        "window_end": end.isoformat(),
        "kind": "feature_drift",
        "feature": "income",
        "psi": "0.384",
        "ks": "0.05",
    }
    topology.json("POST", f"{CREDIT}/observations", tokens["pipeline"], observation, expect=201)
    # ... and an auditor asks for the version's dossier.
    body = {"kind": "version", "model": "credit-risk", "version": "1.0.0"}
    requested = topology.json("POST", "/api/v1/reports", tokens["audrey"], body, expect=202)

    # The worker seals the report into the bucket; gunicorn serves it from there.
    def finished() -> dict | None:
        report = topology.json("GET", requested["status_url"], tokens["audrey"])
        return report if report["status"] != "pending" else None

    report = topology.until("report generated by the worker", finished)
    assert report["status"] == "ready", report["failure_reason"]
    status, headers, pdf = topology.call("GET", report["download_url"], tokens["audrey"])
    assert (status, headers["Content-Type"]) == (200, "application/pdf")
    assert pdf.startswith(b"%PDF-") and hashlib.sha256(pdf).hexdigest() == report["file_sha256"]
    keys = list(SigningKey.objects.values_list("verifier_key", flat=True))
    verified = verify_report(pdf, trust_roots_pem=[seal[2]], ledger_keys=keys)
    assert (verified.report_id, verified.development) == (report["id"], False)
    key = f"version/{report['id']}.pdf"
    assert s3.keys(BUCKET) == [key]
    assert s3.client.get_object(Bucket=BUCKET, Key=key)["Body"].read() == pdf
    assert [path for var in topology.var_dirs for path in var.rglob("*.pdf")] == [], "a PDF on a process's disk"

    # Beat has the worker judge the observation: the alert opens, and people close it over HTTP.
    def opened() -> dict | None:
        alerts = topology.json("GET", f"{CREDIT}/alerts?kind=drift", tokens["olga"])["results"]
        return alerts[0] if alerts else None

    alert = topology.until("drift alert opened by the worker on beat's schedule", opened)
    assert alert["state"] == "open" and alert["summary"].startswith("credit-risk 1.0.0: input drift on income")
    path = f"{CREDIT}/alerts/{alert['id']}"
    acknowledged = topology.json("POST", f"{path}/acknowledge", tokens["alice"], {"note": "On it."})
    assert (acknowledged["state"], acknowledged["acknowledged_by"]) == ("acknowledged", "alice")
    resolved = topology.json("POST", f"{path}/resolve", tokens["olga"], {"note": "Feed fixed."})
    assert (resolved["state"], resolved["resolved_by"]) == ("resolved", "olga")
    assert topology.json("GET", path, tokens["alice"])["resolution_note"] == "Feed fixed."
