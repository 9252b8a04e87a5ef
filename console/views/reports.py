"""Sealed PDF reports: request, status, download (every download is logged in the ledger)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from console import exports
from console.auth import console_page
from console.browse import browse
from console.filters import ReportFilterForm
from console.forms import ReportRequestForm
from governance import selectors
from governance.errors import Conflict, Forbidden, InvalidInput
from governance.models import Report
from governance.selectors import browse as browsing
from governance.selectors import reports as report_selectors
from governance.services import reports as report_services


@console_page
@require_http_methods(["GET", "POST"])
def reports(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _request(request)
    context = {
        "pending": report_selectors.report_list(request.user).filter(status=Report.Status.PENDING).exists(),
        "versions": report_selectors.reportable_versions(request.user),
    }
    models = list(selectors.model_list(request.user).values_list("slug", flat=True))
    return browse(
        request,
        form=ReportFilterForm(request.GET, models=models),
        rows=lambda form: browsing.report_browse(request.user, form.filters()),
        export=exports.REPORTS,
        filename="reports.csv",
        template="console/reports.html",
        name="reports",
        context=context,
    )


def _request(request: HttpRequest) -> HttpResponse:
    form = ReportRequestForm(request.POST)
    if not form.is_valid():
        problems = [error for errors in form.errors.values() for error in errors]
        messages.error(request, "The report request is not valid: " + " ".join(problems))
        return redirect("console:reports")
    data = form.cleaned_data
    model = selectors.model_get(request.user, data["model"])
    version = decision = None
    try:
        if data["kind"] in (Report.Kind.VERSION, Report.Kind.ANNEX_IV):
            version = selectors.version_get(request.user, model.slug, data["version"])
        else:
            decision = selectors.decision_get(request.user, model, data["decision_id"])
        report = report_services.report_request(
            actor=request.user,
            kind=data["kind"],
            version=version,
            decision=decision,
            purpose=data["purpose"],
            redaction=data["redaction"],
        )
    except (InvalidInput, Forbidden) as exc:
        messages.error(request, exc.message)
        return redirect("console:reports")
    report.refresh_from_db()
    messages.success(request, f"Report requested: {report.subject} ({report.get_status_display().lower()}).")
    return redirect(f"{reverse('console:reports')}#report-{report.pk}")


@console_page
@require_GET
def report_download(request: HttpRequest, pk: str) -> HttpResponse:
    report = report_selectors.report_get(request.user, pk)
    try:
        download = report_services.report_download(actor=request.user, report=report)
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("console:reports")
    response = HttpResponse(download.record, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{report.kind}-report-{report.pk}.pdf"'
    response["X-Report-SHA256"] = report.file_sha256
    response["X-Ledger-Key"] = download.ledger_key
    return response
