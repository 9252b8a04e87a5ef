"""The README's "Your first model" walkthrough, run as written against `make run`: the server, the
embedded worker with beat, the demo people, and `ledgerctl` from the shell. Only the browser step
(two officers sign) is taken through the API that the console's signature form also uses."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from model_ledger_verify.client.api import LedgerClient

ROOT = Path(__file__).resolve().parents[2]
SCRATCH = ("drift.ndjson", "decisions.ndjson")


def readme_block(name: str) -> str:
    """The shell block after `<!-- first-model:NAME -->` in the README."""
    match = re.search(rf"<!-- first-model:{name} -->\n```sh\n(.*?)\n```", (ROOT / "README.md").read_text(), re.S)
    assert match, f"README has no first-model:{name} block"
    return match.group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def make_run(tmp_path):
    """`make run` in its own process group, on a fresh VAR_DIR and a free port, with a small demo."""
    port = free_port()
    env = {**os.environ, "VAR_DIR": str(tmp_path / "var"), "PORT": str(port), "DEMO_DECISIONS": "20"}
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "MONITORING_EVALUATE_INTERVAL", "LEDGER_SIGNING_KEY_FILE"):
        env.pop(name, None)
    log = open(tmp_path / "make-run.log", "wb")  # noqa: SIM115 — closed after the process
    process = subprocess.Popen(
        ["make", "run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):  # noqa: S310 — local test server
                break
        except OSError:
            time.sleep(1)
    try:
        assert process.poll() is None, (tmp_path / "make-run.log").read_text()[-3000:]
        yield {"url": url, "env": env, "log": tmp_path / "make-run.log"}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
        for name in SCRATCH:
            (ROOT / name).unlink(missing_ok=True)


def bash(script: str, make_run: dict) -> subprocess.CompletedProcess:
    script = script.replace("http://127.0.0.1:8000", make_run["url"])
    return subprocess.run(
        ["bash", "-e", "-c", script], cwd=ROOT, env=make_run["env"], capture_output=True, text=True, timeout=600
    )


def test_the_first_model_walkthrough_reaches_monitored_production(make_run):
    tokens = readme_block("tokens")
    keep = '\nprintf "%s\\n" "$OWNER" "$OFFICER" "$LEDGER_TOKEN"'
    first = bash(f"{tokens}\n{readme_block('register')}{keep}", make_run)
    assert first.returncode == 0, first.stdout + first.stderr
    owner, officer, _pipeline = first.stdout.strip().splitlines()[-3:]
    assert "demo-pipeline (Pipeline): pipeline" in first.stdout
    assert "registered model card-fraud (high risk, owner demo-owner;" in first.stdout
    assert "registered card-fraud 1.0.0" in first.stdout
    assert "CI run ci-1 passed: 24 tests, 0 failed" in first.stdout
    assert "card-fraud 1.0.0 is in_review" in first.stdout
    refusal = first.stderr[first.stderr.index("only approved versions are deployed") :]
    assert "[FAIL] approvals: 0 of 2 approvals" in refusal

    # Step 4, the browser's part: two officers sign, through the API the signature form posts to.
    second_officer = subprocess.run(
        [".venv/bin/python", "manage.py", "issue_token", "demo-officer-2"],
        cwd=ROOT,
        env={**make_run["env"], "DJANGO_DEBUG": "1"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    for token in (officer, second_officer):
        LedgerClient(make_run["url"], token).post(
            "models/card-fraud/versions/1.0.0/approvals",
            {"meaning": "approved", "reason": "Reviewed card, data and CI.", "password": "demo-password"},
        )

    second = bash(f"{tokens}\n{readme_block('production')}", make_run)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "card-fraud 1.0.0 now serves production" in second.stdout
    assert "3 decisions sent, 3 new" in second.stdout
    posted = time.monotonic()

    as_owner = LedgerClient(make_run["url"], owner)
    alerts: list = []
    while time.monotonic() - posted < 60 and not alerts:
        time.sleep(2)
        alerts = [a for a in as_owner.get("models/card-fraud/alerts")["results"] if a["kind"] == "drift"]
    assert alerts, "no drift alert within a minute:\n" + make_run["log"].read_text()[-3000:]
    assert "input drift on amount" in alerts[0]["summary"]
