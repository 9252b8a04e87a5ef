"""Read-only ledger endpoints for auditors: checkpoints, keys, entries, proofs.

The latest checkpoint and the verifier keys are public: they reveal only a size and a root, and
publishing them widely is what lets anyone detect a forked or rewritten log. Entries and proofs
need the `ledger.view_entry` permission (auditors, compliance officers, admins).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.pagination import Pagination
from governance import access
from ledger import selectors, witnessing
from ledger.errors import BadProofRequest, NotInLog

# One NDJSON response streams at most this many entries; clients page with `start`.
MAX_ENTRY_RANGE = 100_000


class CanReadLedger(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return access.reads_ledger(request.user)


# What `_int_param` accepts: a non-negative integer of at most 19 digits, in the schema.
COUNT = {"type": "integer", "format": "int64", "minimum": 0, "maximum": 2**63 - 1}
# What `_hex32` accepts.
SHA256_HEX = {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}


def _int_param(request: Request, name: str, *, default: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        if default is None:
            raise BadProofRequest(f"The `{name}` parameter is required.", errors={name: ["Required."]})
        return default
    if not raw.isascii() or not raw.lstrip("-").isdigit() or len(raw) > 19:
        raise BadProofRequest(f"`{name}` must be a non-negative integer.", errors={name: ["Not an integer."]})
    value = int(raw)
    if value < 0:
        raise BadProofRequest(f"`{name}` cannot be negative.", errors={name: ["Negative."]})
    return value


def _latest_size() -> int:
    latest = selectors.checkpoint_latest_size()
    if latest is None:
        raise NotInLog("No checkpoint has been signed yet.")
    return latest


def _checkpoint_json(cp) -> dict:
    return {
        "size": cp.size,
        "root": bytes(cp.root).hex(),
        "note": cp.note,
        "key_id": cp.key.key_id,
        "signed_at": cp.signed_at.isoformat().replace("+00:00", "Z"),
    }


def _entry_json(seq: int, leaf_hash: bytes, leaf: bytes) -> dict:
    return {
        "seq": seq,
        "leaf_hash": leaf_hash.hex(),
        "leaf": base64.b64encode(leaf).decode(),
        "decoded": json.loads(leaf),
    }


# The latest checkpoint meeting LEDGER_WITNESS_POLICY, named by every proof: a client that trusts
# the witnesses checks the cosigned note, then the consistency proof between the proof's tree size
# and this checkpoint's (from the smaller to the larger).
WitnessedCheckpointSerializer = type(
    inline_serializer(
        "WitnessedCheckpoint",
        {
            "size": serializers.IntegerField(),
            "root": serializers.CharField(help_text="64 hex"),
            "note": serializers.CharField(
                help_text="the checkpoint note with the log's signature and the cosignatures"
            ),
            "witnesses": serializers.ListField(
                child=serializers.CharField(), help_text="configured witnesses that cosigned it"
            ),
            "policy": serializers.IntegerField(help_text="LEDGER_WITNESS_POLICY: how many must cosign"),
            "consistency_proof": serializers.ListField(
                child=serializers.CharField(),
                help_text="RFC 9162 proof between the proof's tree size and this size, smaller first (hex)",
            ),
        },
    )
)

CHECKPOINT_FIELDS = {
    "size": serializers.IntegerField(),
    "root": serializers.CharField(help_text="64 hex"),
    "note": serializers.CharField(help_text="the signed C2SP checkpoint note"),
    "key_id": serializers.CharField(),
    "signed_at": serializers.DateTimeField(),
}
EntrySerializer = inline_serializer(
    "Entry",
    {
        "seq": serializers.IntegerField(),
        "leaf_hash": serializers.CharField(),
        "leaf": serializers.CharField(help_text="base64 of the exact leaf bytes"),
        "decoded": serializers.JSONField(),
    },
)


class CheckpointLatestView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Latest signed checkpoint (C2SP signed note, text/plain)",
        responses={(200, "text/plain"): OpenApiTypes.STR},
    )
    def get(self, request: Request) -> HttpResponse:
        latest = selectors.checkpoint_latest()
        if latest is None:
            raise NotInLog("No checkpoint has been signed yet.")
        return HttpResponse(latest.note, content_type="text/plain; charset=utf-8")


class CheckpointListView(APIView):
    permission_classes = [AllowAny]
    pagination_class = Pagination  # so the schema describes the paginated answer

    @extend_schema(
        summary="Every signed checkpoint, by size",
        responses=inline_serializer("Checkpoint", CHECKPOINT_FIELDS, many=True),
    )
    def get(self, request: Request) -> Response:
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.checkpoint_list(), request, view=self)
        return paginator.get_paginated_response([_checkpoint_json(cp) for cp in page])


class KeyListView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Public verifier keys with their validity periods",
        responses=inline_serializer(
            "VerifierKeys",
            {
                "keys": inline_serializer(
                    "VerifierKey",
                    {
                        "verifier_key": serializers.CharField(),
                        "key_id": serializers.CharField(),
                        "development": serializers.BooleanField(),
                        "valid_from": serializers.DateTimeField(),
                        "valid_until": serializers.DateTimeField(allow_null=True),
                    },
                    many=True,
                )
            },
        ),
    )
    def get(self, request: Request) -> Response:
        return Response(
            {
                "keys": [
                    {
                        "verifier_key": key.verifier_key,
                        "key_id": key.key_id,
                        "development": key.development,
                        "valid_from": key.valid_from,
                        "valid_until": key.valid_until,
                    }
                    for key in selectors.signing_key_list()
                ]
            }
        )


class EntryDetailView(APIView):
    permission_classes = [CanReadLedger]

    @extend_schema(
        operation_id="ledger_entry_retrieve",
        summary="One entry: its exact leaf bytes and their decoding",
        responses=EntrySerializer,
    )
    def get(self, request: Request, seq: int) -> Response:
        entry = selectors.entry_get(seq)
        return Response(_entry_json(entry.seq, bytes(entry.leaf_hash), bytes(entry.leaf)))


class EntryRangeView(APIView):
    permission_classes = [CanReadLedger]

    @extend_schema(
        operation_id="ledger_entries_range",
        summary="A range of entries as NDJSON (one Entry object per line)",
        parameters=[
            OpenApiParameter("start", COUNT, description="first seq (default 0)"),
            OpenApiParameter(
                "end", COUNT, description=f"seq after the last: not before start, at most start + {MAX_ENTRY_RANGE}"
            ),
        ],
        responses={(200, "application/x-ndjson"): OpenApiTypes.STR},
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        start = _int_param(request, "start", default=0)
        end = _int_param(request, "end", default=start + 1000)
        if end < start:
            raise BadProofRequest("`end` must not be before `start`.", errors={"end": ["Before start."]})
        if end - start > MAX_ENTRY_RANGE:
            raise BadProofRequest(
                f"At most {MAX_ENTRY_RANGE} entries per request; page with `start`.",
                errors={"end": ["Range too large."]},
            )

        def lines() -> Iterator[bytes]:
            for seq, leaf_hash, leaf in selectors.entry_range(start, end):
                yield (json.dumps(_entry_json(seq, leaf_hash, leaf), separators=(",", ":")).encode() + b"\n")

        return StreamingHttpResponse(lines(), content_type="application/x-ndjson")


def _hex32(request: Request, name: str) -> bytes:
    raw = request.query_params.get(name, "")
    try:
        value = bytes.fromhex(raw)
    except ValueError:
        value = b""
    if len(value) != 32:
        raise BadProofRequest(f"`{name}` must be 64 hex digits.", errors={name: ["Not a SHA-256."]})
    return value


class InclusionProofView(APIView):
    permission_classes = [CanReadLedger]

    @extend_schema(
        summary="Inclusion proof of an entry (by seq or leaf hash) in a checkpointed tree",
        parameters=[
            OpenApiParameter("seq", COUNT, description="below size; seq or leaf_hash is required"),
            OpenApiParameter("leaf_hash", SHA256_HEX, description="64 hex, instead of seq"),
            OpenApiParameter("size", COUNT, description="tree size, at most the latest checkpoint's (the default)"),
        ],
        responses=inline_serializer(
            "InclusionProof",
            {
                "seq": serializers.IntegerField(),
                "tree_size": serializers.IntegerField(),
                "leaf_hash": serializers.CharField(),
                "proof": serializers.ListField(child=serializers.CharField()),
                "checkpoint": serializers.CharField(allow_null=True),
                "witnessed_checkpoint": WitnessedCheckpointSerializer(allow_null=True),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        raw_size = request.query_params.get("size")
        size = _int_param(request, "size") if raw_size not in (None, "") else _latest_size()
        if "leaf_hash" in request.query_params:
            seq = selectors.entry_by_leaf_hash(_hex32(request, "leaf_hash")).seq
        else:
            seq = _int_param(request, "seq")
        if seq >= size:
            selectors.inclusion_proof(seq, size)  # raises the right error: size or index
        # The proof, the leaf hash, the checkpoint's note and the witnessed one: one query.
        found = selectors.inclusion_proof_signed(seq, size, witnessed=witnessing.witnessed_chooser())
        return Response(
            {
                "seq": seq,
                "tree_size": size,
                "leaf_hash": found.leaf_hash.hex(),
                "proof": [node.hex() for node in found.proof],
                "checkpoint": found.checkpoint,
                "witnessed_checkpoint": witnessing.witnessed_for(size, found.witnessed),
            }
        )


class ConsistencyProofView(APIView):
    permission_classes = [CanReadLedger]

    @extend_schema(
        summary="Consistency proof between two tree sizes",
        parameters=[
            OpenApiParameter("size1", COUNT, required=True, description="at most size2"),
            OpenApiParameter("size2", COUNT, description="at most the latest checkpoint's size (the default)"),
        ],
        responses=inline_serializer(
            "ConsistencyProof",
            {
                "size1": serializers.IntegerField(),
                "size2": serializers.IntegerField(),
                "proof": serializers.ListField(child=serializers.CharField()),
                "witnessed_checkpoint": WitnessedCheckpointSerializer(allow_null=True),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        size1 = _int_param(request, "size1")
        raw_size2 = request.query_params.get("size2")
        try:
            # A given size2 is checked against the latest checkpoint by the proof's own query;
            # the latest size is read apart only when size2 defaults to it, or to answer an error.
            size2 = _int_param(request, "size2") if raw_size2 not in (None, "") else _latest_size()
            chooser = witnessing.witnessed_chooser()
            proof, witnessed = selectors.consistency_proof_witnessed(size1, size2, witnessed=chooser)
        except BadProofRequest:
            _latest_size()  # before any checkpoint: 404, whatever else is wrong
            raise
        return Response(
            {
                "size1": size1,
                "size2": size2,
                "proof": [node.hex() for node in proof],
                "witnessed_checkpoint": witnessing.witnessed_for(size2, witnessed),
            }
        )


# One class, so the schema has one WitnessAlert component (used per witness and in the list).
WitnessAlertSerializer = type(
    inline_serializer(
        "WitnessAlert",
        {
            "witness": serializers.CharField(),
            "reason": serializers.ChoiceField(choices=["refused", "failing", "behind"]),
            "summary": serializers.CharField(),
            "opened_at": serializers.DateTimeField(),
        },
    )
)


class WitnessListView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="The witnesses that cosign our checkpoints: policy, cosigned size, lag, last error, open alerts",
        responses=inline_serializer(
            "Witnesses",
            {
                "policy": serializers.IntegerField(),
                "witnesses": inline_serializer(
                    "WitnessStatus",
                    {
                        "name": serializers.CharField(),
                        "url": serializers.CharField(),
                        "verifier_key": serializers.CharField(),
                        "cosigned_size": serializers.IntegerField(allow_null=True),
                        "behind": serializers.IntegerField(),
                        "last_attempt_at": serializers.DateTimeField(allow_null=True),
                        "last_success_at": serializers.DateTimeField(allow_null=True),
                        "last_error": serializers.CharField(),
                        "failures": serializers.IntegerField(),
                        "alert": WitnessAlertSerializer(allow_null=True),
                    },
                    many=True,
                ),
                "alerts": WitnessAlertSerializer(many=True),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        _, policy = witnessing.configured()
        statuses = witnessing.witness_statuses()
        alerts = [w["alert"] for w in statuses if w["alert"]]
        return Response({"policy": policy.threshold, "witnesses": statuses, "alerts": alerts})
