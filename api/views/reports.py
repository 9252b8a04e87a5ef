"""Audit reports: request (202 with a status URL), poll, download, retry."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.schema import none_of_values, text_given
from api.views.base import GovernanceListView, GovernanceView
from governance import selectors
from governance.errors import InvalidInput
from governance.models import Report
from governance.models.reports import VERSION_KINDS
from governance.selectors import reports as report_selectors
from governance.services import reports as report_services

OTHER_KINDS = [kind for kind in Report.Kind if kind not in VERSION_KINDS]


class ReportInSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(Report.Kind.choices)
    model = serializers.SlugField()
    version = serializers.CharField(required=False, max_length=64)
    decision_id = serializers.CharField(required=False, max_length=200)
    purpose = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    redaction = serializers.ChoiceField(
        Report.Redaction.choices,
        required=False,
        help_text="Decision reports: authority (everything), internal (pseudonymised) or subject (the data "
        "subject's own view). Default: authority for those who may read inputs, else internal.",
    )

    # A version report names its version, a decision report its decision.
    schema_rules = {
        "oneOf": [
            {"allOf": [none_of_values("kind", [kind.value for kind in OTHER_KINDS]), text_given("version")]},
            {"allOf": [none_of_values("kind", [kind.value for kind in VERSION_KINDS]), text_given("decision_id")]},
        ]
    }


class ReportOutSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug")
    version = serializers.CharField(source="version.version", default=None)
    decision_id = serializers.CharField(source="decision.decision_id", default=None)
    requested_by = serializers.CharField(source="requested_by.username", default=None)
    status_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "id",
            "kind",
            "model",
            "version",
            "decision_id",
            "purpose",
            "redaction",
            "status",
            "failure_reason",
            "requested_by",
            "requested_at",
            "generated_at",
            "attempts",
            "file_sha256",
            "content_sha256",
            "content_length",
            "certificate_sha256",
            "development",
            "checkpoint_size",
            "ledger_entries",
            "status_url",
            "download_url",
        ]

    def get_status_url(self, report: Report) -> str:
        return reverse("api:report-detail", args=[report.pk])

    def get_download_url(self, report: Report) -> str | None:
        return reverse("api:report-download", args=[report.pk]) if report.status == Report.Status.READY else None


class ReportListView(GovernanceListView):
    @extend_schema(summary="Reports the caller may read", responses=ReportOutSerializer(many=True))
    def get(self, request: Request) -> Response:
        return self.paginate(report_selectors.report_list(request.user), ReportOutSerializer)

    @extend_schema(
        summary="Request a sealed report (202; poll status_url)",
        request=ReportInSerializer,
        responses={202: ReportOutSerializer},
    )
    def post(self, request: Request) -> Response:
        self.authorize("reports")
        data = self.parse(ReportInSerializer)
        model = selectors.model_get(request.user, data["model"])
        version = decision = None
        if data["kind"] in (Report.Kind.VERSION, Report.Kind.ANNEX_IV):
            if not data.get("version"):
                raise InvalidInput("A version report names its version.", errors={"version": ["Required."]})
            version = selectors.version_get(request.user, model.slug, data["version"])
        else:
            if not data.get("decision_id"):
                raise InvalidInput("A decision report names its decision.", errors={"decision_id": ["Required."]})
            decision = selectors.decision_get(request.user, model, data["decision_id"])
        report = report_services.report_request(
            actor=request.user,
            kind=data["kind"],
            version=version,
            decision=decision,
            purpose=data["purpose"],
            redaction=data.get("redaction", ""),
        )
        report.refresh_from_db()
        body = ReportOutSerializer(report).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["status_url"]})


class ReportDetailView(GovernanceView):
    @extend_schema(summary="A report's status (pending, ready, failed with reason)", responses=ReportOutSerializer)
    def get(self, request: Request, pk) -> Response:
        return Response(ReportOutSerializer(report_selectors.report_get(request.user, pk)).data)


class ReportRetryView(GovernanceView):
    @extend_schema(summary="Retry a failed report", request=None, responses={202: ReportOutSerializer})
    def post(self, request: Request, pk) -> Response:
        report = report_services.report_retry(actor=request.user, report=report_selectors.report_get(request.user, pk))
        return Response(ReportOutSerializer(report).data, status=status.HTTP_202_ACCEPTED)


class ReportDownloadView(GovernanceView):
    @extend_schema(
        summary="Download a ready report (each download is logged)",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, pk) -> HttpResponse:
        report = report_selectors.report_get(request.user, pk)
        download = report_services.report_download(actor=request.user, report=report)
        response = HttpResponse(download.record, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{report.kind}-report-{report.pk}.pdf"'
        response["X-Report-SHA256"] = report.file_sha256
        response["X-Ledger-Key"] = download.ledger_key
        return response
