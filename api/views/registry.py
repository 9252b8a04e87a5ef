"""Models, datasets, versions, model cards, approvals, access grants, ownership transfers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.filters import ModelFilter, VersionFilter
from api.rows import Rows
from api.serializers.registry import (
    ApprovalInSerializer,
    ApprovalOutSerializer,
    CardInSerializer,
    CardOutSerializer,
    DatasetInSerializer,
    DatasetOutSerializer,
    GrantInSerializer,
    ModelInSerializer,
    ModelOutSerializer,
    ReasonSerializer,
    TransferInSerializer,
    TransferOutSerializer,
    ValidationDatesSerializer,
    VersionInSerializer,
    VersionOutSerializer,
    VersionRefSerializer,
)
from api.verification import VERIFY_PARAMETER, verification, verification_of, wants_verification
from api.views.base import GovernanceListView, GovernanceView, written
from governance import access, selectors, signin
from governance.errors import InvalidInput, LockedOut, NotVisible, ReauthenticationFailed
from governance.models import OwnershipTransfer
from governance.selectors import approvals as approval_selectors
from governance.services import access as access_services
from governance.services import approvals, registry
from governance.services.deployments import version_retire


def _page_datasets(rows: Sequence[dict[str, Any]]) -> list[list[dict[str, str]]]:
    links = selectors.version_dataset_links([row["id"] for row in rows])
    return [links[row["id"]] for row in rows]


# List pages of models and versions, rendered from `.values()` rows (api/rows.py).
MODEL_ROWS = Rows(ModelOutSerializer)
VERSION_ROWS = Rows(VersionOutSerializer, computed={"datasets": _page_datasets}, keys=("id",))


class ModelListView(GovernanceListView):
    filterset_class = ModelFilter

    @extend_schema(summary="Registered models the caller may read", responses=ModelOutSerializer(many=True))
    def get(self, request: Request) -> Response:
        return self.paginate(selectors.model_list(request.user), ModelOutSerializer, MODEL_ROWS)

    @extend_schema(summary="Register a model", request=ModelInSerializer, responses={201: ModelOutSerializer})
    def post(self, request: Request) -> Response:
        self.authorize("register_model")
        model = registry.model_register(actor=request.user, **self.parse(ModelInSerializer))
        return written(request, ModelOutSerializer(model).data, model.ledger_key)


class ModelDetailView(GovernanceView):
    @extend_schema(summary="One registered model", responses=ModelOutSerializer)
    def get(self, request: Request, slug: str) -> Response:
        return Response(ModelOutSerializer(selectors.model_get(request.user, slug)).data)


class ModelValidationView(GovernanceView):
    @extend_schema(
        summary="Record validation dates",
        request=ValidationDatesSerializer,
        responses=ModelOutSerializer,
    )
    def post(self, request: Request, slug: str) -> Response:
        result = registry.model_update_validation(
            actor=request.user,
            model=self.authorize("manage", selectors.model_get(request.user, slug)),
            **self.parse(ValidationDatesSerializer),
        )
        return written(request, ModelOutSerializer(result.record).data, result.ledger_key, status.HTTP_200_OK)


class TransferRequestView(GovernanceView):
    @extend_schema(
        summary="Propose a new owner",
        request=TransferInSerializer,
        responses={201: TransferOutSerializer},
    )
    def post(self, request: Request, slug: str) -> Response:
        transfer = access_services.ownership_transfer_request(
            actor=request.user,
            model=self.authorize("transfer", selectors.model_get(request.user, slug)),
            **self.parse(TransferInSerializer),
        )
        return written(request, TransferOutSerializer(transfer).data, transfer.ledger_key)


class TransferAcceptView(GovernanceView):
    @extend_schema(summary="Accept ownership (the proposed owner)", request=None, responses=ModelOutSerializer)
    def post(self, request: Request, pk: int) -> Response:
        transfer = OwnershipTransfer.objects.filter(pk=pk, to_owner=request.user).first()
        if transfer is None:
            raise NotVisible("No such transfer for you.")
        result = access_services.ownership_transfer_accept(actor=request.user, transfer=transfer)
        return written(request, ModelOutSerializer(result.record).data, result.ledger_key, status.HTTP_200_OK)


GrantList = inline_serializer(
    "Grants",
    {
        "grants": inline_serializer(
            "Grant",
            {
                "kind": serializers.CharField(),
                "name": serializers.CharField(),
                "action": serializers.CharField(),
            },
            many=True,
        )
    },
)


class AccessView(GovernanceView):
    @extend_schema(summary="Object permissions held on a model", responses=GrantList)
    def get(self, request: Request, slug: str) -> Response:
        model = selectors.model_get(request.user, slug)
        access.require(request.user, "manage", model)
        rows = access.grant_rows(model)
        return Response({"grants": [{"kind": k, "name": n, "action": a} for k, n, a in rows]})


def _grantee(data: dict):
    if data.get("user"):
        user = get_user_model().objects.filter(username=data["user"], is_active=True).first()
        if user is None:
            raise InvalidInput("No such active user.", errors={"user": ["Not found."]})
        return user
    group = Group.objects.filter(name=data["group"]).first()
    if group is None:
        raise InvalidInput("No such group.", errors={"group": ["Not found."]})
    return group


class AccessChangeView(GovernanceView):
    grant = True

    @extend_schema(
        request=GrantInSerializer,
        responses={
            200: inline_serializer(
                "GrantResult",
                {
                    "actions": serializers.ListField(child=serializers.CharField()),
                    "receipt": serializers.DictField(),
                },
            )
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        # Refuse before looking the grantee up, so the answer says nothing about who exists.
        model = self.authorize("manage", selectors.model_get(request.user, slug))
        data = self.parse(GrantInSerializer)
        service = access_services.access_grant if self.grant else access_services.access_revoke
        change = service(
            actor=request.user,
            model=model,
            grantee=_grantee(data),
            actions=data["actions"],
            reason=data["reason"],
        )
        return written(request, {"actions": change.actions}, change.ledger_key, status.HTTP_200_OK)


class DatasetListView(GovernanceListView):
    @extend_schema(summary="Datasets the caller may read", responses=DatasetOutSerializer(many=True))
    def get(self, request: Request) -> Response:
        return self.paginate(
            selectors.dataset_list(request.user).select_related("registered_by"),
            DatasetOutSerializer,
        )

    @extend_schema(
        summary="Register a dataset by content hash (idempotent)",
        request=DatasetInSerializer,
        responses={201: DatasetOutSerializer, 200: DatasetOutSerializer},
    )
    def post(self, request: Request) -> Response:
        self.authorize("register_dataset")
        data = self.parse(DatasetInSerializer)
        dataset, created = registry.dataset_register(actor=request.user, **data)
        if not created and not selectors.dataset_list(request.user).filter(pk=dataset.pk).exists():
            # Someone else registered these bytes; say so without showing their record.
            return Response({"sha256": dataset.sha256, "already_registered": True}, status=status.HTTP_200_OK)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return written(request, DatasetOutSerializer(dataset).data, dataset.ledger_key, code)


class DatasetDetailView(GovernanceView):
    @extend_schema(summary="One dataset", responses=DatasetOutSerializer)
    def get(self, request: Request, sha256: str) -> Response:
        return Response(DatasetOutSerializer(selectors.dataset_get(request.user, sha256)).data)


class DatasetVersionsView(GovernanceListView):
    @extend_schema(summary="Versions trained on this dataset", responses=VersionOutSerializer(many=True))
    def get(self, request: Request, sha256: str) -> Response:
        selectors.dataset_get(request.user, sha256)
        return self.paginate(selectors.versions_trained_on(request.user, sha256), VersionOutSerializer, VERSION_ROWS)


class VersionQueueView(GovernanceListView):
    filterset_class = VersionFilter

    @extend_schema(
        summary="Versions across models (e.g. ?status=in_review: the review queue)",
        responses=VersionOutSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        return self.paginate(
            selectors.version_list(request.user).order_by("registered_at"), VersionOutSerializer, VERSION_ROWS
        )


class VersionListView(GovernanceListView):
    filterset_class = VersionFilter

    @extend_schema(summary="Versions of a model", responses=VersionOutSerializer(many=True))
    def get(self, request: Request, slug: str) -> Response:
        model = selectors.model_get(request.user, slug)
        return self.paginate(selectors.version_list(request.user, model), VersionOutSerializer, VERSION_ROWS)

    @extend_schema(
        summary="Register a version with its lineage",
        request=VersionInSerializer,
        responses={201: VersionOutSerializer},
    )
    def post(self, request: Request, slug: str) -> Response:
        model = self.authorize("register", selectors.model_get(request.user, slug))
        data = self.parse(VersionInSerializer)
        data["metrics"] = [dict(metric) for metric in data["metrics"]]
        data["datasets"] = [dict(link) for link in data["datasets"]]
        version = registry.version_register(actor=request.user, model=model, **data)
        return written(request, VersionOutSerializer(version).data, version.ledger_key)


class VersionDetailView(GovernanceView):
    @extend_schema(summary="One version", responses=VersionOutSerializer, parameters=[VERIFY_PARAMETER])
    def get(self, request: Request, slug: str, version: str) -> Response:
        verify = wants_verification(request)
        row = selectors.version_get(request.user, slug, version)
        data = VersionOutSerializer(row).data
        if verify:
            data["verification"] = verification_of("version", row)
        return Response(data)


class VersionLineageView(GovernanceView):
    @extend_schema(
        summary="Ancestors (nearest first) and descendants of a version",
        responses=inline_serializer(
            "Lineage",
            {
                "ancestors": VersionRefSerializer(many=True),
                "descendants": VersionRefSerializer(many=True),
            },
        ),
    )
    def get(self, request: Request, slug: str, version: str) -> Response:
        row = selectors.version_get(request.user, slug, version)
        return Response(
            {
                "ancestors": VersionRefSerializer(selectors.version_ancestors(row), many=True).data,
                "descendants": VersionRefSerializer(selectors.version_descendants(row), many=True).data,
            }
        )


class VersionReviewView(GovernanceView):
    @extend_schema(summary="Send a registered version to review", request=None, responses=VersionOutSerializer)
    def post(self, request: Request, slug: str, version: str) -> Response:
        result = registry.version_request_review(
            actor=request.user, version=self.authorize("register", selectors.version_get(request.user, slug, version))
        )
        return written(request, VersionOutSerializer(result.record).data, result.ledger_key, status.HTTP_200_OK)


class VersionRetireView(GovernanceView):
    @extend_schema(
        summary="Retire a version (ends its deployments)",
        request=ReasonSerializer,
        responses=VersionOutSerializer,
    )
    def post(self, request: Request, slug: str, version: str) -> Response:
        result = version_retire(
            actor=request.user,
            version=self.authorize("register", selectors.version_get(request.user, slug, version)),
            **self.parse(ReasonSerializer),
        )
        return written(request, VersionOutSerializer(result.record).data, result.ledger_key, status.HTTP_200_OK)


class CardListView(GovernanceListView):
    @extend_schema(summary="Model-card revisions of a version", responses=CardOutSerializer(many=True))
    def get(self, request: Request, slug: str, version: str) -> Response:
        row = selectors.version_get(request.user, slug, version)
        return self.paginate(selectors.card_list(row), CardOutSerializer)

    @extend_schema(
        summary="Submit a new card revision",
        request=CardInSerializer,
        responses={201: CardOutSerializer},
    )
    def post(self, request: Request, slug: str, version: str) -> Response:
        row = self.authorize("register", selectors.version_get(request.user, slug, version))
        card = registry.card_revise(actor=request.user, version=row, **self.parse(CardInSerializer))
        return written(request, CardOutSerializer(card).data, card.ledger_key)


class ApprovalListView(GovernanceListView):
    @extend_schema(
        summary="Signatures on a version",
        responses=ApprovalOutSerializer(many=True),
        parameters=[VERIFY_PARAMETER],
    )
    def get(self, request: Request, slug: str, version: str) -> Response:
        verify = wants_verification(request)
        row = selectors.version_get(request.user, slug, version)
        response = self.paginate(selectors.approval_list(row), ApprovalOutSerializer)
        if verify:
            results = verification("approval", selectors.approval_list(row), key="ledger_key")
            for item in response.data["results"]:
                item["verification"] = results[item["ledger_key"]]
        return response

    @extend_schema(
        summary="Sign (approve, reject, review, accept risk) with password re-entry",
        request=ApprovalInSerializer,
        responses={201: ApprovalOutSerializer},
    )
    def post(self, request: Request, slug: str, version: str) -> Response:
        row = self.authorize("approve", selectors.version_get(request.user, slug, version))
        username = request.user.get_username()
        if signin.locked_out(request._request, username):
            raise LockedOut(signin.lockout_message(signin.retry_at(request._request, username)))
        try:
            approval = approvals.approval_sign(signer=request.user, version=row, **self.parse(ApprovalInSerializer))
        except ReauthenticationFailed:
            # Counted as a failed sign-in; the lockout middleware answers for the one that locks.
            signin.failed(request._request, username)
            raise
        return written(request, ApprovalOutSerializer(approval).data, approval.ledger_key)


class SignaturePreviewView(GovernanceView):
    @extend_schema(
        summary="What a signature on this version would sign now",
        responses=inline_serializer(
            "SignaturePreview",
            {
                "card_revision": serializers.IntegerField(allow_null=True),
                "signed_sha256": serializers.CharField(),
                "approvals_required": serializers.IntegerField(),
            },
        ),
    )
    def get(self, request: Request, slug: str, version: str) -> Response:
        row = selectors.version_get(request.user, slug, version)
        return Response(
            {
                **approval_selectors.signature_preview(row),
                "approvals_required": approval_selectors.approvals_required(row.model),
            }
        )
