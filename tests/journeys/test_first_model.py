"""The README's "Your first model" walkthrough, run as written against `make run`: the server, the
embedded worker with beat, the demo people, `ledgerctl` from the shell, and Chromium for the
browser step (two officers sign by clicking through the signature dialog)."""

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
from tests.console.test_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, _missing

pytestmark = [pytest.mark.browser, pytest.mark.skipif(bool(_missing()), reason=_missing() or "-")]

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


def sign_in_the_browser(url: str, username: str) -> None:
    """README step 4: sign in, open card-fraud 1.0.0 from the review queue, Review and sign with
    the meaning approved, the password re-entered; wait for the receipt."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{url}/")
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{url}/queue")
            page.get_by_test_id("queue").locator("tr", has_text="card-fraud").get_by_role("link", name="1.0.0").click()
            page.get_by_role("link", name="Review and sign").click()
            dialog = page.get_by_role("dialog")
            dialog.get_by_role("radio", name="Approved").check()
            dialog.get_by_label("Reason").fill("Reviewed card, data and CI.")
            dialog.get_by_label("Your password").fill(PASSWORD)
            dialog.get_by_role("button", name="Sign").click()
            page.wait_for_url(re.compile(r".*/card-fraud/versions/1\.0\.0/approvals/\d+$"))
        finally:
            browser.close()


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
    owner, _officer, _pipeline = first.stdout.strip().splitlines()[-3:]
    assert "demo-pipeline (Pipeline): pipeline" in first.stdout
    assert "registered model card-fraud (high risk, owner demo-owner;" in first.stdout
    assert "registered card-fraud 1.0.0" in first.stdout
    assert "CI run ci-1 passed: 24 tests, 0 failed" in first.stdout
    assert "card-fraud 1.0.0 is in_review" in first.stdout
    refusal = first.stderr[first.stderr.index("only approved versions are deployed") :]
    assert "[FAIL] approvals: 0 of 2 approvals" in refusal

    # Step 4 as the README says: each officer signs in Chromium, clicking through the dialog.
    for officer_name in ("demo-officer-1", "demo-officer-2"):
        sign_in_the_browser(make_run["url"], officer_name)

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
