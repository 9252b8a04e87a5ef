"""Deployments and the decision log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import bad_request
from api.fastbatch import decision_items
from api.filters import DecisionFilter, DeploymentFilter
from api.receipts import accepted, receipts, wait_mode
from api.serializers.operations import (
    DecisionBatchInSerializer,
    DecisionDetailSerializer,
    DecisionInSerializer,
    DecisionOutSerializer,
    DecisionReviewInSerializer,
    DecisionReviewOutSerializer,
    DeploymentInSerializer,
    DeploymentOutSerializer,
)
from api.serializers.registry import ApprovalOutSerializer, ReasonSerializer
from api.verification import VERIFY_PARAMETER, verification_of, wants_verification
from api.views.base import GovernanceListView, GovernanceView, parse_batch, written
from governance import selectors
from governance.errors import NotVisible
from governance.selectors import decisions as decision_selectors
from governance.services import decisions as decision_services
from governance.services import deployments as deployment_services
from governance.validation import ENVIRONMENT_PATTERN


def _utc_time(text: str) -> datetime | None:
    """The RFC 3339 time `text` in UTC, or None. In UTC because RFC 3339 offsets reach ±23:59 and
    PostgreSQL's stop at ±15:59; None for a time without a zone or one beyond year 1 to 9999."""
    try:
        at = parse_datetime(text)
        return at.astimezone(UTC) if at is not None and at.tzinfo is not None else None
    except (ValueError, OverflowError):
        return None


class DeploymentListView(GovernanceListView):
    filterset_class = DeploymentFilter

    @extend_schema(summary="Deployments of a model, newest first", responses=DeploymentOutSerializer(many=True))
    def get(self, request: Request, slug: str) -> Response:
        model = selectors.model_get(request.user, slug)
        return self.paginate(selectors.deployment_list(request.user, model), DeploymentOutSerializer)

    @extend_schema(
        summary="Deploy an approved version (a rollback when it is older than what serves)",
        request=DeploymentInSerializer,
        responses={201: DeploymentOutSerializer},
    )
    def post(self, request: Request, slug: str) -> Response:
        self.authorize("register", selectors.model_get(request.user, slug))
        data = self.parse(DeploymentInSerializer)
        version = selectors.version_get(request.user, slug, data.pop("version"))
        deployment = deployment_services.deployment_start(actor=request.user, version=version, **data)
        return written(request, DeploymentOutSerializer(deployment).data, deployment.ledger_key)


class DeploymentEndView(GovernanceView):
    @extend_schema(
        summary="End (suspend) a deployment",
        request=ReasonSerializer,
        responses=DeploymentOutSerializer,
    )
    def post(self, request: Request, slug: str, pk: int) -> Response:
        model = selectors.model_get(request.user, slug)
        deployment = selectors.deployment_list(request.user, model).filter(pk=pk).first()
        if deployment is None:
            raise NotVisible("No such deployment.")
        result = deployment_services.deployment_end(
            actor=request.user, deployment=self.authorize("register", deployment), **self.parse(ReasonSerializer)
        )
        return written(request, DeploymentOutSerializer(result.record).data, result.ledger_key, status.HTTP_200_OK)


class DeploymentAtView(GovernanceView):
    @extend_schema(
        summary="Which version served an environment at a time, and who approved it",
        parameters=[
            OpenApiParameter("environment", str, required=True, pattern=ENVIRONMENT_PATTERN),
            OpenApiParameter("at", OpenApiTypes.DATETIME, required=True, description="RFC 3339 time with a zone"),
        ],
        responses=inline_serializer(
            "DeploymentAt",
            {
                "deployment": DeploymentOutSerializer(allow_null=True),
                "approvals": ApprovalOutSerializer(many=True),
            },
        ),
    )
    def get(self, request: Request, slug: str) -> Response:
        model = selectors.model_get(request.user, slug)
        environment = request.query_params.get("environment", "")
        at = _utc_time(request.query_params.get("at", "") or "")
        if not environment:
            raise bad_request("`environment` is required.", field="environment")
        if at is None:
            raise bad_request("`at` must be an RFC 3339 time with a zone, e.g. 2026-11-01T12:00:00Z.", field="at")
        deployment = selectors.deployment_at(model, environment, at)
        approvals = selectors.approval_list(deployment.version) if deployment else []
        return Response(
            {
                "deployment": DeploymentOutSerializer(deployment).data if deployment else None,
                "approvals": ApprovalOutSerializer(approvals, many=True).data,
            }
        )


def _tidy_decision(data: dict[str, Any]) -> dict[str, Any]:
    data["reasons"] = [dict(reason) for reason in data["reasons"]]
    return data


