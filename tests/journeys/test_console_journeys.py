"""The officer's and the auditor's journeys through the console, in Chromium (Playwright with the
Debian browser), against the live server with the demo story seeded: credit-risk 1.1.0 serving,
2.1.0 waiting for review.

The officer reviews 2.1.0 against the version before it, signs by clicking through the signature
dialog, verifies the receipt, and takes an API token for their scripts; a second officer signs
too. The auditor browses decisions, alerts, the ledger and reports with filters, verifies a
receipt, downloads a sealed report and CSV exports. Screenshots of each page go to
$SCREENSHOT_DIR (docs/screenshots/ for the README).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from knox.models import AuthToken

from governance.models import Approval, ModelVersion
from tests.console.test_browser import (  # noqa: F401 — fixtures are found by name
    PASSWORD,
    browser,
    demo,
    pytestmark,
    shots,
    sign_in,
)

V210 = "/models/credit-risk/versions/2.1.0"


def sign_through_the_dialog(page, url: str, reason: str) -> None:
    page.goto(f"{url}{V210}")
    page.get_by_role("link", name="Review and sign").click()
    dialog = page.get_by_role("dialog")
    assert dialog.is_visible()
    assert not dialog.get_by_role("radio", checked=True).count()
    dialog.get_by_role("radio", name="Approved").check()
    dialog.get_by_label("Reason").fill(reason)
    dialog.get_by_label("Your password").fill(PASSWORD)
    dialog.get_by_role("button", name="Sign").click()
    page.wait_for_url(re.compile(r".*/versions/2\.1\.0/approvals/\d+$"))


def csv_download(page, link) -> list[dict[str, str]]:
    with page.expect_download() as download:
        link.click()
    return list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))


def test_an_officer_compares_signs_in_the_dialog_and_takes_an_api_token(browser, demo, shots):
    officer = sign_in(browser, demo, "demo-officer-1")
    officer.goto(f"{demo}{V210}")
    officer.get_by_role("link", name=re.compile("Compare side by side")).click()
    officer.wait_for_url(re.compile(r".*/models/credit-risk/compare\?a=.*&b=2\.1\.0$"))
    assert officer.get_by_test_id("compare-gates").locator("tr[data-gate=approvals]").count() == 1
    assert officer.get_by_test_id("compare-datasets").is_visible()
    officer.screenshot(path=shots / "compare.png", full_page=True)

    sign_through_the_dialog(officer, demo, "Reviewed against 2.0.0: card, data, metrics and gates.")
    assert officer.get_by_test_id("approval-progress").inner_text().startswith("1 of 2 approvals")
    receipt = officer.get_by_test_id("receipt")
    receipt.get_by_role("button", name=re.compile("Verify")).click()
    result = receipt.locator(".verify-result[data-verified]")
    result.wait_for()
    assert result.get_attribute("data-verified") == "true"

    officer.get_by_role("link", name="API tokens").click()
    officer.get_by_label("Name").fill("evidence export script")
    officer.get_by_label("Expires after").select_option("30")
    officer.get_by_role("button", name="Issue token").click()
    token = officer.get_by_label(re.compile("Your new token")).input_value()
    assert len(token) > 20
    row = officer.get_by_test_id("tokens").locator("tbody tr")
    assert row.count() == 1 and "evidence export script" in row.inner_text() and "never used" in row.inner_text()
    officer.screenshot(path=shots / "tokens.png", full_page=True)
    officer.reload()  # shown once: a reload shows the list, never the token again, and issues none
    assert token not in officer.content()
    assert officer.get_by_test_id("tokens").locator("tbody tr").count() == 1
    officer.get_by_role("button", name="Revoke evidence export script").click()
    assert "revoked" in officer.inner_text("main")
    assert not AuthToken.objects.filter(user__username="demo-officer-1").exists()
    officer.close()

    second = sign_in(browser, demo, "demo-officer-2")
    sign_through_the_dialog(second, demo, "Second approval after reading the first officer's review.")
    assert second.get_by_test_id("approval-progress").inner_text().startswith("2 of 2 approvals")
    second.close()
    signers = set(Approval.objects.filter(version__version="2.1.0").values_list("signer__username", flat=True))
    assert signers == {"demo-officer-1", "demo-officer-2"}
    assert ModelVersion.objects.get(model__slug="credit-risk", version="2.1.0").status == "approved"


def test_an_auditor_browses_verifies_and_downloads(browser, demo, shots):
    auditor = sign_in(browser, demo, "demo-auditor")
    assert auditor.get_by_role("link", name="Review queue").count() == 0

    auditor.goto(f"{demo}/decisions")
    auditor.get_by_label("Overridden by a person").select_option("yes")
    auditor.get_by_role("button", name="Search").click()
    auditor.wait_for_url(re.compile(r".*/decisions\?.*overridden=yes"))
    rows = auditor.get_by_test_id("decisions").locator("tbody tr")
    assert rows.count() >= 1 and all("override" in rows.nth(i).inner_text() for i in range(rows.count()))
    auditor.screenshot(path=shots / "decisions.png", full_page=True)
    exported = csv_download(auditor, auditor.get_by_role("link", name=re.compile("Download CSV")))
    assert len(exported) == rows.count() and {row["overridden"] for row in exported} == {"true"}

    auditor.goto(f"{demo}/alerts")
    auditor.get_by_label("State").select_option("resolved")
    auditor.get_by_role("button", name="Apply filters").click()
    alerts = auditor.get_by_test_id("alerts").locator("tbody tr")
    assert alerts.count() >= 1 and auditor.get_by_role("button", name="Acknowledge").count() == 0
    auditor.screenshot(path=shots / "alerts.png", full_page=True)

    auditor.goto(f"{demo}/ledger")
    auditor.get_by_label("Event type").fill("approval.signed")
    auditor.get_by_role("button", name="Apply filters").click()
    entries = auditor.get_by_test_id("entries").locator("tbody tr")
    assert entries.count() >= 2
    assert all("approval.signed" in entries.nth(i).inner_text() for i in range(entries.count()))
    auditor.screenshot(path=shots / "ledger-filtered.png", full_page=True)
    exported = csv_download(auditor, auditor.get_by_role("link", name=re.compile("Download CSV")))
    assert {row["type"] for row in exported} == {"approval.signed"}

    auditor.goto(f"{demo}/models/credit-risk")
    assert auditor.locator("[data-testid^=drift-psi-]").count() >= 1
    assert auditor.get_by_text(re.compile(r"y axis 0 to .*\(from zero\)")).count() >= 1
    auditor.screenshot(path=shots / "model-charts.png", full_page=True)
    auditor.goto(f"{demo}/models/credit-risk/versions/1.1.0")
    auditor.get_by_role("button", name=re.compile("Verify")).first.click()
    verified = auditor.locator(".verify-result[data-verified]").first
    verified.wait_for()
    assert verified.get_attribute("data-verified") == "true"

    auditor.goto(f"{demo}/reports")
    auditor.locator("#report-version").select_option("credit-risk 1.1.0")
    auditor.get_by_role("button", name="Request report").click()
    auditor.wait_for_url(re.compile(r".*/reports#report-.*"))
    with auditor.expect_download() as download:
        auditor.get_by_role("link", name=re.compile("PDF")).first.click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    exported = csv_download(auditor, auditor.get_by_role("link", name=re.compile("Download CSV")))
    assert any(row["kind"] == "version" and row["version"] == "1.1.0" for row in exported)
    auditor.close()
