"""End to end in a real browser: Playwright driving Debian's Chromium, headless, against the
live server with the demo story seeded (credit-risk: 1.1.0 serving, 2.1.0 waiting for review).

Skips with the reason when Chromium or the playwright package is missing (a newcomer's laptop);
under CI, REQUIRE_SERVICES=browser turns such a skip into a failure (tests/conftest.py).
Screenshots of the main pages go to $SCREENSHOT_DIR when it is set (docs/screenshots/ for the
README), otherwise to a temporary folder.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command

from governance.models import Approval, Report

CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "demo-password"


def _missing() -> str:
    if not Path(CHROMIUM).exists():
        return f"needs Chromium at {CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "needs the playwright package: pip install -r requirements.txt"
    return ""


pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(bool(_missing()), reason=_missing() or "-"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the test makes
    # between browser steps are plain synchronous calls, not from a coroutine.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def demo(live_server, settings, tmp_path, eager_tasks) -> str:
    """The demo story in the live server's database; plain-HTTP cookies; reports in-process,
    sealed with development credentials. Return the server's URL."""
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "reports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "reports")},
        },
    }
    call_command("seed_demo", "--decisions", "200", stdout=io.StringIO(), stderr=io.StringIO())
    return live_server.url


def sign_in(browser, url: str, username: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)
    page.goto(f"{url}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page


def test_an_officer_reviews_and_approves_a_version_end_to_end(browser, demo, shots):
    page = sign_in(browser, demo, "demo-officer-1")
    assert page.url == f"{demo}/queue"
    queue = page.get_by_test_id("queue")
    assert "credit-risk" in queue.inner_text() and "2.1.0" in queue.inner_text()
    page.screenshot(path=shots / "queue.png", full_page=True)

    page.get_by_role("link", name="2.1.0").click()
    page.wait_for_url(f"{demo}/models/credit-risk/versions/2.1.0")
    gates = page.get_by_test_id("gates")
    failing = gates.locator("tr[data-status=fail]")
    assert failing.count() >= 2
    assert gates.locator("tr[data-gate=model_card]").get_attribute("data-status") == "fail"
    assert gates.locator("tr[data-gate=approvals]").get_attribute("data-status") == "fail"
    page.screenshot(path=shots / "version.png", full_page=True)

    page.get_by_role("link", name="Review and sign").click()
    dialog = page.get_by_role("dialog")
    assert dialog.is_visible()
    signed = dialog.get_by_test_id("signed-hash").inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", signed)
    assert (
        dialog.get_by_test_id("approval-progress")
        .inner_text()
        .startswith("An approval now would be approval 1 of 2 needed")
    )
    assert not dialog.get_by_role("radio", checked=True).count()  # no meaning is chosen for the signer
    dialog.get_by_role("radio", name="Approved").check()
    dialog.get_by_label("Reason").fill("Validation report reviewed; card gaps accepted for review.")
    page.screenshot(path=shots / "signature-dialog.png")
    dialog.get_by_label("Your password").fill(PASSWORD)
    dialog.get_by_role("button", name="Sign").click()

    page.wait_for_url(re.compile(r".*/versions/2\.1\.0/approvals/\d+$"))
    approval = Approval.objects.get(version__version="2.1.0", signer__username="demo-officer-1")
    assert (approval.meaning, approval.signed_sha256) == ("approved", signed)
    assert page.get_by_test_id("approval-progress").inner_text() == "1 of 2 approvals: 1 more officer must approve"
    receipt = page.get_by_test_id("receipt")
    assert re.search(r"#\d+", receipt.inner_text())
    receipt.get_by_role("button", name=re.compile("Verify")).click()
    result = receipt.locator(".verify-result[data-verified]")
    result.wait_for()
    assert result.get_attribute("data-verified") == "true"
    assert "server: verified" in result.inner_text() and "browser: verified" in result.inner_text()
    page.screenshot(path=shots / "receipt.png", full_page=True)

    page.goto(f"{demo}/models/credit-risk")
    assert page.locator("svg[role=img]").count() >= 1
    assert "Rollback of production to 1.1.0" in page.inner_text("main")
    page.screenshot(path=shots / "model.png", full_page=True)
    page.goto(f"{demo}/ledger")
    assert page.get_by_test_id("entries").locator("tbody tr").count() == 50  # a page of the log, newest first
    page.screenshot(path=shots / "ledger.png", full_page=True)
    page.close()


def test_officers_see_signatures_and_auditors_have_nothing_to_approve(browser, demo, shots):
    officer = sign_in(browser, demo, "demo-officer-2")
    officer.goto(f"{demo}/models/credit-risk/versions/1.1.0")
    signatures = officer.get_by_test_id("approvals").locator("tbody tr")
    assert signatures.count() == 2
    text = officer.get_by_test_id("approvals").inner_text()
    assert "Zoë Ångström-Núñez" in text and "Αθηνά Παπαδοπούλου" in text
    assert officer.get_by_role("link", name="Review and sign").count() == 0  # deployed: nothing to sign
    officer.close()

    auditor = sign_in(browser, demo, "demo-auditor")
    auditor.goto(f"{demo}/models/credit-risk/versions/2.1.0")
    assert auditor.get_by_test_id("gates").is_visible()
    assert auditor.get_by_role("link", name="Review and sign").count() == 0
    assert auditor.locator("form[action$='/sign']").count() == 0

    auditor.goto(f"{demo}/decisions")
    auditor.get_by_label("Subject reference or decision id").fill("demo-00042")
    auditor.get_by_role("button", name="Search").click()
    auditor.get_by_role("link", name="demo-00042").click()
    assert "Credit utilisation is high" in auditor.inner_text("main")
    auditor.screenshot(path=shots / "decision.png", full_page=True)

    auditor.get_by_role("button", name="Request decision report (PDF)").click()
    auditor.wait_for_url(re.compile(r".*/reports#report-.*"))
    report = Report.objects.get()
    assert report.status == Report.Status.READY
    row = auditor.locator(f"#report-{report.pk}")
    assert "Ready" in row.inner_text()
    with auditor.expect_download() as download:
        row.get_by_role("link", name=re.compile("PDF")).click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    auditor.screenshot(path=shots / "reports.png", full_page=True)
    auditor.close()


def test_an_owner_and_an_officer_onboard_a_model_and_an_auditor_sees_no_review_queue(browser, demo, shots):
    owner = sign_in(browser, demo, "demo-owner")
    owner.goto(f"{demo}/models")
    owner.get_by_role("link", name="Register a model").click()
    owner.get_by_label("Slug").fill("card-fraud")
    owner.get_by_label("Name").fill("Card fraud")
    owner.get_by_label("Intended purpose").fill("Rank card payments for manual review.")
    owner.get_by_label("Risk tier").select_option("high")
    owner.get_by_label("Owner").fill("demo-owner")
    owner.get_by_label("Runbook").fill("https://wiki.example.com/runbooks/card-fraud")
    owner.screenshot(path=shots / "model-new.png", full_page=True)
    owner.get_by_role("button", name="Register model").click()
    owner.wait_for_url(f"{demo}/models/card-fraud")
    assert "Model card-fraud registered" in owner.inner_text("main")

    owner.get_by_role("link", name="Thresholds and policies").click()
    owner.get_by_label("Thresholds").fill("auc min 0.85")
    owner.get_by_label("Observe every (minutes)").fill("60")
    owner.get_by_label("PSI bound").fill("0.2")
    owner.get_by_label("KS bound").fill("0.1")
    owner.get_by_label("Retrain after drift in N windows").fill("3")
    owner.screenshot(path=shots / "policies.png", full_page=True)
    owner.get_by_role("button", name="Save thresholds and policies").click()
    owner.wait_for_url(f"{demo}/models/card-fraud")

    # 2.0.0 was rolled back and is approved again: the deploy page shows its gates before the button.
    owner.goto(f"{demo}/models/credit-risk/versions/2.0.0")
    owner.get_by_role("link", name="Deploy or roll back…").click()
    assert owner.get_by_test_id("gates").is_visible()
    assert owner.get_by_role("button", name=re.compile("Deploy 2.0.0|Roll back to 2.0.0")).count() == 1
    owner.screenshot(path=shots / "deploy.png", full_page=True)
    owner.close()

    officer = sign_in(browser, demo, "demo-officer-1")
    officer.goto(f"{demo}/models/card-fraud")
    officer.get_by_role("link", name="Access").click()
    officer.get_by_label("User or group").fill("demo-pipeline")
    officer.get_by_role("checkbox", name=re.compile("register:")).check()
    officer.get_by_role("checkbox", name=re.compile("log:")).check()
    officer.get_by_role("button", name="Grant").click()
    officer.wait_for_url(f"{demo}/models/card-fraud/access")
    grants = officer.get_by_test_id("grants").inner_text()
    assert "demo-pipeline" in grants and "register" in grants and "log" in grants
    officer.screenshot(path=shots / "access.png", full_page=True)
    assert officer.get_by_role("link", name="Review queue").count() == 1
    officer.close()

    auditor = sign_in(browser, demo, "demo-auditor")
    assert auditor.get_by_role("link", name="Review queue").count() == 0
    auditor.goto(f"{demo}/alerts")
    assert auditor.get_by_role("button", name="Acknowledge").count() == 0
    auditor.close()