WAIT_PARAMETER = OpenApiParameter(
    "wait",
    str,
    enum=["none", "entry", "checkpoint"],
    description=(
        "`entry` (default): answer once every decision's ledger entry is sequenced, with `seq` and "
        "`leaf_hash`. `checkpoint`: also sign a checkpoint and include inclusion proofs. `none`: "
        "answer 202 once the batch is durably committed; receipts carry only idempotency keys, "
        "and the entries are sequenced moments later (look them up by key)."
    ),
)


# One component for the three answers (drf-spectacular refuses two of the same name).
DECISION_BATCH_RESULT = inline_serializer(
    "DecisionBatchResult",
    {
        "created": serializers.IntegerField(),
        "decisions": serializers.ListField(child=serializers.DictField()),
    },
)


class DecisionListView(GovernanceListView):
    filterset_class = DecisionFilter
    accepts_wait_none = True

    @extend_schema(
        summary="Decisions of a model (filter by version and time range)",
        responses=DecisionOutSerializer(many=True),
    )
    def get(self, request: Request, slug: str) -> Response:
        model = selectors.model_get(request.user, slug)
        return self.paginate(selectors.decision_list(request.user, model), DecisionOutSerializer)

    @extend_schema(
        summary="Log a batch of up to 1,000 decisions (all or nothing; resending changes nothing)",
        request=DecisionBatchInSerializer,
        parameters=[WAIT_PARAMETER],
        responses=dict.fromkeys((201, 200, 202), DECISION_BATCH_RESULT),
    )
    def post(self, request: Request, slug: str) -> Response:
        model = self.authorize("log", selectors.model_get(request.user, slug))
        items = decision_items(request.data)  # msgspec; None leaves the batch to DRF's checks
        if items is None:
            items = parse_batch(
                DecisionInSerializer,
                self.parse(DecisionBatchInSerializer)["decisions"],
                refused="Some decisions are not valid; none was logged.",
                tidy=_tidy_decision,
            )
        mode = wait_mode(request, allow_none=True)
        result = decision_services.decision_log_batch(
            actor=request.user, model=model, items=items, sequenced=mode != "none"
        )
        if mode == "none":
            # Committed (the service's transaction is closed): durable, sequenced moments later.
            proofs, code = accepted(result.ledger_keys), status.HTTP_202_ACCEPTED
        else:
            proofs = receipts(result.ledger_keys, checkpoint=mode == "checkpoint")
            code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        body = {
            "created": result.created,
            "decisions": [{"decision_id": d, "receipt": r} for d, r in zip(result.decision_ids, proofs, strict=True)],
        }
        return Response(body, status=code)


class DecisionDetailView(GovernanceView):
    @extend_schema(
        summary="One decision, with its reviews and (unless erased) its payload",
        responses=DecisionDetailSerializer,
        parameters=[VERIFY_PARAMETER],
    )
    def get(self, request: Request, slug: str, decision_id: str) -> Response:
        verify = wants_verification(request)
        model = selectors.model_get(request.user, slug)
        decision = selectors.decision_get(request.user, model, decision_id)
        data = DecisionDetailSerializer(decision).data
        if verify:
            data["verification"] = verification_of("decision", decision)
        return Response(data)


class DecisionReviewView(GovernanceView):
    @extend_schema(
        summary="Record a human review of a decision",
        request=DecisionReviewInSerializer,
        responses={201: DecisionReviewOutSerializer},
    )
    def post(self, request: Request, slug: str, decision_id: str) -> Response:
        model = selectors.model_get(request.user, slug)
        decision = self.authorize("review", selectors.decision_get(request.user, model, decision_id))
        review = decision_services.decision_review(
            actor=request.user, decision=decision, **self.parse(DecisionReviewInSerializer)
        )
        return written(request, DecisionReviewOutSerializer(review).data, review.ledger_key)


class DecisionEraseView(GovernanceView):
    @extend_schema(
        summary="Erase a decision's personal data (the ledger keeps its commitment)",
        request=ReasonSerializer,
        responses=DecisionDetailSerializer,
    )
    def post(self, request: Request, slug: str, decision_id: str) -> Response:
        model = selectors.model_get(request.user, slug)
        decision = self.authorize("manage", selectors.decision_get(request.user, model, decision_id))
        result = decision_services.decision_payload_erase(
            actor=request.user, decision=decision, **self.parse(ReasonSerializer)
        )
        decision.payload.refresh_from_db()
        return written(request, DecisionDetailSerializer(decision).data, result.ledger_key, status.HTTP_200_OK)


class DecisionSearchView(GovernanceListView):
    @extend_schema(
        summary="Decisions about a pseudonymous subject (explanation requests)",
        parameters=[OpenApiParameter("subject_ref", {"type": "string", "pattern": r"^[^\u0000]+$"}, required=True)],
        responses=DecisionOutSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        subject_ref = request.query_params.get("subject_ref", "")
        if not subject_ref:
            raise bad_request("`subject_ref` is required.", field="subject_ref")
        return self.paginate(
            decision_selectors.decisions_for_subject(request.user, subject_ref),
            DecisionOutSerializer,
        )
