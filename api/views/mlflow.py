"""MLflow model registry webhooks: a signed notice that a version or an alias changed.

MLflow (3.3 and later) POSTs `{"entity", "action", "timestamp", "data"}` as JSON, with three
headers: `X-MLflow-Delivery-Id`, `X-MLflow-Timestamp` (Unix seconds) and `X-MLflow-Signature`,
"v1," and the base64 HMAC-SHA256, keyed with the webhook's secret, of
"<delivery id>.<timestamp>.<raw body>". The secret is MLFLOW_WEBHOOK_SECRET here and the
webhook's `secret` in MLflow.

Accepted, and imported (the version, and the aliases pointing at it):
- `model_version.created`, data {"name", "version", …};
- `model_version_alias.created`, data {"name", "alias", "version"}.
Every other event (registered_model.created, tag and alias deletions, prompts…) is acknowledged
and ignored: removing an alias does not end a deployment; ending one is a decision someone
records, with a reason, in the ledger.

No session, no CSRF, no token: the signature is the authentication. A missing signature is
401, a wrong or stale one 403, both in the API's one error shape. The import runs as
MLFLOW_IMPORT_USER in a Celery task (in-process without a broker), so the answer, 202, does
not wait for artifacts to download; it is idempotent, so a redelivery imports nothing twice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import error_body
from governance.mlflow_import.tasks import mlflow_version_import_task

SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_HEADER = "X-MLflow-Delivery-Id"
SIGNATURE_VERSION = "v1"
# MLflow's documentation has receivers refuse deliveries more than five minutes old, so that a
# captured delivery cannot be replayed later.
MAX_AGE_SECONDS = 300
IMPORTED_EVENTS = frozenset({"model_version.created", "model_version_alias.created"})


def signature_of(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """Return MLflow's signature header value for a delivery."""
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


class MlflowSignature(BasePermission):
    """Allow a request only when it carries a fresh, valid MLflow webhook signature."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        secret = settings.MLFLOW_WEBHOOK_SECRET
        if not secret:
            raise exceptions.PermissionDenied("MLflow webhooks are off: set MLFLOW_WEBHOOK_SECRET to receive them.")
        signature = request.headers.get(SIGNATURE_HEADER, "")
        timestamp = request.headers.get(TIMESTAMP_HEADER, "")
        delivery_id = request.headers.get(DELIVERY_HEADER, "")
        if not (signature and timestamp and delivery_id):
            raise exceptions.NotAuthenticated(
                f"Sign the delivery: {SIGNATURE_HEADER}, {TIMESTAMP_HEADER} and {DELIVERY_HEADER} are required."
            )
        expected = signature_of(secret, delivery_id, timestamp, request.body).encode()
        # Several space-separated signatures let a sender sign with an old and a new secret while
        # the secret rotates; compare_digest takes the same time wherever a mismatch is.
        if not any(
            hmac.compare_digest(expected, candidate.encode("utf-8", "replace")) for candidate in signature.split()
        ):
            raise exceptions.PermissionDenied("The signature does not match the body and the shared secret.")
        try:
            age = time.time() - int(timestamp)
        except ValueError:
            raise exceptions.PermissionDenied(f"{TIMESTAMP_HEADER} is not a Unix time in seconds.") from None
        if abs(age) > MAX_AGE_SECONDS:
            raise exceptions.PermissionDenied(
                f"The delivery is {int(abs(age))} seconds {'old' if age > 0 else 'in the future'}; "
                f"at most {MAX_AGE_SECONDS} are accepted."
            )
        return True


class WebhookDataSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=500)
    version = serializers.RegexField(r"^[0-9]{1,10}$", required=False)
    alias = serializers.CharField(max_length=256, required=False)


class WebhookInSerializer(serializers.Serializer):
    entity = serializers.CharField(max_length=100)
    action = serializers.CharField(max_length=100)
    timestamp = serializers.CharField(max_length=100, required=False)
    data = serializers.DictField()

    extra_properties = True  # MLflow's payload, which may grow fields of its own


WebhookOut = inline_serializer(
    "MlflowWebhookResult",
    {
        "event": serializers.CharField(),
        "status": serializers.ChoiceField(choices=["queued", "ignored"]),
        "model": serializers.CharField(required=False),
        "version": serializers.CharField(required=False),
        "reason": serializers.CharField(required=False),
    },
)


class MlflowWebhookView(APIView):
    authentication_classes = []
    permission_classes = [MlflowSignature]
    parser_classes = [JSONParser]

    def get_authenticate_header(self, request: Request) -> str:
        # Makes "no signature" a 401 (DRF answers 403 when no scheme is named).
        return f'{SIGNATURE_HEADER} realm="mlflow-webhook"'

    @extend_schema(
        summary="Receive an MLflow model registry webhook (HMAC-signed) and import the version it names",
        request=WebhookInSerializer,
        responses={202: WebhookOut, 200: WebhookOut},
        parameters=[
            OpenApiParameter(name, str, OpenApiParameter.HEADER, required=True)
            for name in (SIGNATURE_HEADER, TIMESTAMP_HEADER, DELIVERY_HEADER)
        ],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        # Parse exactly the bytes whose signature was checked.
        try:
            payload = json.loads(request.body)
        except (UnicodeDecodeError, ValueError):
            raise exceptions.ParseError("The body is not JSON.") from None
        envelope = WebhookInSerializer(data=payload)
        envelope.is_valid(raise_exception=True)
        event = f"{envelope.validated_data['entity']}.{envelope.validated_data['action']}"
        if event not in IMPORTED_EVENTS:
            return Response(
                {"event": event, "status": "ignored", "reason": "Only new versions and new aliases are imported."}
            )
        data = WebhookDataSerializer(data=envelope.validated_data["data"])
        data.is_valid(raise_exception=True)
        if "version" not in data.validated_data:
            raise exceptions.ValidationError({"data": ["This event needs the model version."]})
        missing = [name for name in ("MLFLOW_TRACKING_URI", "MLFLOW_IMPORT_USER") if not getattr(settings, name)]
        if missing:
            return Response(
                error_body("not_configured", f"The MLflow import is not set up: set {' and '.join(missing)}."),
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        name, version = data.validated_data["name"], data.validated_data["version"]
        mlflow_version_import_task.delay(name, version)
        return Response(
            {"event": event, "status": "queued", "model": name, "version": version},
            status=status.HTTP_202_ACCEPTED,
        )
